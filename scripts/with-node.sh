#!/usr/bin/env bash
# Runs a command with a Node.js Conveyor supports first on PATH: the machine's own when it is 22.12 or
# newer, else Node.js 24 LTS fetched once from the npm registry (the node-<os>-<arch> package carries
# the official binary, no install script) into a cache folder.
set -euo pipefail

supported() { node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' 2>/dev/null; }

if ! supported; then
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os= ;; esac
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch= ;; esac
  if [ -z "$os" ] || [ -z "$arch" ]; then
    echo "Conveyor needs Node.js 22.12 or newer (24 LTS recommended): install it and run again" >&2
    exit 1
  fi
  cache="${CONVEYOR_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conveyor/node-24-$os-$arch}"
  if [ ! -x "$cache/package/bin/node" ]; then
    echo "Node.js $(node --version 2>/dev/null || echo '(none)') is too old for Conveyor: fetching Node.js 24 (node-$os-$arch@24) into $cache" >&2
    rm -rf "$cache" && mkdir -p "$cache"
    tarball=$(cd "$cache" && npm pack --silent "node-$os-$arch@24")
    tar -xzf "$cache/$tarball" -C "$cache" package/bin/node package/LICENSE
    rm -f "$cache/$tarball"
  fi
  export PATH="$cache/package/bin:$PATH"
fi
exec "$@"
