#!/usr/bin/env bash
# Runs the Jest suites and the CommonJS smoke test again under other Node
# releases, because users run Nest 12 apps on Node 22 and 24 while the machine's
# own node may be another (CI's is 20, past its end of life).
#
#   npm run test:node                     # newest 22.x and 24.x, as CI does
#   bash .ci/test-on-node.sh 22 24        # the same
#   bash .ci/test-on-node.sh 24.22.3      # an exact release
#
# Run it after `npm ci && npm test`: it uses node_modules/ and the dist/ that
# `npm test` builds, and does not rebuild or type-check (that is Node-independent).
#
# Node comes from the npm registry (the only one reachable from CI) as the
# package node-<platform>-<arch>, whose bin/node is the official binary. Each
# release is kept in a cache outside the repo and reused. Any failure, in the
# fetch or in a test, makes the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  echo "usage: $0 VERSION... (e.g. 22 24)" >&2
  exit 2
fi
if [ ! -f dist/index.js ] || [ ! -f node_modules/jest/bin/jest.js ]; then
  echo "test-on-node: run 'npm ci && npm test' first (dist/ or node_modules/ is missing)" >&2
  exit 1
fi

package="$(node -p '`node-${process.platform}-${process.arch}`')"
cache="${BG_TASKS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-background-tasks/node}"
mkdir -p "$cache"
tmp=""
trap 'rm -rf "$tmp"' EXIT # a fetch that failed half-way

# Sets $release to the newest release matching $1 and $bin to its bin/,
# fetching it if the cache lacks it. The registry is asked which release is
# newest each time, so a new patch release is picked up; `npm view` lists every
# match, in no promised order, hence sort -V. (Called directly, not in $(...),
# so that set -e holds inside it.)
fetch_node() {
  local matches dir
  if ! matches="$(npm view "$package@$1" version --json)"; then
    echo "test-on-node: no release of $package matches '$1'" >&2
    exit 1
  fi
  release="$(tr -d '[]", ' <<<"$matches" | grep . | sort -V | tail -n 1)"
  dir="$cache/$release"
  if [ ! -x "$dir/bin/node" ]; then
    echo "test-on-node: fetching $package@$release into $cache" >&2
    # Unpacked beside the cache entry and renamed into place, so an interrupted
    # fetch never leaves a half-written binary to be reused.
    tmp="$(mktemp -d "$cache/.fetch-XXXXXX")"
    npm pack "$package@$release" --pack-destination "$tmp" --silent >/dev/null
    tar -xzf "$tmp/$package-$release.tgz" -C "$tmp" --strip-components=1 package/bin/node package/LICENSE
    rm -f "$tmp/$package-$release.tgz"
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  bin="$dir/bin"
}

failed=()
summary=()
for wanted in "$@"; do
  fetch_node "$wanted"
  # The tests spawn process.execPath (fixture apps, tsc) and `npm` from PATH
  # (npm pack, whose prepack runs tsc); npm and tsc start with
  # `#!/usr/bin/env node`, so putting this bin/ first makes every one of them
  # run on the Node under test.
  export PATH="$bin:$PATH"
  version="$(node --version)"
  if [ "$(command -v node)" != "$bin/node" ] || [ "$version" != "v$release" ]; then
    echo "test-on-node: expected $bin/node, v$release; PATH gives $(command -v node), $version" >&2
    exit 1
  fi
  echo
  echo "=== Node $version ($bin/node) ==="
  start=$SECONDS
  # The same commands as the "test:jest" and "test:cjs" scripts in package.json.
  node --experimental-vm-modules --expose-gc node_modules/jest/bin/jest.js || failed+=("Node $version: Jest")
  node test/smoke/require.cjs || failed+=("Node $version: CommonJS smoke test")
  summary+=("Node $version: $((SECONDS - start)) s")
  PATH="${PATH#"$bin:"}"
done

echo
printf 'test-on-node: %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'test-on-node: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "test-on-node: all passed on $*"
