#!/usr/bin/env bash
# Micro-VM monitor benchmark: boot-to-init time and the monitor's resident memory without
# guest RAM, for bulkhead-vmm and for QEMU's microvm machine with the same kernel, initrd,
# vCPUs and memory, measured in one run of the test host (tools/test-host.sh), or directly
# where this machine's KVM boots Linux; plus the monitor's line count. Prints the markdown
# section of docs/benchmarks.md on stdout (bench/run.sh calls it); progress goes to stderr.
#
#   bash bench/vmm.sh BUILD           (BUILD holds bin/bulkhead-vmm)
#   BENCH_VMM_BOOTS=3 bash bench/vmm.sh build    for a quick look (default 15 boots each)
#
# BENCH_VMM_KERNEL: an ELF vmlinux to boot instead of tools/guest-kernel.sh's.
# BENCH_VMM_RAW: a file that gets the per-boot lines.
#
# Exit status 1 when nothing could be measured or a monitor failed every boot; the section
# printed then says why.
set -uo pipefail
BUILD=$(cd "${1:?usage: bench/vmm.sh BUILD}" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/.." && pwd)
BOOTS=${BENCH_VMM_BOOTS:-15}
VMM=${BULKHEAD_VMM:-$BUILD/bin/bulkhead-vmm}
# Seconds for the whole run in the test host; a boot there takes tens of seconds.
TIMEOUT=${BENCH_VMM_TIMEOUT:-$((600 + BOOTS * 240))}

where="inside the test host"
direct=0
if bash "$SRC/tools/kvm-usable.sh" 2>/dev/null; then
  where="on this machine's KVM"
  direct=1
fi
heading="## Micro-VM monitor: boot and memory ($where)"
fail() {
  printf '%s\n\nNot measured: %s\n' "$heading" "$*"
  echo "bench/vmm: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "needs root (the bench guest's initramfs holds /dev/console)"
[ -x "$VMM" ] || fail "$VMM not built"
for tool in gcc cpio gzip python3 qemu-system-x86_64; do
  command -v "$tool" >/dev/null || fail "$tool missing (run tools/deps.sh)"
done
if [ ! -x /bin/busybox ] || readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter'; then
  fail "/bin/busybox missing or not static (package busybox-static)"
fi
QEMU=$(realpath "$(command -v qemu-system-x86_64)")
# microvm's firmware, qboot, from where QEMU looks for it (Debian's QEMU asks for qboot.rom,
# upstream's for bios-microvm.bin); passed with -bios, so the test host needs only this file.
BIOS=""
for d in $("$QEMU" -L help 2>/dev/null); do
  for f in qboot.rom bios-microvm.bin; do
    [ -z "$BIOS" ] && [ -f "$d/$f" ] && BIOS=$(realpath "$d/$f")
  done
done
[ -n "$BIOS" ] || fail "microvm's firmware (qboot.rom) not found (package qemu-system-data)"

W=$(mktemp -d /tmp/bh-bench-vmm.XXXXXX)
trap 'rm -rf "$W"' EXIT

echo "bench/vmm: building boot-timer and the bench guest" >&2
gcc -static -O2 -std=c11 -Wall -Wextra -Werror -Wconversion -Wsign-conversion -Wshadow \
  -o "$W/boot-timer" "$SRC/bench/boot-timer.c" 2>"$W/gcc.log" ||
  fail "bench/boot-timer.c does not build: $(head -3 "$W/gcc.log")"
if [ -n "${BENCH_VMM_KERNEL:-}" ]; then
  KERNEL=$BENCH_VMM_KERNEL
else
  kdir=$(bash "$SRC/tools/guest-kernel.sh") || fail "the guest kernel does not build (tools/guest-kernel.sh)"
  KERNEL=$kdir/vmlinux
fi
[ -f "$KERNEL" ] || fail "no guest kernel at $KERNEL"

# The bench guest: static busybox and an /init whose first action prints the marker, then
# sleeps so the memory can be sampled, then resets the machine.
root=$W/guest
mkdir -p "$root"/{bin,dev}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cat >"$root/init" <<'EOF'
#!/bin/sh
/bin/busybox echo BH-BOOT-MARKER
/bin/busybox sleep 3
/bin/busybox reboot -f
EOF
chmod 755 "$root/init"
mknod -m 600 "$root/dev/console" c 5 1
INITRD=$W/initrd.cpio.gz
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
  gzip -9n >"$INITRD"

echo "bench/vmm: $BOOTS boots each of bulkhead-vmm and QEMU microvm ($where)" >&2
start=$(date +%s)
bash "$SRC/tools/test-host.sh" --direct --mem 1024 --smp 2 --timeout "$TIMEOUT" --stall 300 \
  --file "$W/boot-timer" --file "$VMM" --file "$QEMU" --file "$BIOS" --file "$KERNEL" \
  --file "$INITRD" --file "$SRC/bench/vmm-in-host.sh" -- \
  sh "$SRC/bench/vmm-in-host.sh" "$W/boot-timer" "$VMM" "$QEMU" "$KERNEL" "$INITRD" "$BIOS" "$BOOTS" \
  >"$W/boots.txt" 2>"$W/test-host.err"
rc=$?
elapsed=$(($(date +%s) - start))
cp "$W/boots.txt" "${BENCH_VMM_RAW:-/dev/null}" 2>/dev/null
[ $rc -eq 0 ] || fail "tools/test-host.sh exit $rc after ${elapsed}s: $(tail -c 600 "$W/boots.txt" "$W/test-host.err" | tr '\n' ' ')"

# What the line count covers: the monitor's own sources, without unit tests and their
# helpers (test_*.h, *_test_images.h) and the fuzzing entry points.
mapfile -t vmm_files < <(cd "$SRC" && find src/vmm \( -name '*.cc' -o -name '*.h' \) \
  ! -name '*_test.cc' ! -name 'test_*.h' ! -name '*_test_images.h' ! -name 'fuzz_support.*')
vmm_lines=$(cd "$SRC" && cat "${vmm_files[@]}" | wc -l)
vmm_count=${#vmm_files[@]}
shared_lines=$(cd "$SRC" && find src/base src/seccomp \( -name '*.cc' -o -name '*.h' \) \
  ! -name '*_test.cc' -print0 | xargs -0 cat | wc -l)

kernel_from="guest/kernel.config (tools/guest-kernel.sh)"
[ -n "${BENCH_VMM_KERNEL:-}" ] && kernel_from="$BENCH_VMM_KERNEL"
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SRC" diff --quiet HEAD -- src/vmm 2>/dev/null || commit="$commit with changes to src/vmm"
python3 - "$W/boots.txt" "$heading" "$BOOTS" "$elapsed" "$direct" "$vmm_lines" "$vmm_count" \
  "$shared_lines" "$("$QEMU" --version | head -1)" "$commit" "$kernel_from" \
  "$(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC')" <<'PY'
import math, random, sys
(path, heading, boots, elapsed, direct, vmm_lines, vmm_count, shared_lines, qemu_version,
 commit, kernel_from, when) = sys.argv[1:13]
runs = {"bvmm": [], "qemu": []}
failed = {"bvmm": [], "qemu": []}
logs = {}
lines = open(path, errors="replace").read().split("\n")
# A frozen first attempt is followed by a second, complete one: only the last counts.
starts = [i for i, l in enumerate(lines) if l.strip() == "BENCH-START"]
for line in lines[starts[-1] + 1 if starts else 0:]:
    f = line.rstrip("\n").split(" ")
    if f[0] == "BENCH" and len(f) > 3 and f[1] in runs:
        kv = dict(x.split("=", 1) for x in f[3:] if "=" in x)
        if f[2] == "0":
            continue  # the warm-up boot
        if kv.get("rc") == "0" and float(kv.get("boot_ms", -1)) >= 0:
            runs[f[1]].append(kv)
        else:
            failed[f[1]].append((f[2], kv))
    elif f[0] == "LOG" and len(f) > 2:
        logs.setdefault((f[1], f[2].rstrip(":")), []).append(" ".join(f[3:]))

def median(v):
    v = sorted(v)
    n = len(v)
    return (v[(n - 1) // 2] + v[n // 2]) / 2 if n else float("nan")

def p90(v):  # nearest rank
    v = sorted(v)
    return v[max(0, math.ceil(0.9 * len(v)) - 1)] if v else float("nan")

def col(m, key):
    return [float(r[key]) for r in runs[m] if float(r.get(key, -1)) >= 0]

def mib(kib):
    return "%.2f" % (kib / 1024)

stats = {}
for m in runs:
    boot = col(m, "boot_ms")
    rss = col(m, "rss_kib")
    pss = col(m, "pss_kib")
    if m == "bvmm":  # the waiting parent is a process per VM too
        pss = [float(r["pss_kib"]) + float(r["parent_pss_kib"]) for r in runs[m]
               if float(r["pss_kib"]) >= 0 and float(r["parent_pss_kib"]) >= 0]
    stats[m] = dict(n=len(boot), boot=median(boot), p90=p90(boot), min=min(boot, default=math.nan),
                    rss=median(rss), pss=median(pss), guest=median(col(m, "guest_rss_kib")),
                    parent=median(col(m, "parent_rss_kib")))
b, q = stats["bvmm"], stats["qemu"]
here = "this machine's KVM" if direct == "1" else "one run of the test host"
print(heading)
print(f"""
Measured {when}: {boots} timed boots of each monitor, alternating
(bulkhead-vmm, QEMU, bulkhead-vmm, ...) after one untimed warm-up boot each, all in {here}
({elapsed} s in all).""")
if direct != "1":
    print("""The test host is QEMU in software emulation with an emulated SVM CPU and KVM inside
it (docs/test-host.md): the monitors, their KVM and the guests all run emulated, so absolute
times are many times those on hardware, and other work on this machine shows up as noise.
Compare the two monitors within this table (the ratios), not the milliseconds with other
machines.""")
print(f"""
- **Guest**: the ELF vmlinux of {kernel_from},
  entered through PVH by both monitors; 1 vCPU, 128 MiB, no disks, the 8250 serial console
  on the monitor's stdout (a pipe). initramfs: busybox-static whose /init prints
  `BH-BOOT-MARKER` as its first action, sleeps 3 s and calls `reboot -f`. Command line
  `console=ttyS0 quiet`, plus what each monitor needs to end the VM: bulkhead-vmm appends
  `reboot=k,panic_warm panic=-1 8250.nr_uarts=1` itself; QEMU gets
  `reboot=t panic=-1 8250.nr_uarts=1` (microvm has no i8042; `-no-reboot` makes the triple
  fault QEMU's exit).
- **bulkhead-vmm**: `bulkhead-vmm --kernel vmlinux --initrd initrd --vcpus 1 --memory 128
  --cmdline "console=ttyS0 quiet"`, jailed (namespaces, pivot onto an empty tmpfs, no
  capabilities, seccomp), as it always runs.
- **QEMU**: `qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,acpi=off -accel kvm
  -cpu host -smp 1 -m 128 -nodefaults -no-user-config -nographic -no-reboot -serial stdio
  -bios qboot.rom -kernel vmlinux -initrd initrd -append ...`, with microvm's own firmware
  (qboot) and its default in-kernel PIC, IOAPIC and PIT, which bulkhead-vmm has too; no RTC
  and no ACPI, which bulkhead-vmm lacks.
  {qemu_version}.
- **Boot to marker**: bench/boot-timer.c takes CLOCK_MONOTONIC just before it forks and
  execs the monitor and again when the marker arrives on the monitor's stdout: monitor
  start-up, firmware (QEMU), kernel boot, unpacking the initramfs, the first line of /init.
- **Monitor RSS without guest RAM**: 1 s after the marker, the sum of Rss over the mappings
  in /proc/PID/smaps of the process that runs the VM, leaving out the guest RAM mapping (the
  anonymous mapping of exactly 128 MiB). For bulkhead-vmm that is the jailed child; its
  parent, which only waits and forwards signals, is shown apart. It holds the binary's and
  libraries' resident pages, heap, stacks and the vCPU's kvm_run page; memory the host kernel
  allocates for KVM is in neither. **PSS** is the proportional set size over all of the
  monitor's processes (bulkhead-vmm: child and parent, which share pages after the fork).
""")
print("| monitor | boots ok | median boot ms | p90 boot ms | min boot ms | median RSS without guest RAM, MiB | median PSS, all processes, MiB | guest RAM resident, MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for m, name in (("bvmm", "bulkhead-vmm"), ("qemu", "QEMU microvm")):
    s = stats[m]
    if s["n"] == 0:
        print(f"| {name} | 0 of {boots} | failed | | | | | |")
        continue
    print(f"| {name} | {s['n']} of {boots} | {s['boot']:.1f} | {s['p90']:.1f} | {s['min']:.1f} | "
          f"{mib(s['rss'])} | {mib(s['pss'])} | {mib(s['guest'])} |")
print("\nEvery timed boot, ms, in order:\n")
for m, name in (("bvmm", "bulkhead-vmm"), ("qemu", "QEMU microvm")):
    print(f"- {name}: " + (", ".join(r["boot_ms"] for r in runs[m]) or "none"))
if b["n"]:
    print(f"\nbulkhead-vmm's waiting parent: median RSS {mib(b['parent'])} MiB (mostly pages it "
          "shares with the child, which the PSS column splits between them).")
if b["n"] and q["n"]:
    rss_ratio = b["rss"] / q["rss"]
    yes = lambda ok: "met" if ok else "**not met**"

    # How far noise moves a ratio of medians: resample each monitor's boots (bootstrap,
    # fixed seed), 5th to 95th percentile of the ratio.
    def interval(x, y):
        rng = random.Random(1)
        r = sorted(median(rng.choices(x, k=len(x))) / median(rng.choices(y, k=len(y)))
                   for _ in range(2000))
        return r[100], r[1899]

    def verdict(value, low, high, limit):
        if high <= limit:
            return "met"
        if low > limit:
            return "**not met**"
        return ("met" if value <= limit else "**not met**") + ", within the noise"

    boot_ratio = b["boot"] / q["boot"]
    boot_lo, boot_hi = interval(col("bvmm", "boot_ms"), col("qemu", "boot_ms"))
    rss_lo, rss_hi = interval(col("bvmm", "rss_kib"), col("qemu", "rss_kib"))
    print(f"""
| ratio, bulkhead-vmm / QEMU microvm | value | 90% interval | target | |
| --- | ---: | ---: | --- | --- |
| median boot to marker | {boot_ratio:.2f} | {boot_lo:.2f} to {boot_hi:.2f} | at most 1 | {verdict(boot_ratio, boot_lo, boot_hi, 1)} |
| median RSS without guest RAM | {rss_ratio:.3f} | {rss_lo:.3f} to {rss_hi:.3f} | at most 0.25 | {verdict(rss_ratio, rss_lo, rss_hi, 0.25)} |
| median RSS without guest RAM, MiB | {mib(b['rss'])} | | at most 5 | {yes(b['rss'] <= 5 * 1024)} |

90% interval: the 5th to 95th percentile of the ratio over 2000 bootstrap resamplings of
each monitor's boots; where it straddles the target, this run cannot tell the two apart.""")
for m, name in (("bvmm", "bulkhead-vmm"), ("qemu", "QEMU microvm")):
    for i, kv in failed[m]:
        print(f"\nFailed {name} boot {i}: exit status {kv.get('rc', '?')}, "
              f"boot_ms {kv.get('boot_ms', '?')}. Last console lines:\n")
        for l in logs.get((m, i), ["(none)"])[-12:]:
            print(f"    {l}")
print(f"""
Source size: bulkhead-vmm is {vmm_lines} lines of C++ (`wc -l` over the {vmm_count} .cc and .h
files under src/vmm, without unit tests, their helpers and the fuzzing entry points; comments
and blank lines included). It also links {shared_lines} lines of the project's shared libraries
(src/base, src/seccomp) and parts of src/jail and src/oci. Firecracker: about 121k lines of
Rust (published).

bulkhead-vmm built from commit {commit}.""")
sys.exit(0 if b["n"] and q["n"] else 1)
PY
