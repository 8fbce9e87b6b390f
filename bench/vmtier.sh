#!/usr/bin/env bash
# VM tier benchmark: `bulkhead run` of /bin/true in the vm tier beside the container tier,
# measured in one run of the test host (tools/test-host.sh), or directly where this machine's
# KVM boots Linux, and the vm tier's run broken into phases from the runtime's debug log.
# Prints the markdown section of docs/benchmarks.md on stdout (bench/run.sh calls it);
# progress goes to stderr.
#
#   bash bench/vmtier.sh BUILD        (BUILD holds bin/bulkhead, bin/bulkhead-vmm,
#                                      lib/bulkhead/initrd.img and rootfs)
#   BENCH_VMTIER_RUNS=5 bash bench/vmtier.sh build    for a quick look (default 20 runs each)
#
# Exit status 1 when nothing could be measured; the section printed then says why.
set -uo pipefail
BUILD=$(cd "${1:?usage: bench/vmtier.sh BUILD}" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_VMTIER_RUNS:-20}
PHASE_RUNS=${BENCH_VMTIER_PHASE_RUNS:-5}
TIMEOUT=${BENCH_VMTIER_TIMEOUT:-$((600 + RUNS * 60))}
where="inside the test host"
direct=0
if bash "$SRC/tools/kvm-usable.sh" 2>/dev/null; then
  where="on this machine's KVM"
  direct=1
fi
heading="## VM tier beside the container tier: \`run\` of /bin/true ($where)"
fail() {
  printf '%s\n\nNot measured: %s\n' "$heading" "$*"
  echo "bench/vmtier: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root"
BH=$BUILD/bin/bulkhead VMM=$BUILD/bin/bulkhead-vmm INITRD=$BUILD/lib/bulkhead/initrd.img
ROOTFS=$BUILD/rootfs
for f in "$BH" "$VMM"; do [ -x "$f" ] || fail "$f not built"; done
[ -f "$INITRD" ] || fail "$INITRD not built"
[ -x "$ROOTFS/bin/busybox" ] || fail "no rootfs at $ROOTFS (make rootfs)"
MKFS=$(command -v mkfs.erofs) || fail "mkfs.erofs missing (run tools/deps.sh)"
for tool in gcc python3; do command -v "$tool" >/dev/null || fail "$tool missing"; done
kdir=$(bash "$SRC/tools/guest-kernel.sh") || fail "the guest kernel does not build (tools/guest-kernel.sh)"
W=$(mktemp -d /tmp/bh-bench-vmtier.XXXXXX)
trap 'rm -rf "$W"' EXIT
gcc -static -O2 -std=c11 -Wall -Wextra -Werror -Wconversion -Wsign-conversion -Wshadow \
  -o "$W/run-timer" "$SRC/bench/run-timer.c" 2>"$W/gcc.log" ||
  fail "bench/run-timer.c does not build: $(head -3 "$W/gcc.log")"

# Both tiers run the same config: bulkhead's hardened default spec, /bin/true, no terminal.
(cd "$W" && "$BH" spec >/dev/null) || fail "bulkhead spec failed"
mkdir -p "$W/configs"
python3 - "$W/config.json" "$W/configs" <<'PY' || fail "the bench configs are not written"
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": "@ROOTFS@", "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[2] + "/container.json", "w"))
c["annotations"] = {"run.bulkhead.isolation": "vm"}
json.dump(c, open(sys.argv[2] + "/vm.json", "w"))
PY

echo "bench/vmtier: $RUNS runs each of the container and the vm tier ($where)" >&2
start=$(date +%s)
bash "$SRC/tools/test-host.sh" --direct --mem 1536 --smp 2 --timeout "$TIMEOUT" --stall 300 \
  --file "$W/run-timer" --file "$BH" --file "$VMM" --file "$kdir/vmlinux" --file "$INITRD" \
  --file "$MKFS" --dir "$ROOTFS" --dir "$W/configs" --file "$SRC/bench/vmtier-in-host.sh" -- \
  sh "$SRC/bench/vmtier-in-host.sh" "$W/run-timer" "$BH" "$VMM" "$kdir/vmlinux" "$INITRD" \
  "$ROOTFS" "$W/configs" "$RUNS" "$PHASE_RUNS" >"$W/runs.txt" 2>"$W/test-host.err"
rc=$?
elapsed=$(($(date +%s) - start))
[ $rc -eq 0 ] || fail "tools/test-host.sh exit $rc after ${elapsed}s: $(tail -c 600 "$W/runs.txt" "$W/test-host.err" | tr '\n' ' ')"
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SRC" diff --quiet HEAD -- src 2>/dev/null || commit="$commit with changes to src"
python3 "$SRC/bench/vmtier_report.py" "$W/runs.txt" "$heading" "$RUNS" "$elapsed" "$direct" \
  "$commit" "$(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC')"
