# Sourced by the .ci/ scripts that run tests on a Node release other than the
# machine's: fetches it and puts it first on the PATH.
#
# Node comes from the npm registry (the only one reachable from CI) as the
# package node-<platform>-<arch>, whose bin/node is the official binary. Each
# release is kept in a cache outside the repo and reused.

node_package="$(node -p '`node-${process.platform}-${process.arch}`')"
node_cache="${BG_TASKS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-background-tasks/node}"
# Removed when the script exits, however it exits: a fetch that failed half-way,
# and whatever the sourcing script adds (its scratch copies).
cleanup_paths=()
trap 'rm -rf "${cleanup_paths[@]}"' EXIT

# Sets $release to the newest release matching $1 (22, 24.22, 24.22.3) and
# $bin to its bin/, fetching it if the cache lacks it. The registry is asked
# which release is newest each time, so a new patch release is picked up;
# `npm view` lists every match, in no promised order, hence sort -V. (Called
# directly, not in $(...), so that set -e holds inside it.)
fetch_node() {
  local matches dir tmp
  if ! matches="$(npm view "$node_package@$1" version --json)"; then
    echo "$0: no release of $node_package matches '$1'" >&2
    exit 1
  fi
  release="$(tr -d '[]", ' <<<"$matches" | grep . | sort -V | tail -n 1)"
  dir="$node_cache/$release"
  if [ ! -x "$dir/bin/node" ]; then
    echo "$0: fetching $node_package@$release into $node_cache" >&2
    mkdir -p "$node_cache"
    # Unpacked beside the cache entry and renamed into place, so an interrupted
    # fetch never leaves a half-written binary to be reused.
    tmp="$(mktemp -d "$node_cache/.fetch-XXXXXX")"
    cleanup_paths+=("$tmp")
    npm pack "$node_package@$release" --pack-destination "$tmp" --silent >/dev/null
    tar -xzf "$tmp/$node_package-$release.tgz" -C "$tmp" --strip-components=1 package/bin/node package/LICENSE
    rm -f "$tmp/$node_package-$release.tgz"
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  bin="$dir/bin"
}

# Fetches the newest release matching $1 and puts its bin/ first on the PATH,
# until leave_node. The tests spawn process.execPath (fixture apps, tsc) and
# `npm` from PATH (npm pack, whose prepack runs tsc); npm and tsc start with
# `#!/usr/bin/env node`, so this makes every one of them run on that release.
use_node() {
  local version
  fetch_node "$1"
  export PATH="$bin:$PATH"
  version="$(node --version)"
  if [ "$(command -v node)" != "$bin/node" ] || [ "$version" != "v$release" ]; then
    echo "$0: expected $bin/node, v$release; PATH gives $(command -v node), $version" >&2
    exit 1
  fi
}

leave_node() {
  PATH="${PATH#"$bin:"}"
}
