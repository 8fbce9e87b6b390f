#!/usr/bin/env bash
# Start-up benchmark: time to `run` a container executing /bin/true, for
# bulkhead, crun, runc and bubblewrap on this machine in one sitting, plus
# each runtime's peak RSS; then the micro-VM monitor's boot time and memory
# beside QEMU microvm's (bench/vmm.sh), and `run` in the vm tier beside the container tier
# with the vm tier's phases (bench/vmtier.sh). Writes docs/benchmarks.md.
#
#   bash bench/run.sh BUILD        (BUILD holds bin/bulkhead, bin/bulkhead-vmm and rootfs)
#   BENCH_RUNS=20 BENCH_VMM_BOOTS=3 bash bench/run.sh build    for a quick look
#   BENCH_VMM=0 bash bench/run.sh build    without the micro-VM part
#   BENCH_VMTIER=0 bash bench/run.sh build    without the vm-tier part
#
# A runtime that fails is reported as failed; the others are still measured.
set -uo pipefail
BUILD=$(cd "${1:?usage: bench/run.sh BUILD}" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-200}
WARMUP=${BENCH_WARMUP:-5}
DOC=${BENCH_DOC:-$SRC/docs/benchmarks.md}
BULKHEAD=${BULKHEAD:-$BUILD/bin/bulkhead}
source "$SRC/bench/bundles.sh"

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
for tool in hyperfine python3 unshare; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (make deps)" >&2; exit 1; }
done
GNU_TIME=/usr/bin/time
[ -x "$GNU_TIME" ] || GNU_TIME=""

W=$(mktemp -d /tmp/bh-bench.XXXXXX)
chmod 755 "$W"
cleanup() {
  local root id
  for root in "$W"/root-*; do
    [ -d "$root" ] || continue
    for id in "$root"/*; do
      [ -e "$id" ] || continue
      for r in "$BULKHEAD" runc crun; do
        timeout 10 "$r" --root "$root" delete --force "$(basename "$id")" >/dev/null 2>&1
      done
    done
  done
  rmdir /sys/fs/cgroup/*/bh-bench-* 2>/dev/null
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ROOTFS=$BUILD/rootfs
if [ ! -x "$ROOTFS/bin/busybox" ]; then
  ROOTFS=$W/rootfs
  bash "$SRC/tools/make-rootfs.sh" "$ROOTFS" || exit 1
fi
SECCOMP=$(bench_seccomp "$BULKHEAD" 3>"$W/seccomp-origin")
SECCOMP_ORIGIN=$(cat "$W/seccomp-origin")

# The private setup: crun refuses this host's hybrid cgroup layout, so it runs
# in a mount namespace of its own with cgroup2 on /sys/fs/cgroup and its cgroup
# manager off; the others get the same namespace and config for comparison.
in_private() {
  unshare -m --propagation private sh -c \
    'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' private "$@"
}

RESULTS=$W/results.tsv
: >"$RESULTS"

# measure LABEL SETUP COMMAND: COMMAND is one string without quoting (hyperfine
# runs it without a shell). SETUP is host or private. First the probe command
# in the array PROBE must exit 42 (its workload is `sh -c 'exit 42'`), so a
# runtime that returns without running anything is not timed as a fast one.
measure() {
  local label=$1 setup=$2 cmd=$3 wrap=() json=$W/$RANDOM.json err rc rss="" i m
  [ "$setup" = private ] && wrap=(in_private)
  echo "bench: $label ($setup)" >&2
  err=$("${wrap[@]}" timeout 30 "${PROBE[@]}" 2>&1 </dev/null)
  rc=$?
  # shellcheck disable=SC2086 # the command is split on purpose, as hyperfine does
  [ $rc -eq 42 ] && err=$("${wrap[@]}" timeout 30 $cmd 2>&1 </dev/null) && rc=0
  if [ $rc -ne 0 ]; then
    err=$(printf '%s' "$err" | grep -v '^$' | tail -1 | cut -c1-160)
    [ $rc -ne 42 ] && err="workload exit status $rc, not 42${err:+: $err}"
    printf '%s\t%s\tfailed\t%s\n' "$label" "$setup" "${err:-exit status $rc}" >>"$RESULTS"
    return
  fi
  if [ -n "$GNU_TIME" ]; then
    for i in 1 2 3 4 5; do
      # shellcheck disable=SC2086
      "${wrap[@]}" "$GNU_TIME" -f %M -o "$W/rss" $cmd >/dev/null 2>&1 </dev/null
      m=$(tail -1 "$W/rss" 2>/dev/null)
      [ -n "$m" ] && { [ -z "$rss" ] || [ "$m" -gt "$rss" ]; } && rss=$m
    done
  fi
  if ! "${wrap[@]}" hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" \
      --export-json "$json" "$cmd" >"$W/hyperfine.log" 2>&1; then
    printf '%s\t%s\tfailed\t%s\n' "$label" "$setup" \
      "$(grep -v '^$' "$W/hyperfine.log" | tail -1 | cut -c1-160)" >>"$RESULTS"
    return
  fi
  python3 - "$json" "$label" "$setup" "${rss:-}" >>"$RESULTS" <<'PY'
import json, math, sys
path, label, setup, rss = sys.argv[1:5]
t = sorted(json.load(open(path))["results"][0]["times"])
n = len(t)
def pct(p):  # nearest rank
    return t[max(0, math.ceil(p / 100 * n) - 1)]
median = (t[(n - 1) // 2] + t[n // 2]) / 2
ms = lambda s: "%.1f" % (s * 1000)
print("\t".join([label, setup, "ok", ms(median), ms(pct(95)), ms(sum(t) / n), ms(t[0]),
                 str(n), rss]))
PY
}

# oci LABEL SETUP NAME MODE RUNTIME [GLOBAL FLAGS...]: bundle NAME (and its
# probe twin) for an OCI runtime, then measure `run` of it.
oci() {
  local label=$1 setup=$2 name=$3 mode=$4 rt=$5; shift 5
  bench_bundle "$W/$name" "$ROOTFS" "$mode" "$SECCOMP" || return
  bench_bundle "$W/$name-probe" "$ROOTFS" "$mode" "$SECCOMP" || return
  python3 - "$W/$name-probe/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sh", "-c", "exit 42"]
json.dump(c, open(sys.argv[1], "w"))
PY
  PROBE=("$rt" "$@" --root "$W/root-$name" run --bundle "$W/$name-probe" "bench-$name-probe")
  measure "$label" "$setup" "$rt $* --root $W/root-$name run --bundle $W/$name bench-$name"
}

RUNC=$(command -v runc)
CRUN=$(command -v crun)
oci bulkhead host host-bulkhead host "$BULKHEAD"
oci runc host host-runc host "$RUNC"
oci bulkhead private private-bulkhead nocgroup "$BULKHEAD"
oci crun private private-crun nocgroup "$CRUN" --cgroup-manager=disabled
oci runc private private-runc nocgroup "$RUNC"
if command -v bwrap >/dev/null; then
  BWRAP=("$(command -v bwrap)" --unshare-all --ro-bind "$ROOTFS" / --proc /proc --dev /dev --die-with-parent)
  PROBE=("${BWRAP[@]}" /bin/sh -c 'exit 42')
  measure bubblewrap host "${BWRAP[*]} /bin/true"
fi

# exec_bench LABEL SETUP NAME MODE RUNTIME [GLOBAL FLAGS...]: a long-running
# container of bundle NAME, then `exec` of /bin/true into it.
RUN_RESULTS=$RESULTS
EXEC_RESULTS=$W/exec-results.tsv
: >"$EXEC_RESULTS"
exec_bench() {
  local label=$1 setup=$2 name=$3 mode=$4 rt=$5; shift 5
  local wrap=() root=$W/root-exec-$name id=bench-exec-$name
  [ "$setup" = private ] && wrap=(in_private)
  bench_bundle "$W/exec-$name" "$ROOTFS" "$mode" "$SECCOMP" || return
  python3 - "$W/exec-$name/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sleep", "3600"]
json.dump(c, open(sys.argv[1], "w"))
PY
  RESULTS=$EXEC_RESULTS
  if ! "${wrap[@]}" timeout 30 "$rt" "$@" --root "$root" run -d --bundle "$W/exec-$name" "$id" \
      </dev/null >"$W/exec-$name.log" 2>&1; then
    printf '%s\t%s\tfailed\t%s\n' "$label" "$setup" \
      "$(grep -v '^$' "$W/exec-$name.log" | tail -1 | cut -c1-160)" >>"$RESULTS"
  else
    PROBE=("$rt" "$@" --root "$root" exec "$id" /bin/sh -c 'exit 42')
    measure "$label" "$setup" "$rt $* --root $root exec $id /bin/true"
  fi
  timeout 10 "$rt" "$@" --root "$root" delete --force "$id" >/dev/null 2>&1
  RESULTS=$RUN_RESULTS
}
exec_bench bulkhead host host-bulkhead host "$BULKHEAD"
exec_bench runc host host-runc host "$RUNC"
exec_bench bulkhead private private-bulkhead nocgroup "$BULKHEAD"
exec_bench crun private private-crun nocgroup "$CRUN" --cgroup-manager=disabled
exec_bench runc private private-runc nocgroup "$RUNC"

# The sections measured in the test host: the micro-VM monitor's (bench/vmm.sh) and the vm
# tier's beside the container tier (bench/vmtier.sh). Each script writes its own failures
# into its section, and the container tables above stand either way.
# test_host_section SCRIPT SWITCH OUT: runs bench/SCRIPT into OUT unless $SWITCH is 0.
test_host_section() {
  : >"$3"
  [ "${!2:-1}" = 0 ] && return
  bash "$SRC/bench/$1" "$BUILD" >"$3" ||
    echo "bench: bench/$1 did not complete; its section says why" >&2
}
VMM_SECTION=$W/vmm.md
VMTIER_SECTION=$W/vmtier.md
test_host_section vmm.sh BENCH_VMM "$VMM_SECTION"
test_host_section vmtier.sh BENCH_VMTIER "$VMTIER_SECTION"

# table FILE: the markdown rows of a results file, then its failures.
table() {
  echo "| runtime | setup | median ms | p95 ms | mean ms | min ms | runs | peak RSS KiB |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  while IFS=$'\t' read -r label setup status a b c d n rss; do
    if [ "$status" = ok ]; then
      echo "| $label | $setup | $a | $b | $c | $d | $n | ${rss:--} |"
    else
      echo "| $label | $setup | failed | | | | | |"
    fi
  done <"$1"
  if grep -q $'\tfailed\t' "$1"; then
    echo
    echo "Failures (the last line the runtime printed):"
    echo
    awk -F'\t' '$3 == "failed" {printf "- %s (%s): `%s`\n", $1, $2, $4}' "$1"
  fi
}

version() {
  case $1 in
    bubblewrap) bwrap --version 2>/dev/null | head -1 ;;
    bulkhead) "$BULKHEAD" --version 2>/dev/null | head -1 ;;
    *) "$1" --version 2>/dev/null | head -1 ;;
  esac
}

mkdir -p "$(dirname "$DOC")"
{
  cat <<EOF
# Benchmarks

Written by \`make bench\` (bench/run.sh); do not edit by hand.

Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs,
$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r). Other work on the machine at the same time adds noise:
compare rows of one run, not numbers across runs.

## Start-up: \`run\` of a container executing /bin/true

$RUNS runs per row after $WARMUP warm-up runs, timed by hyperfine (-N, no shell). Every OCI
runtime gets the same config.json: all namespaces (user with root mapped to 100000, pid,
network, ipc, uts, mount, cgroup), read-only root through pivot_root, no capabilities,
no_new_privs, masked and read-only paths, and seccomp with $SECCOMP_ORIGIN.

- **host**: this host's cgroup layout (v1 controllers plus an empty cgroup2), a cgroup with
  memory and pids limits per container.
- **private**: in a mount namespace of its own with cgroup2 on /sys/fs/cgroup, no cgroup limits
  in the config (crun with \`--cgroup-manager=disabled\`, since it refuses the hybrid layout).
- **bubblewrap**: \`bwrap --unshare-all --ro-bind ROOTFS / --proc /proc --dev /dev
  --die-with-parent /bin/true\`; no cgroup and no seccomp, a lower bound for namespace set-up.

Peak RSS: the largest maximum resident set size GNU time reports over 5 runs (the runtime
process and the children it waited for).

bulkhead keeps compiled seccomp programs under its --root (keyed by the exact profile), so
after the warm-up runs it loads the filter instead of compiling it; the others compile the
profile with libseccomp on every run. The first \`run\` of a new profile costs bulkhead
about 10 ms more.

EOF
  table "$RUN_RESULTS"
  cat <<EOF

## \`exec\` of /bin/true into a running container

The same bundles, with \`sleep 3600\` as the container's process, started once with
\`run -d\`; then $RUNS timed runs of \`RUNTIME exec ID /bin/true\` after $WARMUP warm-up runs.
The exec'd process joins every namespace and the cgroup of the container and gets its
seccomp filter, capabilities and no_new_privs. Peak RSS is the exec command's.

EOF
  table "$EXEC_RESULTS"
  echo
  echo "Versions:"
  echo
  for r in bulkhead runc crun bubblewrap hyperfine; do
    echo "- $r: $(version "$r" || true)"
  done
  for section in "$VMM_SECTION" "$VMTIER_SECTION"; do
    [ -s "$section" ] && printf '\n%s\n' "$(cat "$section")"
  done
} >"$DOC"
cat "$DOC"
