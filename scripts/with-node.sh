#!/usr/bin/env bash
# Runs a command with another Node.js release first on PATH: the official binaries from the npm
# registry's node-linux-<arch> package, fetched once into ~/.cache/adl (nothing else is downloaded).
#
#   scripts/with-node.sh 24.22.3 pnpm test
set -euo pipefail
version=${1:?usage: scripts/with-node.sh VERSION COMMAND...}
shift
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "with-node: no node-linux package for $(uname -m)" >&2; exit 2 ;;
esac
home="${XDG_CACHE_HOME:-$HOME/.cache}/adl/node-$version-linux-$arch"
if [ ! -x "$home/bin/node" ]; then
  staging=$(mktemp -d)
  (cd "$staging" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar xzf node-linux-*.tgz)
  mkdir -p "$(dirname "$home")"
  rm -rf "$home"
  mv "$staging/package" "$home"
  rm -rf "$staging"
fi
PATH="$home/bin:$PATH" exec "$@"
