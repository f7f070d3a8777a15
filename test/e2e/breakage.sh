#!/usr/bin/env bash
# Shows that the end-to-end suite catches a broken extension: for each breakage, a copy of the .vsix with
# its package.json changed is run through the suite, which must fail. Exits 0 when every broken copy failed.
#   view:    the explorer's view id renamed (gowide.experiments -> gowide.experimentz)
#   command: a command id renamed in package.json only (gowide.runAll -> gowide.runAllStages)
set -uo pipefail
cd "$(dirname "$0")/../.."
VSIX="${GOWIDE_E2E_VSIX:-gowide-linux-x64.vsix}"
[ -f "$VSIX" ] || npm run package --silent -- linux-x64 >/dev/null
OUT="$(mktemp -d)"
status=0
for kind in view command; do
  python3 - "$VSIX" "$OUT/broken-$kind.vsix" "$kind" <<'PY'
import sys, zipfile
src, dst, kind = sys.argv[1:4]
renames = {
    'view': [('"gowide.experiments"', '"gowide.experimentz"'), ('view == gowide.experiments', 'view == gowide.experimentz')],
    'command': [('"gowide.runAll"', '"gowide.runAllStages"')],
}[kind]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == 'extension/package.json':
            text = data.decode()
            for old, new in renames:
                assert old in text, f'{old} not in package.json'
                text = text.replace(old, new)
            data = text.encode()
        zout.writestr(item, data)
PY
  echo "breakage $kind: running the suite on $OUT/broken-$kind.vsix"
  if GOWIDE_E2E_VSIX="$OUT/broken-$kind.vsix" GOWIDE_E2E_ARTIFACTS="$OUT/artifacts-$kind" npm run test:e2e >"$OUT/$kind.log" 2>&1; then
    echo "breakage $kind: NOT caught: the suite passed"
    status=1
  else
    echo "breakage $kind: caught:"
    grep -A2 '^  ✖' "$OUT/$kind.log" | head -3
  fi
done
exit $status
