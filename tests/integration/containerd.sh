#!/usr/bin/env bash
# containerd drives the runtime through its runc shim (io.containerd.runc.v2 with
# --runc-binary), exactly as it drives runc. Every case runs against the runtime
# under test and against Debian's runc, and the results must match.
source "$(dirname "$0")/lib/harness.sh"

REF=${REFERENCE_RUNTIME:-/usr/bin/runc}
command -v containerd >/dev/null || h_skip "containerd missing"
command -v ctr >/dev/null || h_skip "ctr missing"
command -v containerd-shim-runc-v2 >/dev/null || h_skip "containerd-shim-runc-v2 missing"
[ -x "$REF" ] || h_skip "reference runtime $REF missing"

# A private containerd: its own root, state and sockets; plugins that need
# things this host lacks are off. --rootfs keeps snapshotters out of the way.
CTD=$H_TMP/containerd
SOCK=$CTD/c.sock
NS=bh-it-containerd-$$   # the shim keeps runc state in /run/containerd/runc/$NS
mkdir -p "$CTD"
source "$(dirname "$0")/../lib/containerd_config.sh"
containerd_config "$CTD" "$SOCK" >"$CTD/config.toml"

containerd --config "$CTD/config.toml" >"$CTD/containerd.log" 2>&1 &
CTD_PID=$!
stop_containerd() {
  local id
  # Containers first (their shims outlive containerd), then the daemon itself.
  for id in $(timeout 10 ctr --address "$SOCK" -n "$NS" containers ls -q 2>/dev/null); do
    timeout 10 ctr --address "$SOCK" -n "$NS" task kill -s KILL "$id"
    timeout 10 ctr --address "$SOCK" -n "$NS" task delete -f "$id"
    timeout 10 ctr --address "$SOCK" -n "$NS" containers delete "$id"
  done
  kill "$CTD_PID"
  for _ in $(seq 50); do kill -0 "$CTD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$CTD_PID"
  rmdir /run/containerd/runc/"$NS" /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"
}
H_CLEANUPS+=(stop_containerd)

for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
if [ ! -S "$SOCK" ]; then
  not_ok "containerd starts" "$(tail -20 "$CTD/containerd.log")"
  summary; exit
fi
ok "containerd starts"

ctr_() { timeout -k 5 "$H_TIMEOUT" ctr --address "$SOCK" -n "$NS" "$@"; }

# task_status ID: RUNNING / STOPPED / ... from `ctr task ls`.
task_status() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'; }
wait_task() {
  local i
  for i in $(seq 50); do [ "$(task_status "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}

# cases RUNTIME TAG: runs every case with RUNTIME, checks each on its own, and
# writes "case=result" lines to $H_TMP/results.TAG for the comparison below.
cases() {
  local r=$1 tag=$2 res=$H_TMP/results.$2 rootfs id pid
  : >"$res"
  rootfs=$H_TMP/rootfs.$tag
  cp -a "$(h_rootfs)" "$rootfs"
  echo "# --- $tag: $r"

  id=echo-$tag-$$
  cap ctr_ run --rm --runc-binary "$r" --rootfs "$rootfs" "$id" /bin/echo hello
  check_eq "[$tag] ctr run echo hello exits 0" 0 "$RC"
  check_eq "[$tag] ctr run captures stdout" hello "$OUT"
  [ "$RC" -eq 0 ] || echo "$ERR" | tail -5 | sed 's/^/#   /'
  echo "echo=$RC:$OUT" >>"$res"

  id=exit-$tag-$$
  cap ctr_ run --rm --runc-binary "$r" --rootfs "$rootfs" "$id" /bin/sh -c 'echo to-stderr >&2; exit 7'
  check_eq "[$tag] ctr run sh -c 'exit 7' returns 7" 7 "$RC"
  check_match "[$tag] ctr run captures stderr" 'to-stderr' "$ERR"
  echo "exit=$RC" >>"$res"

  id=env-$tag-$$
  cap ctr_ run --rm --runc-binary "$r" --env BH_X=42 --cwd /tmp --rootfs "$rootfs" "$id" \
    /bin/sh -c 'echo "$BH_X $(pwd) $$ $(id -u)"'
  check_eq "[$tag] env, cwd, pid 1 and uid seen by the workload" "42 /tmp 1 0" "$OUT"
  [ "$OUT" = "42 /tmp 1 0" ] || echo "$ERR" | tail -3 | sed "s/^/#   /"
  echo "env=$RC:$OUT" >>"$res"

  # Detached: the workload traps TERM because pid 1 gets no default actions.
  id=detached-$tag-$$
  cap ctr_ run -d --runc-binary "$r" --rootfs "$rootfs" "$id" \
    /bin/sh -c 'trap "exit 143" TERM; sleep 100 & wait $!'
  check_eq "[$tag] ctr run -d exits 0" 0 "$RC"
  check "[$tag] detached task is RUNNING" wait_task "$id" RUNNING
  pid=$(ctr_ task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $2}')
  check "[$tag] detached task's pid is live" test -d "/proc/${pid:-0}"
  check "[$tag] task sits in the cgroup containerd asked for" \
    grep -qs "/$NS/$id\$" "/proc/${pid:-0}/cgroup"
  echo "detached=$RC:$(task_status "$id")" >>"$res"

  # exec, without and with a terminal (script(1) gives ctr the terminal it insists on).
  cap ctr_ task exec --exec-id x1-$$ "$id" /bin/sh -c 'echo "exec $(cat /proc/1/cmdline | tr "\0" " ")"'
  check_eq "[$tag] ctr task exec exits 0" 0 "$RC"
  check_match "[$tag] exec sees the task's init as pid 1" '^exec /bin/sh -c' "$OUT"
  echo "exec=$RC:${OUT%% -c*}" >>"$res"
  cap ctr_ task exec --exec-id x2-$$ "$id" /bin/sh -c 'exit 5'
  check_eq "[$tag] ctr task exec returns the exit status" 5 "$RC"
  echo "execexit=$RC" >>"$res"
  cap timeout 30 script -qec "ctr --address $SOCK -n $NS task exec -t --exec-id x3-$$ $id /bin/sh -c 'tty; [ -t 0 ] && echo in-tty'" /dev/null
  OUT=$(printf '%s' "$OUT" | tr -d '\r')
  check_eq "[$tag] ctr task exec -t exits 0" 0 "$RC"
  check_match "[$tag] exec -t gets a pty" '/dev/pts/[0-9]+' "$OUT"
  check_match "[$tag] exec -t: stdin is the terminal" 'in-tty' "$OUT"
  echo "exectty=$RC:$(printf '%s' "$OUT" | grep -c in-tty)" >>"$res"
  # pause/resume (the shim calls the runtime's pause and resume), ps, metrics.
  cap ctr_ task pause "$id"
  check_eq "[$tag] ctr task pause exits 0" 0 "$RC"
  check "[$tag] task ls shows PAUSED" wait_task "$id" PAUSED
  echo "pause=$RC:$(task_status "$id")" >>"$res"
  cap ctr_ task resume "$id"
  check_eq "[$tag] ctr task resume exits 0" 0 "$RC"
  check "[$tag] task ls shows RUNNING after resume" wait_task "$id" RUNNING
  echo "resume=$RC:$(task_status "$id")" >>"$res"
  cap ctr_ task ps "$id"
  check_eq "[$tag] ctr task ps exits 0" 0 "$RC"
  check_match "[$tag] ctr task ps lists the init's pid" "(^|[^0-9])$pid([^0-9]|\$)" "$OUT"
  echo "ps=$RC:$(printf '%s\n' "$OUT" | grep -c '^[0-9]')" >>"$res"
  cap ctr_ task metrics "$id"
  check_eq "[$tag] ctr task metrics exits 0" 0 "$RC"
  check_match "[$tag] metrics show memory usage" 'memory' "$OUT"
  echo "metrics=$RC" >>"$res"
  cap ctr_ task kill "$id"
  check_eq "[$tag] ctr task kill (SIGTERM) exits 0" 0 "$RC"
  check "[$tag] task ls shows STOPPED after kill" wait_task "$id" STOPPED
  echo "killed=$RC:$(task_status "$id")" >>"$res"
  cap ctr_ task delete "$id"
  check_eq "[$tag] ctr task delete exits 0" 0 "$RC"
  check_match "[$tag] task delete reports the exit status 143" '143' "$OUT$ERR"
  echo "taskdelete=$RC" >>"$res"
  cap ctr_ container delete "$id"
  check_eq "[$tag] ctr container delete exits 0" 0 "$RC"
  echo "containerdelete=$RC" >>"$res"
  check_nomatch "[$tag] container ls no longer lists it" "^$id\$" "$(ctr_ containers ls -q 2>/dev/null)"
  check_gone "[$tag] no runtime state, cgroup or process left" "$id" "/$NS/$id" "$pid" \
    "/run/containerd/runc/$NS"

  # ctr run -t: the init itself on a terminal.
  id=tty-$tag-$$
  cap timeout 30 script -qec "ctr --address $SOCK -n $NS run --rm -t --runc-binary $r --rootfs $rootfs $id /bin/sh -c 'tty; [ -t 0 ] && echo in-tty; exit 3'" /dev/null
  OUT=$(printf '%s' "$OUT" | tr -d '\r')
  check_eq "[$tag] ctr run -t returns the exit status" 3 "$RC"
  check_match "[$tag] ctr run -t gets a pty" '/dev/pts/[0-9]+' "$OUT"
  check_match "[$tag] ctr run -t: stdin is the terminal" 'in-tty' "$OUT"
  echo "runtty=$RC:$(printf '%s' "$OUT" | grep -c in-tty)" >>"$res"

  # A whole spec given with --config, with hooks: createRuntime and poststop run
  # on the host with the container's state on stdin; a failing hook fails the run.
  local b hooks st
  b=$(bundle_new "hooks-$tag")
  cfg_plain "$b" "" /bin/sh -c 'echo hooked'
  hooks="{'createRuntime': [{'path': '/bin/sh', 'args': ['sh', '-c', 'cat >$H_TMP/hook.$tag.create']}],
           'poststop': [{'path': '/bin/sh', 'args': ['sh', '-c', 'cat >$H_TMP/hook.$tag.poststop']}]}"
  cfg "$b" "c['root']['path'] = '$b/rootfs'; lin.pop('cgroupsPath'); c['hooks'] = $hooks"
  id=hooks-$tag-$$
  cap ctr_ run --rm --runc-binary "$r" --config "$b/config.json" "$id"
  check_eq "[$tag] ctr run --config with hooks exits 0" 0 "$RC"
  check_eq "[$tag] the workload of a --config spec runs" hooked "$OUT"
  [ "$RC" -eq 0 ] || echo "$ERR" | tail -5 | sed 's/^/#   /'
  st=$(cat "$H_TMP/hook.$tag.create" 2>/dev/null)
  check_eq "[$tag] createRuntime hook got the state on stdin" "$id creating" \
    "$(json_get "$st" id) $(json_get "$st" status)"
  check_match "[$tag] createRuntime hook's state names the container's pid" '^[1-9][0-9]*$' "$(json_get "$st" pid)"
  st=$(cat "$H_TMP/hook.$tag.poststop" 2>/dev/null)
  check_eq "[$tag] poststop hook ran at delete with the state" "$id" "$(json_get "$st" id)"
  echo "hooks=$RC:$OUT:$(json_get "$(cat "$H_TMP/hook.$tag.create")" status):$(json_get "$st" status)" >>"$res"
  id=badhook-$tag-$$
  cfg "$b" "c['hooks'] = {'createRuntime': [{'path': '/bin/sh', 'args': ['sh', '-c', 'exit 9']}]}"
  cap ctr_ run --rm --runc-binary "$r" --config "$b/config.json" "$id"
  check_ne "[$tag] a failing createRuntime hook fails ctr run" 0 "$RC"
  check_nomatch "[$tag] the workload of a failed hook never ran" hooked "$OUT"
  echo "badhook=$([ "$RC" -ne 0 ] && echo failed || echo succeeded):$OUT" >>"$res"
  ctr_ container delete "$id" >/dev/null 2>&1
  check_gone "[$tag] nothing left of the failed-hook container" "$id" "/$NS/$id" "" "/run/containerd/runc/$NS"

  # A runtime failure must reach the caller as an error, not a hang or success.
  id=badcmd-$tag-$$
  cap ctr_ run --rm --runc-binary "$r" --rootfs "$rootfs" "$id" /no/such/binary
  check_ne "[$tag] ctr run of a missing binary fails" 0 "$RC"
  echo "badcmd=$([ "$RC" -ne 0 ] && echo failed || echo succeeded)" >>"$res"
  ctr_ container delete "$id" >/dev/null 2>&1
  check_nomatch "[$tag] failed container is not left behind" "^$id\$" "$(ctr_ containers ls -q 2>/dev/null)"
}

cases "$RUNTIME" test
# The compare section: the runtime under test behaves as the reference does.
compare_with_ref "$REF"

summary
