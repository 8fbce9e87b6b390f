#!/bin/sh
# The vm tier's integration test proper (tests/integration/vm_tier.sh): the runc verbs of
# bulkhead on vm-tier containers, where /dev/kvm boots Linux (inside the test host, busybox
# only, or directly on a host with real KVM).
#
#   sh in-host.sh BULKHEAD VMM VMLINUX INITRD ROOTFS CONFIGS_DIR SUBREAPER ESCAPE CONSOLE_RECV \
#      HOSTILE_INITRD
#
# HOSTILE_INITRD: an initrd whose /init says hello and answers start with garbage.
#
# Output: TAP-style "ok - " / "not ok - " lines, then "N passed, M failed"; exit status 1
# when anything failed.
set -u
usage="in-host.sh BULKHEAD VMM VMLINUX INITRD ROOTFS CONFIGS_DIR SUBREAPER ESCAPE CONSOLE_RECV HOSTILE_INITRD"
[ $# -eq 10 ] || { echo "usage: $usage" >&2; exit 2; }
bh=$1 vmm=$2 kernel=$3 initrd=$4 rootfs=$5 configs=$6 reaper=$7 escape=$8 recv=$9 hostile=${10}
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-vmtier.XXXXXX")
root=$work/state
images=$work/images
start_s=$(date +%s)
. "$(dirname "$0")/../lib/tap.sh"
# bundle NAME [ROOTFS]
bundle() {
  mkdir -p "$work/b-$1"
  sed "s|@ROOTFS@|${2:-$rootfs}|" "$configs/$1.json" >"$work/b-$1/config.json"
}
status_of() { "$bh" --root "$root" state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
image_inodes() { ls -i "$images"/*.erofs 2>/dev/null | awk '{print $1}' | sort | tr '\n' ' '; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
no_vmm_running() { ! ps -o pid,args 2>/dev/null | awk -v v="$vmm" '$2 == v {f = 1} END {exit !f}'; }

cat >"$work/runtime.json" <<JSON
{"kernel": "$kernel", "initrd": "$initrd", "vmm": "$vmm", "image_cache": "$images",
 "boot_timeout_s": 300}
JSON
export BULKHEAD_RUNTIME_CONFIG="$work/runtime.json"
ln -s "$bh" "$work/bulkhead-vm"
for b in run life bad tty; do bundle "$b"; done

# --- bulkhead run: output and exit status come through the VM ------------------------------
t0=$(date +%s)
"$bh" --root "$root" run -b "$work/b-run" vrun >"$work/run.out" 2>"$work/run.err" </dev/null
rc=$?
echo "# run: $(($(date +%s) - t0)) s"
diag="exit $rc; stdout: $(cat "$work/run.out"); stderr: $(cat "$work/run.err")"
check "run: the workload's exit status 3 is bulkhead run's" "$diag" [ "$rc" = 3 ]
check "run: its stdout (hello) reaches ours" "$diag" [ "$(sed -n 1p "$work/run.out")" = hello ]
guest=$(sed -n 2p "$work/run.out")
check "run: uname -r inside ($guest) is the guest kernel's, not the host's ($(uname -r))" "$diag" \
  eval '[ -n "$guest" ] && [ "$guest" != "$(uname -r)" ]'
check "run: nothing left (state dir, monitor)" "$(ls -A "$root" 2>&1)" \
  eval '[ ! -e "$root/vrun" ] && no_vmm_running'
# The monitor makes the container's stdio non-blocking while the VM runs; those open files
# are the caller's too (a shell's terminal), and get their flags back.
echo input >"$work/stdin.txt"
exec 7<"$work/stdin.txt"
"$bh" --root "$root" run -b "$work/b-run" vrun >/dev/null 2>&1 <&7
flags=$(awk '/^flags:/ {print $2}' /proc/$$/fdinfo/7)  # octal, with its leading 0
exec 7<&-
check "run: the caller's stdin is blocking again after the VM" "open flags $flags" \
  [ $((flags & 04000)) = 0 ]
inodes=$(image_inodes)
check "run: the rootfs became one erofs image" "images: $(ls -l "$images" 2>&1)" \
  [ "$(echo $inodes | wc -w)" = 1 ]

# --- a terminal for the container's own process, from a console socket ----------------------
# bh-console-recv plays the shim: it sets 31x97, waits for that size to show, resizes to
# 45x120 and types "go".
"$recv" "$work/run-tty.sock" "$work/run-tty.out" 31 97 45 120 &
recv_pid=$!
wait_for 10 test -S "$work/run-tty.sock"
"$bh" --root "$root" run --console-socket "$work/run-tty.sock" -b "$work/b-tty" vtty \
  </dev/null >"$work/run-tty.stdout" 2>&1
rc=$?
wait_for 20 dead "$recv_pid"
diag="exit $rc; terminal: $(tr -d '\r' <"$work/run-tty.out" 2>&1); stdout: $(cat "$work/run-tty.stdout")"
check "run on a terminal: the workload's stdio is a pty handed to the console socket, exit 5" \
  "$diag" eval '[ $rc = 5 ] && grep -q on-a-tty "$work/run-tty.out"'
check "run on a terminal: its size is the console's, and a resize reaches it" "$diag" \
  eval 'grep -q "31 97" "$work/run-tty.out" && grep -q "45 120" "$work/run-tty.out"'
check "run on a terminal: what is typed reaches it" "$diag" grep -q "got go" "$work/run-tty.out"
out=$("$bh" --root "$root" run -b "$work/b-tty" vtty2 2>&1 </dev/null)
rc=$?
check "a terminal without --console-socket is refused, saying so, leaving nothing" "exit $rc: $out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q "no --console-socket" && [ ! -e "$root/vtty2" ] &&
        no_vmm_running'

# --- create, start, state, kill, delete, as a runc shim drives them --------------------------
# bh-subreaper stands for the shim: it reaps the monitor and records its exit status.
t0=$(date +%s)
"$reaper" "$work/reaped" "$work/bulkhead-vm" --root "$root" --log "$work/life.log" --debug \
  create -b "$work/b-life" --pid-file "$work/life.pid" vlife >"$work/life.out" 2>"$work/life.err" </dev/null &
reaper_pid=$!
wait_for 300 grep -qs '^child ' "$work/reaped"
echo "# create: $(($(date +%s) - t0)) s"
diag="$(cat "$work/reaped" "$work/life.err" "$work/life.log" 2>&1)"
check "create (as bulkhead-vm, no annotation) exits 0 once the guest is up" "$diag" \
  grep -q '^child [0-9]* 0$' "$work/reaped"
pid=$(cat "$work/life.pid" 2>/dev/null)
check "create: state is created" "$("$bh" --root "$root" state vlife 2>&1)" [ "$(status_of vlife)" = created ]
check "create: --pid-file names the live monitor, as state does" "pid file: $pid" \
  eval 'alive "$pid" && "$bh" --root "$root" state vlife | grep -q "\"pid\": $pid,"'
check "create: the agent socket is in the state dir" "$(ls -l "$root/vlife" 2>&1)" [ -S "$root/vlife/agent.sock" ]
check "create: the same rootfs reuses its image (same inode, logged as reused)" \
  "before: $inodes after: $(image_inodes); log: $(cat "$work/life.log")" \
  eval '[ "$(image_inodes)" = "$inodes" ] && grep -q "rootfs image [0-9a-f]* reused" "$work/life.log"'
inner=$(sed -n 's/.*"inner_pid":\([0-9]*\).*/\1/p' "$root/vlife/state.json")
check "create: the VM's process (the monitor's jailed child) is recorded" "inner: $inner" \
  eval '[ -n "$inner" ] && [ "$inner" -gt 0 ] && alive "$inner"'

out=$("$bh" --root "$root" start vlife 2>&1)
check "start exits 0" "$out" [ $? = 0 ]
check "start: state is running" "$("$bh" --root "$root" state vlife 2>&1)" [ "$(status_of vlife)" = running ]

# --- exec: a process in the running container, relayed through the agent socket ------------
t1=$(date +%s)
"$bh" --root "$root" exec vlife sh -c 'echo out; echo err >&2; hostname; exit 7' \
  >"$work/x.out" 2>"$work/x.err" </dev/null
rc=$?
diag="exit $rc; stdout: $(cat "$work/x.out"); stderr: $(cat "$work/x.err")"
check "exec: the process's exit status 7 is exec's" "$diag" [ "$rc" = 7 ]
check "exec: stdout and stderr come back apart" "$diag" \
  eval '[ "$(sed -n 1p "$work/x.out")" = out ] && [ "$(cat "$work/x.err")" = err ]'
check "exec: it runs in the container's uts namespace (hostname bulkhead)" "$diag" \
  [ "$(sed -n 2p "$work/x.out")" = bulkhead ]
head -c 204800 /dev/urandom >"$work/x.in"
"$bh" --root "$root" exec vlife cat <"$work/x.in" >"$work/x.back" 2>"$work/x.err"
rc=$?
check "exec: 200 KiB through cat come back whole (stdin and stdout under flow control)" \
  "exit $rc; $(wc -c <"$work/x.back") bytes back; $(cat "$work/x.err")" cmp -s "$work/x.in" "$work/x.back"
out=$("$bh" --root "$root" exec vlife /no/such/binary 2>&1 </dev/null)
rc=$?
check "exec: a missing binary fails, naming it" "exit $rc: $out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q /no/such/binary'
# A terminal from a console socket, as a shim gives one: bh-console-recv sets 31x97, waits
# for that size to show, resizes to 45x120 and types "go".
"$recv" "$work/console.sock" "$work/tty.out" 31 97 45 120 &
recv_pid=$!
wait_for 10 test -S "$work/console.sock"
"$bh" --root "$root" exec -t --console-socket "$work/console.sock" vlife \
  sh -c 'stty size; read x; stty size; echo "got $x"; test -t 0 && echo on-a-tty' \
  </dev/null >"$work/tty.stdout" 2>&1
rc=$?
wait_for 20 dead "$recv_pid"
diag="exit $rc; terminal: $(tr -d '\r' <"$work/tty.out" 2>&1); stdout: $(cat "$work/tty.stdout")"
check "exec -t: the process runs on a terminal handed to the console socket, exit 0" "$diag" \
  eval '[ $rc = 0 ] && grep -q on-a-tty "$work/tty.out"'
check "exec -t: its size is the console's, and a resize reaches it" "$diag" \
  eval 'grep -q "31 97" "$work/tty.out" && grep -q "45 120" "$work/tty.out"'
check "exec -t: what is typed reaches it" "$diag" grep -q "got go" "$work/tty.out"
out=$("$bh" --root "$root" exec -t vlife true 2>&1 </dev/null)
rc=$?
check "exec -t without --console-socket is refused, saying so" "exit $rc: $out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q "no --console-socket"'
# Its stdout and stderr stay with the process, as runc's do: a file, not a $(...) that would
# wait for them to close.
"$bh" --root "$root" exec -d --pid-file "$work/x.pid" vlife sleep 31 >"$work/x.out" 2>&1 </dev/null
rc=$?
out=$(cat "$work/x.out")
xpid=$(cat "$work/x.pid" 2>/dev/null)
check "exec -d returns at once, its pid file naming the live process standing for it" \
  "exit $rc: $out; pid file: $xpid" eval '[ $rc = 0 ] && [ -n "$xpid" ] && alive "$xpid"'
running31() { "$bh" --root "$root" exec vlife ps 2>/dev/null | grep -q '[s]leep 31'; }
check "exec -d: the process runs in the guest" "$("$bh" --root "$root" exec vlife ps 2>&1)" running31
kill -TERM "$xpid" 2>/dev/null
check "exec -d: SIGTERM to the stand-in ends the process in the guest, and the stand-in" \
  "$("$bh" --root "$root" exec vlife ps 2>&1)" eval 'wait_for 20 dead "$xpid" && ! running31'
echo "# exec: $(($(date +%s) - t1)) s"

# --- events: the guest's statistics of the container's cgroup --------------------------------
"$bh" --root "$root" events --stats vlife >"$work/ev.out" 2>&1 </dev/null
rc=$?
check "events --stats: one stats line, counted in the guest (pids, memory)" \
  "exit $rc: $(cat "$work/ev.out")" \
  eval '[ $rc = 0 ] && [ "$(wc -l <"$work/ev.out")" = 1 ] &&
        grep -q "\"type\":\"stats\"" "$work/ev.out" &&
        grep -q "\"pids\":{\"current\":[1-9]" "$work/ev.out" &&
        grep -q "\"usage\":{[^}]*\"usage\":[1-9]" "$work/ev.out"'
"$bh" --root "$root" events --interval 1s vlife >"$work/evs.out" 2>&1 </dev/null &
events_pid=$!
stats_lines() { [ "$(grep -c '"type":"stats"' "$work/evs.out")" -ge "$1" ]; }
check "events --interval 1s: a line a second" "$(cat "$work/evs.out")" wait_for 20 stats_lines 3

# --- ps, pause, resume: the host's processes of the VM, frozen and thawed by its cgroup -------
out=$("$bh" --root "$root" ps --format json vlife 2>&1)
check "ps --format json: the monitor and the VM's process, the host's processes of it" "$out" \
  eval 'echo "$out" | grep -q "\b$pid\b" && echo "$out" | grep -q "\b$inner\b"'
out=$("$bh" --root "$root" ps vlife 2>&1)
check "ps: the table's rows are the monitor's" "$out" \
  eval 'echo "$out" | grep -q PID && echo "$out" | grep -q bulkhead-vmm'
out=$("$bh" --root "$root" pause vlife 2>&1)
rc=$?
check "pause exits 0; state is paused" "exit $rc: $out" \
  eval '[ $rc = 0 ] && [ "$(status_of vlife)" = paused ]'
frozen_ticks() { awk '{print $14 + $15}' "/proc/$inner/stat"; }
ticks=$(frozen_ticks)
sleep 1
check "pause: the VM's process (its vCPUs) uses no CPU while paused" \
  "cpu ticks $ticks then $(frozen_ticks)" [ "$(frozen_ticks)" = "$ticks" ]
out=$("$bh" --root "$root" exec vlife true 2>&1 </dev/null)
rc=$?
check "exec in a paused VM is refused, saying so" "$out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q paused'
out=$("$bh" --root "$root" events --stats vlife 2>&1 </dev/null)
rc=$?
check "events --stats of a paused VM fails at once, saying so" "$out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q paused'
out=$("$bh" --root "$root" kill vlife USR1 2>&1)
rc=$?
check "kill USR1 of a paused VM is refused, saying so" "$out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q "paused"'
out=$("$bh" --root "$root" pause vlife 2>&1)
check "pause of a paused container is refused" "$out" [ $? != 0 ]
out=$("$bh" --root "$root" resume vlife 2>&1)
rc=$?
check "resume exits 0; state is running" "exit $rc: $out" \
  eval '[ $rc = 0 ] && [ "$(status_of vlife)" = running ]'
out=$("$bh" --root "$root" exec vlife echo thawed 2>&1 </dev/null)
check "resume: the guest answers again (exec)" "$out" [ "$out" = thawed ]
out=$("$bh" --root "$root" resume vlife 2>&1)
check "resume of a running container is refused" "$out" [ $? != 0 ]

out=$("$bh" --root "$root" delete vlife 2>&1)
rc=$?
check "delete without --force refuses a running VM" "exit $rc: $out" \
  eval '[ $rc != 0 ] && [ -d "$root/vlife" ] && alive "$pid"'

out=$("$bh" --root "$root" kill vlife TERM 2>&1)
check "kill TERM exits 0" "$out" [ $? = 0 ]
wait_for 60 dead "$reaper_pid"
check "kill TERM: the monitor exits 143, as the workload did" "$(cat "$work/reaped")" \
  grep -q "^orphan $pid 143$" "$work/reaped"
check "events --interval: ends by itself when the VM stops" "$(cat "$work/evs.out")" \
  wait_for 30 dead "$events_pid"
check "kill TERM: state is stopped" "$("$bh" --root "$root" state vlife 2>&1)" [ "$(status_of vlife)" = stopped ]
out=$("$bh" --root "$root" delete vlife 2>&1)
check "delete exits 0" "$out" [ $? = 0 ]
check "delete leaves nothing: no state dir, socket, monitor, VM process or cgroup" \
  "$(ls -lR "$root" 2>&1; ps -o pid,args 2>&1 | grep -v grep | grep bulkhead)" \
  eval '[ ! -e "$root/vlife" ] && dead "$pid" && dead "$inner" && no_vmm_running &&
        [ ! -e /sys/fs/cgroup/bulkhead/vlife ]'
echo "# lifecycle: $(($(date +%s) - t0)) s"

# --- read-only volumes: host paths imaged onto disks of their own ----------------------------
mkdir -p "$work/vol/data"
echo hello-volume >"$work/vol/data/greeting"
head -c 300000 /dev/urandom >"$work/vol/data/blob"
echo "x=1" >"$work/vol/app.conf"
# Writable ones as Kubernetes makes them: an emptyDir (mode 0777) and a termination-log file
# (0666), so the container's root, an unprivileged uid of the user namespace, may write.
mkdir -p "$work/rw/data/olddir" "$work/rw/data/keep"
echo old >"$work/rw/data/old"
echo x >"$work/rw/data/olddir/x"
: >"$work/rw/termination-log"
chmod -R a+rwX "$work/rw"
for b in vol volrw; do
  mkdir -p "$work/b-$b"
  sed "s|@ROOTFS@|$rootfs|; s|@VOLDIR@|$work/vol/data|; s|@VOLFILE@|$work/vol/app.conf|;
       s|@RWDIR@|$work/rw/data|; s|@RWLOG@|$work/rw/termination-log|" \
    "$configs/$b.json" >"$work/b-$b/config.json"
done
before=$(ls "$images"/*.erofs 2>/dev/null | wc -l)
"$bh" --root "$root" run -b "$work/b-vol" vvol >"$work/vol.out" 2>"$work/vol.err" </dev/null
rc=$?
diag="exit $rc; stdout: $(cat "$work/vol.out"); stderr: $(cat "$work/vol.err")"
check "volumes: a read-only directory and file reach the workload, byte for byte" "$diag" \
  eval '[ $rc = 0 ] && [ "$(sed -n 1p "$work/vol.out")" = hello-volume ] &&
        [ "$(sed -n 2p "$work/vol.out")" = x=1 ] &&
        [ "$(sed -n 3p "$work/vol.out" | cut -d" " -f1)" = "$(md5sum <"$work/vol/data/blob" | cut -d" " -f1)" ]'
check "volumes: the workload cannot write to either" "$diag" \
  eval 'grep -qx data-ro "$work/vol.out" && grep -qx conf-ro "$work/vol.out" &&
        [ "$(cat "$work/vol/app.conf")" = x=1 ] && [ ! -e "$work/vol/data/new" ]'
after=$(ls "$images"/*.erofs 2>/dev/null | wc -l)
check "volumes: each became an image (2 more in the cache)" "$before then $after" \
  [ "$after" = $((before + 2)) ]
"$bh" --root "$root" run -b "$work/b-vol" vvol >/dev/null 2>&1 </dev/null
check "volumes: a second run reuses their images" "$(ls "$images")" \
  [ "$(ls "$images"/*.erofs | wc -l)" = "$after" ]
out=$("$bh" --root "$root" run -b "$work/b-volrw" vvolrw 2>&1 </dev/null)
rc=$?
diag="exit $rc: $out; volume: $(ls -laR "$work/rw" 2>&1)"
check "writable volumes: the workload's exit status 4 comes through the write-back" "$diag" [ $rc = 4 ]
check "writable volumes: what it wrote and made is on the host after it exits" "$diag" \
  eval '[ "$(cat "$work/rw/data/out.txt")" = result ] && [ "$(cat "$work/rw/data/sub/deeper/f")" = deep ]'
check "writable volumes: what it removed is gone from the host; what it left alone stays" "$diag" \
  eval '[ ! -e "$work/rw/data/old" ] && [ ! -e "$work/rw/data/olddir" ] && [ -d "$work/rw/data/keep" ]'
check "writable volumes: its termination-log is on the host (a file volume, written in place)" "$diag" \
  [ "$(cat "$work/rw/termination-log")" = "all done" ]
check "writable volumes: a symlink made inside is not carried to the host" "$diag" \
  eval '[ ! -e "$work/rw/data/link" ] && [ ! -L "$work/rw/data/link" ]'
check "writable volumes: nothing is left behind" "$(ls "$root" 2>&1)" \
  eval '[ ! -e "$root/vvolrw" ] && no_vmm_running'

# --- escape attempts from inside a vm container ----------------------------------------------
# The container tier's attempts (tests/security/escape), each exec'd into one vm container
# made from the hardened defaults: what the guest's jail stops must stop them here too, and
# past it the workload would still be inside the VM. The attempts aimed at the host's files
# get a file of the test host's to aim at; setuid_binary runs as uid 1000 beside a
# setuid-root copy of bh-escape; tiocsti runs on a terminal (exec -t, the console socket
# played by bh-console-recv); abstract_unix aims at a listener of the test host's (bh-escape
# listen-abstract); kill_host and symlink_mount_dest run as the init of a VM of their own
# (kill(-1) would take an exec's parent along; the links to a test host directory and the
# mounts on them are the bundle's). proc_self_exe's trap (a script whose interpreter is
# /proc/self/exe) starts a VM of its own: what it can reach is the process that exec'd it,
# the guest's init, static and in the guest's initramfs, never the runtime or the monitor,
# whose hashes must not change.
t0=$(date +%s)
cp -a "$rootfs" "$work/escroot" && cp "$escape" "$work/escroot/bh-escape" &&
  chmod 755 "$work/escroot/bh-escape" && bundle esc "$work/escroot"
# setuid_binary's setuid-root copy: owned by the id the container's root maps to.
root_id=$(sed -n 's/.*"uidMappings": *\[ *{[^}]*"hostID": *\([0-9]*\).*/\1/p' "$work/b-esc/config.json")
cp "$escape" "$work/escroot/bh-escape-suid" &&
  chown "${root_id:-0}:${root_id:-0}" "$work/escroot/bh-escape-suid" &&
  chmod 4755 "$work/escroot/bh-escape-suid"
# symlink_mount_dest's links, to a directory of the test host's, absolute and relative.
mkdir -p "$work/hostdir" && echo host-secret >"$work/hostdir/secret"
ln -s "$work/hostdir" "$work/escroot/escape-abs"
ln -s "../../../../../../../../../../../..$work/hostdir" "$work/escroot/escape-rel"
printf '#!/proc/self/exe\n' >"$work/escroot/exe-trap" && chmod 755 "$work/escroot/exe-trap"
abstract=bh-vm-escapes-$$
"$escape" listen-abstract "$abstract" "$work/abstract.log" &
listener=$!
wait_for 10 test -e "$work/abstract.log"
hostname_before=$(hostname) core_before=$(cat /proc/sys/kernel/core_pattern)
marker=$work/host-only-marker  # what proc_pid_root and proc_self_cwd aim at
echo secret >"$marker"
"$bh" --root "$root" create -b "$work/b-esc" vesc </dev/null >"$work/esc.out" 2>"$work/esc.err" &&
  "$bh" --root "$root" start vesc >>"$work/esc.out" 2>>"$work/esc.err"
check "escapes: a vm container from the hardened defaults runs" "$(cat "$work/esc.err")" \
  [ "$(status_of vesc)" = running ]
"$bh" --root "$root" exec vesc /bh-escape list >"$work/esc.list" 2>>"$work/esc.err" </dev/null
tab=$(printf '\t')
contained=0
# escape_row NAME EXPECTED LINE [HOST_CHECK...]: prints the table row for bh-escape's LINE and
# counts it contained when it passed (and HOST_CHECK, if given, holds).
escape_row() {
  _name=$1 _expected=$2 _line=$3
  shift 3
  _observed=${_line#*observed=}
  _observed=${_observed% result=*}
  _result=${_line##*result=}
  echo "# | $_name | vm | $(echo "$_expected" | sed "s/|/ or /g") | $_observed | $_result |"
  if [ "$_result" = PASS ] && { [ $# -eq 0 ] || "$@"; }; then
    contained=$((contained + 1))
  else
    not_ok "escapes: $_name is contained in the vm tier" "$_line"
  fi
}
while IFS=$tab read -r name expected _; do
  case $name in
    proc_self_exe | symlink_mount_dest | kill_host) continue ;;  # below
    abstract_unix)
      line=$("$bh" --root "$root" exec --env "BH_HOST_ABSTRACT=$abstract" vesc \
        /bh-escape run abstract_unix 2>&1 </dev/null)
      escape_row abstract_unix "$expected" "$line" eval '[ ! -s "$work/abstract.log" ]'
      continue
      ;;
    tiocsti)
      "$recv" "$work/esc-tty.sock" "$work/esc-tty.out" 24 80 24 80 &
      wait_for 10 test -S "$work/esc-tty.sock"
      "$bh" --root "$root" exec -t --console-socket "$work/esc-tty.sock" vesc \
        /bh-escape run tiocsti >/dev/null 2>&1 </dev/null
      escape_row tiocsti "$expected" "$(tr -d '\r' <"$work/esc-tty.out" | grep 'result=')"
      continue
      ;;
    setuid_binary) as=--user=1000:1000 ;;
    *) as="" ;;
  esac
  line=$("$bh" --root "$root" exec ${as:+"$as"} --env "BH_HOST_MARKER=$marker" vesc \
    /bh-escape run "$name" 2>&1 </dev/null)
  escape_row "$name" "$expected" "$line"
done <"$work/esc.list"
sleep 1000 &
victim=$!
mkdir -p "$work/b-killhost"
sed "s|@ROOTFS@|$work/escroot|; s|@VICTIM@|$victim|" "$configs/killhost.json" \
  >"$work/b-killhost/config.json"
line=$("$bh" --root "$root" run -b "$work/b-killhost" vkill 2>&1 </dev/null)
escape_row kill_host ESRCH "$line" alive "$victim"  # and the test host's process lives
kill "$victim"
mkdir -p "$work/b-exetrap"
sed "s|@ROOTFS@|$work/escroot|" "$configs/exetrap.json" >"$work/b-exetrap/config.json"
sums_before=$(sha256sum "$bh" "$vmm")
out=$("$bh" --root "$root" run -b "$work/b-exetrap" vexe 2>&1 </dev/null)
rc=$?
case $out in
  *"runs only as the init of a bulkhead VM"*) seen=guest-init ;;
  *) seen="exit-$rc" ;;
esac
[ "$seen" = guest-init ] && result=PASS || result=FAIL
binaries_intact() { [ "$(sha256sum "$bh" "$vmm")" = "$sums_before" ]; }
escape_row proc_self_exe guest-init "attempt=proc_self_exe observed=$seen result=$result" \
  binaries_intact
mkdir -p "$work/b-symlink"
sed "s|@ROOTFS@|$work/escroot|" "$configs/symlink.json" >"$work/b-symlink/config.json"
line=$("$bh" --root "$root" run -b "$work/b-symlink" vlink 2>&1 </dev/null)
# A runtime may refuse such a bundle outright; that contains it as well.
echo "$line" | grep -q '^attempt=' || line="attempt=symlink_mount_dest observed=refused result=PASS"
hostdir_intact() { [ "$(ls -A "$work/hostdir")" = secret ] && ! grep -q " $work/hostdir " /proc/mounts; }
escape_row symlink_mount_dest "ENOENT|refused" "$line" hostdir_intact
# The control: the test host itself reaches its listener, so the attempt could have.
BH_HOST_ABSTRACT=$abstract "$escape" run abstract_unix >/dev/null 2>&1 </dev/null
check "escapes: the abstract listener answers the test host itself (the control)" \
  "$(cat "$work/abstract.log")" [ -s "$work/abstract.log" ]
kill "$listener"
check "escapes: $contained attempts from inside the VM met their expected outcome" \
  "$(cat "$work/esc.list" "$work/esc.err")" [ "$contained" -ge 40 ]
# --- a hostile guest: its /init says hello, then answers start with garbage ------------------
# The monitor ends that sandbox alone; its neighbour (vesc) and the test host go on.
sed "s|\"initrd\": \"[^\"]*\"|\"initrd\": \"$hostile\"|" "$work/runtime.json" >"$work/hostile.json"
BULKHEAD_RUNTIME_CONFIG="$work/hostile.json" "$bh" --root "$root" create -b "$work/b-run" vhostile \
  </dev/null >"$work/hostile.out" 2>"$work/hostile.err"
rc=$?
hpid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$root/vhostile/state.json" 2>/dev/null)
hinner=$(sed -n 's/.*"inner_pid":\([0-9]*\).*/\1/p' "$root/vhostile/state.json" 2>/dev/null)
check "hostile guest: its hello is enough for create" "exit $rc: $(cat "$work/hostile.err")" \
  eval '[ $rc = 0 ] && [ "$(status_of vhostile)" = created ]'
out=$("$bh" --root "$root" start vhostile 2>&1 </dev/null)
rc=$?
check "hostile guest: start fails, saying the VM stopped" "exit $rc: $out" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q "stopped"'
check "hostile guest: the monitor names the protocol violation on the container's stderr" \
  "$(cat "$work/hostile.err")" grep -q "protocol" "$work/hostile.err"
check "hostile guest: its monitor and VM process are gone, the container stopped" \
  "pids $hpid $hinner; state: $(status_of vhostile)" \
  eval 'wait_for 20 dead "${hpid:-0}" && dead "${hinner:-0}" && [ "$(status_of vhostile)" = stopped ]'
out=$("$bh" --root "$root" exec vesc echo neighbour 2>&1 </dev/null)
check "hostile guest: the neighbouring VM still answers" "$out" [ "$out" = neighbour ]
out=$("$bh" --root "$root" delete vhostile 2>&1)
check "hostile guest: delete leaves nothing (state dir, monitor, cgroup)" "exit $?: $out" \
  eval '[ ! -e "$root/vhostile" ] && [ ! -e /sys/fs/cgroup/bulkhead/vhostile ]'

check "escapes: the test host's hostname and core pattern are unchanged" \
  "hostname $(hostname), core_pattern $(cat /proc/sys/kernel/core_pattern)" \
  eval '[ "$(hostname)" = "$hostname_before" ] &&
        [ "$(cat /proc/sys/kernel/core_pattern)" = "$core_before" ]'
"$bh" --root "$root" delete --force vesc >/dev/null 2>&1
check "escapes: delete --force leaves nothing" "$(ls -A "$root" 2>&1)" \
  eval 'wait_for 10 no_vmm_running && [ ! -e "$root/vesc" ]'
echo "# escapes: $(($(date +%s) - t0)) s"

# --- errors at create leave nothing behind ---------------------------------------------------
# refused WHAT ID BUNDLE RUNTIME_CONFIG PATTERN: run fails with a message matching PATTERN and
# leaves no state dir, monitor or cgroup.
refused() {
  id=$2 pattern=$5
  out=$(BULKHEAD_RUNTIME_CONFIG="$4" "$bh" --root "$root" run -b "$work/b-$3" "$id" 2>&1 </dev/null)
  rc=$?
  check "$1 fails, saying so" "exit $rc: $out" \
    eval '[ $rc != 0 ] && echo "$out" | grep -q "$pattern"'
  check "$1 leaves nothing: state dir, monitor, cgroup" "$(ls -A "$root" 2>&1)" \
    eval 'wait_for 10 no_vmm_running && [ ! -e "$root/$id" ] &&
          [ ! -e "/sys/fs/cgroup/bulkhead/$id" ]'
}
refused "a bad isolation annotation" vbad bad "$work/runtime.json" 'run.bulkhead.isolation.*bogus'
sed "s|\"$kernel\"|\"/nonexistent/vmlinux\"|" "$work/runtime.json" >"$work/missing.json"
refused "a missing guest kernel" vmiss run "$work/missing.json" /nonexistent/vmlinux
# The guest cannot boot in time: create stops the monitor and removes everything.
sed 's|"boot_timeout_s": 300|"boot_timeout_s": 1|' "$work/runtime.json" >"$work/slow.json"
refused "a guest that does not come up in time" vslow run "$work/slow.json" \
  "did not come up within 1 s"

echo "# total: $(($(date +%s) - start_s)) s"
rm -rf "$work"
tap_summary
