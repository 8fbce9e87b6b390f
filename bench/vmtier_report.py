"""The markdown section of the vm-tier benchmark (bench/vmtier.sh), from the lines that
bench/vmtier-in-host.sh printed: "BENCH TIER N ms=.. rc=.." per run (N = 0 is the warm-up)
and "PHASE N <json log line>" for the phase runs."""
import json
import re
import sys
from datetime import datetime

path, heading, runs, elapsed, direct, commit, when = sys.argv[1:8]

timed = {"container": [], "vm": []}
failed = {"container": 0, "vm": 0}
phase_logs = {}
logs = {}
lines = open(path, errors="replace").read().split("\n")
# A frozen first attempt is followed by a second, complete one: only the last counts.
starts = [i for i, l in enumerate(lines) if l.strip() == "BENCH-START"]
for line in lines[starts[-1] + 1 if starts else 0:]:
    f = line.rstrip("\n").split(" ", 3)
    if f[0] == "BENCH" and len(f) == 4 and f[1] in timed:
        kv = dict(x.split("=", 1) for x in f[3].split() if "=" in x)
        if f[2] == "0":
            continue  # the warm-up: builds the rootfs image
        if kv.get("rc") == "0" and "ms" in kv:
            timed[f[1]].append(float(kv["ms"]))
        else:
            failed[f[1]] += 1
    elif f[0] == "LOG" and len(f) >= 3:
        logs.setdefault(f[1], []).append(line.rstrip("\n"))
    elif f[0] == "PHASE" and len(f) >= 3:
        try:
            entry = json.loads(line.split(" ", 2)[2])
        except ValueError:
            continue
        phase_logs.setdefault(f[1], []).append(entry)


def median(v):
    v = sorted(v)
    n = len(v)
    return (v[(n - 1) // 2] + v[n // 2]) / 2 if n else float("nan")


def stamp(text):
    # RFC 3339 with nanoseconds: keep microseconds for datetime.
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return datetime.strptime(m.group(1) + "." + frac, "%Y-%m-%dT%H:%M:%S.%f").timestamp() * 1000


MARKS = [
    ("image", "vm tier: rootfs image "),
    ("monitor", "vm tier: monitor started"),
    ("up", "vm tier: guest up"),
    ("started", "vm tier: workload started"),
    ("exited", "run: the container exited"),
    ("deleted", "run: deleted"),
]
phases = {k: [] for k in ("image", "monitor", "kernel", "init", "container", "workload",
                          "teardown", "total")}
for entries in phase_logs.values():
    t = {}
    kernel_ms = None
    for e in entries:
        msg = e.get("msg", "")
        for name, prefix in MARKS:
            if msg.startswith(prefix) and name not in t:
                t[name] = stamp(e["time"])
        m = re.search(r"bulkhead-init: up (\d+\.\d+) s", msg)
        if m:
            kernel_ms = float(m.group(1)) * 1000
    if len(t) != len(MARKS) or kernel_ms is None or not entries:
        continue
    t0 = stamp(entries[0]["time"])
    phases["image"].append(t["image"] - t0)
    phases["monitor"].append(t["monitor"] - t["image"])
    phases["kernel"].append(kernel_ms)
    phases["init"].append(t["up"] - t["monitor"] - kernel_ms)
    phases["container"].append(t["started"] - t["up"])
    phases["workload"].append(t["exited"] - t["started"])
    phases["teardown"].append(t["deleted"] - t["exited"])
    phases["total"].append(t["deleted"] - t0)

c, v = median(timed["container"]), median(timed["vm"])
here = "this machine's KVM" if direct == "1" else "one run of the test host"
print(heading)
print(f"""
Measured {when} at {commit}: {runs} timed runs of each tier, alternating (container, vm,
container, ...) after one untimed warm-up run each (the vm tier's builds the rootfs image),
all in {here} ({elapsed} s in all), then {len(phase_logs)} vm-tier runs with the runtime's
debug log for the phases.""")
if direct != "1":
    print("""The test host is QEMU in software emulation with an emulated SVM CPU and KVM inside
it (docs/test-host.md): everything runs emulated, the vm tier's guest twice over, so the
milliseconds are many times those on hardware and the ratio is far worse than it would be
there. Compare the tiers within this table, not the milliseconds with other machines.""")
print("""
- **Config**: `bulkhead spec` (the hardened defaults: user, pid, mount, ipc, uts, network and
  cgroup namespaces, seccomp, no capabilities, read-only root), `/bin/true`, no terminal, the
  busybox rootfs; the vm tier by the annotation `run.bulkhead.isolation: vm`, with the
  runtime's defaults (1 vCPU, 256 MiB, the erofs image reused from the cache).
- **Container tier**: where the host runs from its initramfs (the test host), pivot_root is
  refused, so `run` gets `--no-pivot` there (a move of the root and chroot instead), as runc
  needs there too.
- **Timing**: bench/run-timer.c takes CLOCK_MONOTONIC just before it forks and execs
  `bulkhead run` and again when it has exited: create, start, the workload, delete.
""")
print("| tier | runs ok | median ms | min ms |")
print("| --- | ---: | ---: | ---: |")
for t in ("container", "vm"):
    n = len(timed[t])
    if n == 0:
        print(f"| {t} | 0 of {runs} | failed | |")
        continue
    print(f"| {t} | {n} of {runs} | {median(timed[t]):.1f} | {min(timed[t]):.1f} |")
if timed["container"] and timed["vm"]:
    print(f"\nRatio vm / container (medians): **{v / c:.1f}x** (the long-run goal is at most 3x).")
for t in ("container", "vm"):
    if failed[t]:
        print(f"\n{t}: {failed[t]} run(s) failed; the first's messages:\n")
        for l in logs.get(t, [])[:5]:
            print("    " + l)
print("\nEvery timed run, ms, in order:\n")
for t in ("container", "vm"):
    print(f"- {t}: " + (", ".join(f"{x:.1f}" for x in timed[t]) or "none"))
if phases["total"]:
    print(f"""
### The vm tier's `run`, phase by phase (median of {len(phases['total'])} runs, ms)

From the timestamps of the runtime's debug log (`--debug --log-format json`) and the first
line bulkhead-init writes on the guest's console (how far into the guest's boot it started):
""")
    rows = [
        ("image", "runtime start-up, checks, and finding the rootfs image in the cache"),
        ("monitor", "state directory, cgroup, forking and executing bulkhead-vmm"),
        ("kernel", "the guest kernel's boot until it runs /init (the guest's own clock)"),
        ("init", "the rest until bulkhead-init's hello: the monitor's set-up and jail, the "
                 "kernel's earliest boot, init mounting and opening its port"),
        ("container", "start: the guest mounts the image and overlay and sets up the jail"),
        ("workload", "/bin/true runs and exits; the monitor ends with its status"),
        ("teardown", "delete: cgroup, state directory"),
        ("total", "from the first log line to the last"),
    ]
    print("| phase | median ms | what |")
    print("| --- | ---: | --- |")
    for k, what in rows:
        print(f"| {k} | {median(phases[k]):.1f} | {what} |")
