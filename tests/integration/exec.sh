#!/usr/bin/env bash
# `exec`: a second process in a running container, as containerd's shim and
# podman use it. Runs against any runtime (RUNTIME=/usr/bin/runc for reference).
source "$(dirname "$0")/lib/harness.sh"
CONSOLE=$H_SRC/tests/integration/lib/console.py

ID=$(uid main); CG=/$ID
B=$(bundle_new main) || { not_ok "bundle"; summary; exit; }
cfg_plain "$B" "$CG" /bin/sh -c 'echo ready >/tmp/ready; exec sleep 300'
cfg "$B" "
ns('pid', 'ipc', 'uts', 'mount', 'network', 'user', 'cgroup')
lin['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
lin['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['hostname'] = 'exec-host'
c['process']['capabilities'] = {k: ['CAP_KILL'] for k in ('bounding', 'effective', 'permitted')}
c['process']['noNewPrivileges'] = True
c['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'soft': 321, 'hard': 1024}]
c['process']['env'].append('FROM_CONFIG=yes')
"
track "$ID"
cap rt run -d --bundle "$B" "$ID"
check_eq "run -d the container" 0 "$RC"
PID=$(state_of "$ID" pid)

cap rt exec "$ID" /bin/sh -c 'echo "pid=$$"; echo "host=$(hostname)"; echo "env=$FROM_CONFIG"
  sed -n "s/^\(CapEff\|NoNewPrivs\|Seccomp\):[[:space:]]*/\1=/p" /proc/self/status
  echo "nofile=$(ulimit -n)"; echo "init=$(cat /proc/1/cmdline | tr "\0" " ")"
  echo "uid=$(id -u)"; echo "map=$(tr -s " " </proc/self/uid_map | sed "s/^ //")"
  echo "seen=$(cat /tmp/ready)"; set -- /proc/[0-9]*; echo "procs=$#"'
check_eq "exec exits 0" 0 "$RC"
val() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -1; }
check_ne "exec'd process is not pid 1 but in the container's pid namespace" 1 "$(val pid)"
check_match "exec sees the container's init as pid 1" '^sleep 300' "$(val init)"
check_eq "exec is in the container's uts namespace" exec-host "$(val host)"
check_eq "exec sees the container's /tmp (mount namespace)" ready "$(val seen)"
check_eq "exec has the container's env" yes "$(val env)"
check_eq "exec gets the container's capabilities" 0000000000000020 "$(val CapEff)"
check_eq "exec gets no_new_privs" 1 "$(val NoNewPrivs)"
check_eq "exec gets the container's rlimits" 321 "$(val nofile)"
check_eq "exec is in the container's user namespace" "0 100000 65536" "$(val map)"
check_eq "exec sees only the container's processes (init and itself)" 2 "$(val procs)"

cap rt exec "$ID" /bin/sh -c 'exit 7'
check_eq "exec returns the process's exit status" 7 "$RC"
cap rt exec "$ID" /bin/sh -c 'echo to-stderr >&2'
check_eq "exec passes stderr" to-stderr "$ERR"

cap rt exec --env X=1 --cwd /tmp --user 1000:1001 "$ID" /bin/sh -c 'echo "$X $(pwd) $(id -u):$(id -g)"'
check_eq "exec --env --cwd --user" "1 /tmp 1000:1001" "$OUT"
# Repeated short options, one value each, and the id and command after them (runc's form).
cap rt exec -e X=1 -e Y=2 "$ID" /bin/sh -c 'echo "$X$Y"'
check_eq "exec -e K=V -e K=V ID CMD" "12" "$OUT"

printf '%s' '{"args": ["/bin/sh", "-c", "echo $P; pwd"], "cwd": "/etc", "env": ["P=from-json", "PATH=/bin"], "user": {"uid": 0, "gid": 0}}' >"$H_TMP/proc.json"
cap rt exec --process "$H_TMP/proc.json" "$ID"
check_eq "exec --process runs the process file" "from-json"$'\n'"/etc" "$OUT"

rm -f "$H_TMP/exec.pid"
cap rt exec -d --pid-file "$H_TMP/exec.pid" "$ID" sleep 100
check_eq "exec -d exits 0" 0 "$RC"
EPID=$(cat "$H_TMP/exec.pid" 2>/dev/null)
check "exec -d --pid-file holds a live pid" test -n "$EPID" -a -d "/proc/$EPID"
check_match "detached exec sits in the container's cgroup" "$ID" "$(cat "/proc/$EPID/cgroup" 2>/dev/null)"
check_eq "detached exec is in the container's pid namespace" \
  "$(readlink "/proc/$PID/ns/pid")" "$(readlink "/proc/$EPID/ns/pid" 2>/dev/null)"

# Signals sent to a foreground exec reach the process.
# (not through rt: its timeout wrapper would take the signal itself)
"$RUNTIME" --root "$H_ROOT" exec "$ID" /bin/sh -c 'trap "exit 42" TERM; sleep 100 & wait' </dev/null >/dev/null 2>&1 &
XP=$!
sleep 1
kill -TERM "$XP"
wait "$XP"
check_eq "SIGTERM to a foreground exec reaches the process" 42 "$?"

# --tty with the console socket: the pty comes over the socket, the process has it as
# its controlling terminal and the window size is the one in the process file.
tty_exec() {
  local sock=$H_TMP/console-$1.sock out=$H_TMP/console-$1.out; shift
  python3 "$CONSOLE" "$sock" --out "$out" --timeout 20 >"$out.ready" 2>"$out.err" &
  local cpid=$! i
  for i in $(seq 100); do grep -qs listening "$out.ready" && break; sleep 0.05; done
  cap rt exec --console-socket "$sock" "$@"
  wait "$cpid"
  OUT2=$(tr -d '\r' <"$out")
}
printf '%s' '{"terminal": true, "consoleSize": {"height": 33, "width": 101}, "args": ["/bin/sh", "-c", "tty; stty size; [ -t 0 ] && echo stdin-tty"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}' >"$H_TMP/tty.json"
tty_exec json --process "$H_TMP/tty.json" "$ID"
check_eq "exec with a terminal exits 0" 0 "$RC"
check_match "the process has a pty of the container" '^/dev/pts/[0-9]+' "$OUT2"
check_match "consoleSize from the process file" '33 101' "$OUT2"
check_match "stdin is the terminal" 'stdin-tty' "$OUT2"
tty_exec flag --tty "$ID" /bin/sh -c 'tty'
check_match "exec --tty works with args" '^/dev/pts/[0-9]+' "$OUT2"

# --- bad input: a clear error, the container unharmed, nothing left over ---------
before=$(cat /sys/fs/cgroup/pids/"${CG#/}"/cgroup.procs 2>/dev/null | sort)
printf '%s' '{"args": 5' >"$H_TMP/bad.json"
cap rt exec --process "$H_TMP/bad.json" "$ID"
check_ne "malformed process.json fails" 0 "$RC"
check_match "malformed process.json: the error says so" 'process|json|JSON|parse' "$ERR"
cap rt exec "$ID" /no/such/binary
check_ne "exec of a missing binary fails" 0 "$RC"
check_match "missing binary: the error names it" '/no/such/binary' "$ERR"
cap rt exec --tty --console-socket "$H_TMP/nobody-listens.sock" "$ID" /bin/true
check_ne "exec with a console socket nobody listens on fails" 0 "$RC"
check_match "console socket error names the socket" 'nobody-listens.sock' "$ERR"
cap rt exec "nope-$ID" /bin/true
check_ne "exec into an unknown container fails" 0 "$RC"
after=$(cat /sys/fs/cgroup/pids/"${CG#/}"/cgroup.procs 2>/dev/null | sort)
check_eq "failed execs left no process in the container" "$before" "$after"
check_eq "the container is still running" running "$(state_of "$ID" status)"

cap rt kill "$ID" KILL
wait_status "$ID" stopped 10
cap rt exec "$ID" /bin/true
check_ne "exec into a stopped container fails" 0 "$RC"
check_match "stopped: the error says so" 'stopped|not running' "$ERR"
cap rt delete --force "$ID"
check_eq "delete" 0 "$RC"
check_gone "exec leaves nothing after delete" "$ID" "$CG" "$EPID"

summary
