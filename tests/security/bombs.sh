#!/usr/bin/env bash
# Resource bombs: a fork bomb, a memory bomb, filling the writable storage, exhausting file
# descriptors and a CPU spinner, each in its own sandbox (the hardened defaults of `spec`
# plus a CPU quota of a quarter CPU, which `spec` cannot choose for an unknown host; small
# enough that the spinner meets it on a busy host too) while a
# neighbour sandbox answers small requests through two fifos. For each bomb: the bomb met
# its limit (read from the host's cgroup files and from what the bomb saw), and the
# neighbour's median answer time and the host's process-spawn time stayed within
# MAX_RATIO of their quiet values, measured just before the bomb.
#
# bombs.sh [--runtime PATH] [--build DIR] [--rootfs DIR] [--max-ratio R] [BOMB...]
#
# Prints a markdown table; exits 1 when a bomb escaped its limits or a ratio exceeded R
# (default 10), 2 for bad usage, 77 when not root.
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BULKHEAD_BUILD:-$SRC/build}
RUNTIME=${BULKHEAD:-}
ROOTFS=${BULKHEAD_ROOTFS:-}
MAX_RATIO=10
BOMBS=()
while [ $# -gt 0 ]; do
  case $1 in
    --runtime) RUNTIME=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --rootfs) ROOTFS=$2; shift 2 ;;
    --max-ratio) MAX_RATIO=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bombs: unknown option $1" >&2; exit 2 ;;
    *) BOMBS+=("$1"); shift ;;
  esac
done
[ ${#BOMBS[@]} -gt 0 ] || BOMBS=(fork memory storage fds cpu)
RUNTIME=${RUNTIME:-$BUILD/bin/bulkhead}
ROOTFS=${ROOTFS:-$BUILD/rootfs}
case $RUNTIME in */*) RUNTIME=$(readlink -f "$RUNTIME") ;; *) RUNTIME=$(command -v "$RUNTIME") ;; esac
BUILD=$(readlink -f "$BUILD"); ROOTFS=$(readlink -f "$ROOTFS")
BOMB=$BUILD/tests/security/bh-bomb

[ "$(id -u)" -eq 0 ] || { echo "bombs: needs root" >&2; exit 77; }
for f in "$RUNTIME" "$BOMB" "$ROOTFS/bin/busybox"; do
  [ -x "$f" ] || { echo "bombs: $f is missing (build it first)" >&2; exit 2; }
done
PY=$(command -v /usr/bin/python3 || command -v python3) || { echo "bombs: python3 missing" >&2; exit 2; }

W=$(mktemp -d /tmp/bh-bombs.XXXXXX)
chmod 755 "$W"
STATE=$W/state
NEIGHBOUR=bh-bombs-neighbour-$$
cleanup() {
  local id
  for id in "$STATE"/*; do
    [ -e "$id" ] && timeout 20 "$RUNTIME" --root "$STATE" delete --force "$(basename "$id")" >/dev/null 2>&1
  done
  grep -F " $W" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$W" && timeout 10 "$RUNTIME" spec >/dev/null) || { echo "bombs: '$RUNTIME spec' failed" >&2; exit 2; }
mv "$W/config.json" "$W/spec.json"
cp -a "$ROOTFS" "$W/rootfs" && cp "$BOMB" "$W/rootfs/bh-bomb" && chmod 755 "$W/rootfs/bh-bomb" &&
  mkdir "$W/rootfs/ipc" || exit 2
mkdir -p "$W/ipc" && chmod 755 "$W/ipc"
mkfifo -m 666 "$W/ipc/req" "$W/ipc/resp"

# bundle NAME CGPATH ARGS_JSON PYTHON: the hardened spec, edited.
bundle() {
  local b=$W/b/$1
  mkdir -p "$b" && chmod 755 "$W/b" "$b"
  "$PY" - "$W/spec.json" "$b/config.json" "$W" "$2" "$3" "$4" <<'PY' && echo "$b"
import json, sys
spec, out, w, cg, args, edit = sys.argv[1:]
c = json.load(open(spec))
c["root"]["path"] = w + "/rootfs"
c["process"]["args"] = json.loads(args)
c["linux"]["cgroupsPath"] = cg
exec(edit, {"c": c})
json.dump(c, open(out, "w"), indent=1)
PY
}

# cg CONTROLLER CGPATH FILE: a cgroup file on the host, v1 or v2.
cg() {
  local f=/sys/fs/cgroup/$1/${2#/}/$3
  [ -e "$f" ] || f=/sys/fs/cgroup/${2#/}/$3
  cat "$f" 2>/dev/null
}
# kv TEXT KEY: the value after KEY (as "KEY VALUE" lines or "KEY=VALUE" words).
kv() { printf '%s\n' "$1" | tr ' ' '\n' | awk -v k="$2" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'; }
kvline() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k {print $2; exit}'; }

ping_neighbour() { timeout 120 "$BOMB" ping "$W/ipc/req" "$W/ipc/resp" "$1"; }

# The neighbour: the hardened defaults, with the fifos bound in.
nb=$(bundle neighbour "/$NEIGHBOUR" '["/bh-bomb", "respond", "/ipc/req", "/ipc/resp"]' "
c['mounts'].append({'destination': '/ipc', 'type': 'bind', 'source': '$W/ipc', 'options': ['rbind', 'rw']})") || exit 2
timeout 30 "$RUNTIME" --root "$STATE" run -d --bundle "$nb" "$NEIGHBOUR" </dev/null >"$nb/out" 2>"$nb/err" ||
  { echo "bombs: the neighbour did not start: $(cat "$nb/err")" >&2; exit 1; }
ping_neighbour 20 >/dev/null  # warm up

CPU_QUOTA_US=25000  # of every 100000: a quarter CPU
CPU_QUOTA=$(awk -v q="$CPU_QUOTA_US" 'BEGIN { printf "%.2f", q / 100000 }')
ROWS=()
FAILED=0
# ratio LOADED QUIET: LOADED/QUIET with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 1; printf "%.2f", a / b }'; }
over() { awk -v r="$1" -v m="$MAX_RATIO" 'BEGIN { exit !(r > m) }'; }

# contained_fork ... : each sets EVIDENCE and fails when the limit did not hold.
contained_fork() {
  local cur max events
  cur=$(cg pids "$1" pids.current); max=$(cg pids "$1" pids.max)
  events=$(kvline "$(cg pids "$1" pids.events)" max)
  EVIDENCE="fork: $(kv "$2" errno); pids.current $cur of pids.max $max; pids.events max $events"
  [ "$(kv "$2" errno)" = EAGAIN ] && [ "$cur" -le "$max" ] && [ "${events:-0}" -gt 0 ]
}
contained_memory() {
  local peak limit kills
  peak=$(cg memory "$1" memory.max_usage_in_bytes); [ -n "$peak" ] || peak=$(cg memory "$1" memory.peak)
  limit=$(cg memory "$1" memory.limit_in_bytes); [ -n "$limit" ] || limit=$(cg memory "$1" memory.max)
  kills=$(kvline "$(cg memory "$1" memory.oom_control)" oom_kill)
  [ -n "$kills" ] || kills=$(kvline "$(cg memory "$1" memory.events)" oom_kill)
  EVIDENCE="first child: $(kv "$2" first); peak $((peak >> 20)) MiB of $((limit >> 20)) MiB; oom_kill $kills"
  [ "$peak" -le "$limit" ] && [ "${kills:-0}" -gt 0 ]
}
contained_storage() {
  local tmp shm root
  tmp=$(kv "$2" /tmp); shm=$(kv "$2" /dev/shm); root=$(kv "$2" /)
  # Both are tmpfs mounts of 64 MiB in the spec, charged to the container's memory cgroup;
  # the root file system is read-only, so nothing reaches the host's disk.
  EVIDENCE="/tmp $((${tmp%%:*} >> 20)) MiB then ${tmp#*:}; /dev/shm $((${shm%%:*} >> 20)) MiB then ${shm#*:}; / ${root#*:}"
  [ "${tmp#*:}" = ENOSPC ] && [ "${shm#*:}" = ENOSPC ] && [ "${root#*:}" = EROFS ] &&
    [ "${tmp%%:*}" -le $((64 << 20)) ] && [ "${shm%%:*}" -le $((64 << 20)) ]
}
contained_fds() {
  local fds nofile
  fds=$(kv "$2" fds); nofile=$(kv "$2" nofile)
  EVIDENCE="${fds%%:*} opened then ${fds#*:} (RLIMIT_NOFILE $nofile); raising the limit: $(kv "$2" raise)"
  [ "${fds#*:}" = EMFILE ] && [ "${fds%%:*}" -le "$nofile" ] && [ "$(kv "$2" raise)" = EPERM ]
}
contained_cpu() {
  local throttled used
  throttled=$(kvline "$(cg cpu "$1" cpu.stat)" nr_throttled)
  used=$(awk -v u="$CPU_USED_NS" -v t="$CPU_WALL_S" 'BEGIN { printf "%.2f", u / 1e9 / t }')
  EVIDENCE="$(kv "$2" threads) spinning threads used $used CPUs of a $CPU_QUOTA quota; throttled in $throttled periods"
  [ "${throttled:-0}" -gt 0 ] && awk -v u="$used" -v q="$CPU_QUOTA" 'BEGIN { exit !(u <= q * 1.2) }'
}
cpu_usage_ns() {
  local u
  u=$(cg cpuacct "$1" cpuacct.usage)
  [ -n "$u" ] || u=$(( $(kvline "$(cg cpu "$1" cpu.stat)" usage_usec) * 1000 ))
  echo "$u"
}

for bomb in "${BOMBS[@]}"; do
  id=bh-bombs-$bomb-$$
  quiet=$(ping_neighbour 100)
  b=$(bundle "$bomb" "/$id" "[\"/bh-bomb\", \"$bomb\", \"60\"]" "
c['linux']['resources']['cpu'] = {'quota': $CPU_QUOTA_US, 'period': 100000}") || exit 2
  timeout 30 "$RUNTIME" --root "$STATE" run -d --bundle "$b" "$id" </dev/null >"$b/out" 2>"$b/err"
  armed=""
  for _ in $(seq 300); do
    armed=$(grep -m1 '^armed' "$b/out") && break
    sleep 0.1
  done
  if [ -z "$armed" ]; then
    ROWS+=("| $bomb | - | never pressed its limit: $(tail -c 200 "$b/err" | tr '\n|' '  ') | - | - | - | FAIL |")
    FAILED=$((FAILED + 1))
    timeout 20 "$RUNTIME" --root "$STATE" delete --force "$id" >/dev/null 2>&1
    continue
  fi
  used0=$(cpu_usage_ns "/$id"); t0=$(date +%s.%N)
  loaded=$(ping_neighbour 200)
  used1=$(cpu_usage_ns "/$id"); t1=$(date +%s.%N)
  CPU_USED_NS=$((used1 - used0)); CPU_WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  result=PASS
  contained_"$bomb" "/$id" "$armed" || result=FAIL
  timeout 30 "$RUNTIME" --root "$STATE" delete --force "$id" >/dev/null 2>&1 || result=FAIL
  [ -n "$(cgroup_left=$(ls -d /sys/fs/cgroup/*/"$id" /sys/fs/cgroup/"$id" 2>/dev/null); echo "$cgroup_left")" ] &&
    { EVIDENCE="$EVIDENCE; cgroup left behind"; result=FAIL; }
  q50=$(kv "$quiet" rtt_median_us); l50=$(kv "$loaded" rtt_median_us)
  q99=$(kv "$quiet" rtt_p99_us); l99=$(kv "$loaded" rtt_p99_us)
  qs=$(kv "$quiet" spawn_median_us); ls=$(kv "$loaded" spawn_median_us)
  r50=$(ratio "$l50" "$q50"); rs=$(ratio "$ls" "$qs")
  over "$r50" && result=FAIL
  over "$rs" && result=FAIL
  [ "$(kv "$loaded" timeouts)" = 0 ] || { EVIDENCE="$EVIDENCE; $(kv "$loaded" timeouts) requests unanswered"; result=FAIL; }
  [ "$result" = PASS ] || FAILED=$((FAILED + 1))
  ROWS+=("| $bomb | $EVIDENCE | ${q50} -> ${l50} us (x$r50) | ${q99} -> ${l99} us (x$(ratio "$l99" "$q99")) | ${qs} -> ${ls} us (x$rs) | $result |")
done

after=$(ping_neighbour 20)
echo "| bomb | contained by its limits | neighbour answer, median | neighbour answer, p99 | host spawn, median | result |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
echo
echo "Bound: the median ratios (neighbour answer, host spawn) at most x$MAX_RATIO of the quiet values measured just before each bomb; $(nproc) CPUs."
if [ "$(kv "$after" timeouts)" != 0 ] || [ -z "$(kv "$after" rtt_median_us)" ]; then
  echo "the neighbour stopped answering after the bombs"; FAILED=$((FAILED + 1))
fi
echo "${#ROWS[@]} bombs, $FAILED failed"
[ "$FAILED" -eq 0 ]
