#!/usr/bin/env bash
# Runs the Jest suites against both ends of the Nest releases that the peer
# ranges allow (@nestjs/* ^12, @nestjs/graphql ^14): each package's oldest
# minor, and its newest release. The lockfile pins one set in between; users'
# apps have any.
#
#   npm run test:nest                        # as CI: oldest on this machine's node, newest on Node 26
#   bash .ci/test-nest-versions.sh oldest    # one end, on this machine's node
#   bash .ci/test-nest-versions.sh newest:26 # one end, on the newest Node 26.x
#
# The newest end runs on Node 26 because the newest @nestjs/platform-fastify
# pulls in ES-module-only packages (path-to-regexp 9 through @fastify/middie,
# content-disposition 3 through @fastify/static), which Jest loads only on
# Node >= 24.9: below, it fails them with "Must use import to load ES Module".
#
# Each end works in a scratch copy of the working tree (what git tracks, and
# what it does not ignore), outside the repo: `npm ci`, then
# `npm install --no-save` of the releases that .ci/nest-versions.mjs picks
# (the lockfile keeps everything else), then the build, the type-check and
# Jest. The copy is removed afterwards, and kept when a step fails, to look
# at. Node releases come from the npm registry (.ci/node.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/node.sh

if [ "$#" -eq 0 ]; then
  echo "usage: $0 oldest|newest[:NODE]... (e.g. oldest newest:26)" >&2
  exit 2
fi

failed=()
summary=()
for arg in "$@"; do
  end="${arg%%:*}"
  wanted_node="${arg#"$end"}"
  wanted_node="${wanted_node#:}"
  start=$SECONDS
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/bg-tasks-nest-$end-XXXXXX")"
  cleanup_paths+=("$scratch")
  echo
  echo "=== Nest, $end releases, in $scratch ==="
  pins=()
  while IFS= read -r pin; do pins+=("$pin"); done < <(node .ci/nest-versions.mjs "$end")
  printf '  %s\n' "${pins[@]}"

  # `git ls-files` lists deleted files too, which tar would fail on.
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
    tar --null -T - -cf - | tar -xf - -C "$scratch"

  [ -z "$wanted_node" ] || use_node "$wanted_node"
  # A subshell, so that a failing step ends this end only; set -e is on inside
  # it, and off around it (it would be off inside too, were the subshell tested
  # by an if or ||).
  set +e
  (
    set -e
    cd "$scratch"
    npm ci --no-audit --no-fund --loglevel=error
    # package.json's overrides hold back what Jest cannot load below Node 24.9
    # (@fastify/static 10.1.3, before content-disposition 3): the newest end
    # gets what a fresh install of today gets. The typeorm override stays: it
    # settles typeorm's optional ioredis 5 peer on our ioredis 6 (tests only).
    [ "$end" != newest ] || npm pkg delete 'overrides[@fastify/static]'
    npm install --no-save --no-audit --no-fund --loglevel=error "${pins[@]}"
    # What npm resolved, not what was asked: a peer conflict it settled otherwise shows here.
    for pin in "${pins[@]}"; do
      name="${pin%@*}"
      got="$(node -p "require('./node_modules/$name/package.json').version")"
      if [ "$name@$got" != "$pin" ]; then
        echo "test-nest-versions: asked for $pin, npm installed $got" >&2
        exit 1
      fi
    done
    npm run build --silent # Jest's worker processes run dist/
    # Both run, whichever fails, so that one run reports both.
    ok=true
    npm run typecheck --silent || ok=false
    echo "--- Jest on Node $(node --version)"
    # The same command as the "test:jest" script in package.json.
    node --experimental-vm-modules --expose-gc node_modules/jest/bin/jest.js || ok=false
    $ok
  )
  status=$?
  set -e
  [ -z "$wanted_node" ] || leave_node
  if [ "$status" -eq 0 ]; then
    rm -rf "$scratch"
    result="passed"
  else
    # Kept, to look at: taken off the list that the EXIT trap removes.
    kept=()
    for path in "${cleanup_paths[@]}"; do [ "$path" = "$scratch" ] || kept+=("$path"); done
    cleanup_paths=("${kept[@]}")
    failed+=("$arg (kept: $scratch)")
    result="FAILED"
  fi
  summary+=("$arg: $result in $((SECONDS - start)) s")
done

echo
printf 'test-nest-versions: %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'test-nest-versions: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "test-nest-versions: all passed ($*)"
