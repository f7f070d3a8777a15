#!/usr/bin/env bash
# One-shot check of gowide's WebGPU path on an NVIDIA machine with no network and no Node (issue 14):
# what scripts/gpu/prepare.sh packed into .gpu-carry/ is unpacked, `gowide info --backend webgpu
# --json` names the adapter, then the GPU bench (scripts/bench/gpu.ts) times the reference models,
# thin and 4x wide, at batch 128 and 512 on webgpu beside PyTorch CUDA and prints the ratios.
# Results go to $OUT (the device tool's folder; else /tmp/gowide-gpu-check): info.json,
# gpu-bench.json, check.log. Under 8 minutes: the bench stops starting models at a deadline.
#
#   bash scripts/gpu/check.sh            # on the GPU machine, from the repository root
#   scripts/gpu/check.sh --smoke         # here, without a GPU: SwiftShader against PyTorch CPU, tiny
#                                        # batches and steps; every step but the NVIDIA ones runs
set -uo pipefail
cd "$(dirname "$0")/../.."
SMOKE=0
[[ ${1:-} == --smoke ]] && SMOKE=1
BUDGET_SECONDS=480
OUT=${OUT:-/tmp/gowide-gpu-check}
CARRY=.gpu-carry
# Unpacked into .gpu-run/ (git-ignored, never carried: Node alone is 99 MB): bench-gpu.js at
# .gpu-run/dist/ finds the repository two folders up (scripts/bench/torch_bench.py, git).
RUN=.gpu-run
rm -rf "$RUN"
mkdir -p "$RUN"
mkdir -p "$OUT"
exec > >(tee "$OUT/check.log") 2>&1
say() { echo "[check ${SECONDS}s] $*"; }
fail() { say "FAILED: $*"; exit 1; }

[[ -f $CARRY/node.xz && -f $CARRY/app.tar.xz ]] || fail "$CARRY/ is missing or incomplete: run scripts/gpu/prepare.sh where there is network, and carry .gpu-carry"
[[ -f $CARRY/MANIFEST ]] && sed 's/^/  /' "$CARRY/MANIFEST"

# --- Node and the bundles (python3 unpacks: xz may be missing there).
say "unpacking Node, the bundles and Dawn into $RUN"
python3 - "$CARRY" "$RUN" <<'PY' || fail "unpacking $CARRY"
import lzma, os, shutil, sys, tarfile
carry, run = sys.argv[1:]
with lzma.open(os.path.join(carry, "node.xz")) as source, open(os.path.join(run, "node"), "wb") as target:
    shutil.copyfileobj(source, target)
os.chmod(os.path.join(run, "node"), 0o755)
with tarfile.open(os.path.join(carry, "app.tar.xz")) as archive:
    archive.extractall(run)
PY
NODE=$RUN/node
say "node $("$NODE" --version)"

# --- The Vulkan loader: the carried Debian libvulkan1, unpacked (not installed).
deb=$(ls "$PWD/$CARRY"/libvulkan1_*.deb 2>/dev/null | head -1)
[[ -n $deb ]] || fail "no libvulkan1 .deb in $CARRY"
if command -v dpkg-deb >/dev/null; then
  dpkg-deb -x "$deb" "$RUN/vulkan" || fail "dpkg-deb -x $deb"
else
  (mkdir -p "$RUN/vulkan" && cd "$RUN/vulkan" && ar x "$deb" && tar -xf data.tar.*) || fail "unpacking $deb"
fi
export LD_LIBRARY_PATH=$PWD/$RUN/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
say "Vulkan loader: $(ls "$RUN"/vulkan/usr/lib/x86_64-linux-gnu/libvulkan.so.1.* | xargs -n1 basename)"

# --- The Vulkan driver (ICD).
if ((SMOKE)); then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  [[ -f $VK_ICD_FILENAMES ]] || fail "smoke: SwiftShader's ICD $VK_ICD_FILENAMES is missing (apt-get install chromium)"
  say "smoke: SwiftShader ($VK_ICD_FILENAMES), PyTorch on the CPU"
else
  # The loader searches the standard icd.d folders; NVIDIA's container runtime puts its ICD elsewhere.
  NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  found=$(ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* /usr/local/share/vulkan/icd.d/nvidia* 2>/dev/null | head -1)
  if [[ -z ${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-} && -z $found && -f $NVIDIA_ICD ]]; then
    export VK_DRIVER_FILES=$NVIDIA_ICD
  fi
  say "NVIDIA ICD: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-${found:-none found}}}"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | sed 's/^/  /'
fi
# The bench runs PyTorch with /usr/bin/python3 (Debian's python3-torch) unless told otherwise: there,
# the python3 on PATH is the one with torch.
((SMOKE)) || export GOWIDE_BENCH_PYTHON=$(command -v python3)
"${GOWIDE_BENCH_PYTHON:-/usr/bin/python3}" -c 'import sys, torch; print("  torch", torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available(), "python", sys.executable)' || say "no torch in ${GOWIDE_BENCH_PYTHON:-/usr/bin/python3}"

# --- gowide info.
say "gowide info --backend webgpu --json"
"$NODE" "$RUN/dist/cli.js" info --backend webgpu --json >"$OUT/info.json" 2>"$OUT/info.stderr"
say "info exit $? ($(wc -c <"$OUT/info.stderr") bytes on stderr)"
"$NODE" -e '
  const info = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const webgpu = info.backends.find((b) => b.name === "webgpu");
  console.log(`  active: ${info.active}; ${info.device ?? "no device"}`);
  const a = webgpu?.adapter;
  console.log(a ? `  webgpu adapter: ${a.name} (${a.kind}), ${a.driver}, maxBufferSize ${a.limits.maxBufferSize}` : `  webgpu: ${webgpu?.reason ?? "not probed"}`);
' "$OUT/info.json" || say "info.json is not what was expected: $(head -c 300 "$OUT/info.json")"

# --- The bench, within what is left of the budget (the memory trace and the write need ~60 s).
deadline=$((BUDGET_SECONDS - SECONDS - 90))
if ((SMOKE)); then
  args=(--batches 4,8 --seconds 0.2 --models mlp --torch-device cpu --torch-configs 1+1 --peak-size 128 --skip-memory)
else
  args=(--batches 128,512 --seconds 3 --torch-device cuda)
fi
say "bench: ${args[*]} --deadline-seconds $deadline"
label="scripts/gpu/check.sh"
((SMOKE)) && label+=" --smoke"
"$NODE" "$RUN/dist/bench-gpu.js" "${args[@]}" --deadline-seconds "$deadline" --label "$label" --out "$OUT/gpu-bench.json"
status=$?
say "bench exit $status; $OUT: $(ls "$OUT" | tr '\n' ' ')"
((SECONDS <= BUDGET_SECONDS)) || say "over the ${BUDGET_SECONDS} s budget"
say "done in ${SECONDS} s"
exit $status
