#!/usr/bin/env bash
# Runs the Jest suites and the CommonJS smoke test again under other Node
# releases, because users run Nest 12 apps on the LTS lines, 22, 24 and 26,
# while the machine's own node may be another (CI's is 20, past its end of life).
#
#   npm run test:node                     # newest 22.x, 24.x and 26.x, as CI does
#   bash .ci/test-on-node.sh 22 24 26     # the same
#   bash .ci/test-on-node.sh 24.22.3      # an exact release
#
# Run it after `npm ci && npm test`: it uses node_modules/ and the dist/ that
# `npm test` builds, and does not rebuild or type-check (that is Node-independent).
# Node releases come from the npm registry (.ci/node.sh). Any failure, in the
# fetch or in a test, makes the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/node.sh

if [ "$#" -eq 0 ]; then
  echo "usage: $0 VERSION... (e.g. 22 24 26)" >&2
  exit 2
fi
if [ ! -f dist/index.js ] || [ ! -f node_modules/jest/bin/jest.js ]; then
  echo "test-on-node: run 'npm ci && npm test' first (dist/ or node_modules/ is missing)" >&2
  exit 1
fi

failed=()
summary=()
for wanted in "$@"; do
  use_node "$wanted"
  version="$(node --version)"
  echo
  echo "=== Node $version ($bin/node) ==="
  start=$SECONDS
  # The same commands as the "test:jest" and "test:cjs" scripts in package.json.
  node --experimental-vm-modules --expose-gc node_modules/jest/bin/jest.js || failed+=("Node $version: Jest")
  node test/smoke/require.cjs || failed+=("Node $version: CommonJS smoke test")
  summary+=("Node $version: $((SECONDS - start)) s")
  leave_node
done

echo
printf 'test-on-node: %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'test-on-node: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "test-on-node: all passed on $*"
