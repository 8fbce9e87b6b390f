#!/usr/bin/env bash
# OCI lifecycle hooks (runtime-spec config.md "POSIX-platform Hooks", runtime.md
# "Lifecycle"): every kind runs when and where the spec says, with the state it should
# see; a failing, hanging or missing hook fails its verb with a clear error and leaves
# nothing behind. The order is compared with Debian's runc where they agree.
source "$(dirname "$0")/lib/harness.sh"

# The hooks and their logs live in HD, which containers see at /hookdir (a bind mount):
# createContainer gets the host path (its path resolves in the runtime namespace, before
# pivot_root), startContainer the container path (it resolves inside the container).
HD=$H_TMP/hookdir
mkdir -p "$HD" && chmod 755 "$HD"
[ -e /hookdir ] && h_skip "/hookdir exists on this host: the resolution checks need it absent"
cat >"$HD/hook.sh" <<'EOF'
#!/bin/sh
# hook.sh KIND LOG: appends "KIND STATUS PID MNTNS" taken from the state on stdin.
s=$(tr -d ' \n\t')
st=$(echo "$s" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
pid=$(echo "$s" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
echo "$1 $st ${pid:-0} $(readlink /proc/self/ns/mnt)" >>"$2"
EOF
chmod 755 "$HD/hook.sh"
HOSTNS=$(readlink /proc/self/ns/mnt)
HOOK_ENV='["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]'

# new_hooked TAG LOGNAME ARGS...: a plain bundle with one logging hook of every kind;
# sets ID, CG, B and LOG (the host path of the log).
new_hooked() {
  local tag=$1 logname=$2; shift 2
  ID=$(uid "$tag"); CG=/$ID; LOG=$HD/$logname
  B=$(bundle_new "$tag") || { not_ok "bundle $tag"; return 1; }
  cfg_plain "$B" "$CG" "$@"
  cfg "$B" "
hd, log = '$HD', '$logname'
def hk(kind, path, logdir):
    return {'path': path, 'args': ['hook.sh', kind, logdir + '/' + log], 'env': $HOOK_ENV}
c['hooks'] = {k: [hk(k, hd + '/hook.sh', hd)] for k in
              ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']}
c['hooks']['startContainer'] = [hk('startContainer', '/hookdir/hook.sh', '/hookdir')]
c['mounts'].append({'destination': '/hookdir', 'type': 'bind', 'source': hd,
                    'options': ['rbind', 'rw']})
"
}

# set_hook B KIND PYTHON-HOOK-LIST: replaces one kind's hooks.
set_hook() { cfg "$1" "c['hooks']['$2'] = $3"; }
sh_hook() {  # sh_hook SCRIPT [TIMEOUT]: a /bin/sh -c hook as a python dict literal
  local t=""
  [ -n "${2:-}" ] && t=", 'timeout': $2"
  printf "{'path': '/bin/sh', 'args': ['sh', '-c', %s], 'env': %s%s}" \
    "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")" "$HOOK_ENV" "$t"
}
kinds() { cut -d' ' -f1-2 "$1" 2>/dev/null; }      # "KIND STATUS" lines
lines() { cut -d' ' -f1-3 "$1" 2>/dev/null; }      # "KIND STATUS PID" lines
ns_of() { awk -v k="$2" '$1 == k { print $4 }' "$1"; }

# --- the whole lifecycle: create, start, delete -----------------------------------
new_hooked life life.log /bin/sh -c 'echo ran >/hookdir/life.ran; sleep 2'
track "$ID"
cap rt create --bundle "$B" "$ID"
check_eq "create with every hook kind exits 0" 0 "$RC"
PID=$(state_of "$ID" pid)
CTRNS=$(readlink "/proc/$PID/ns/mnt")
check_eq "create runs prestart, createRuntime, createContainer in order, status creating, the container's pid" \
  "prestart creating $PID
createRuntime creating $PID
createContainer creating $PID" "$(lines "$LOG")"
check_eq "prestart runs in the runtime's mount namespace" "$HOSTNS" "$(ns_of "$LOG" prestart)"
check_eq "createRuntime runs in the runtime's mount namespace" "$HOSTNS" "$(ns_of "$LOG" createRuntime)"
check_eq "createContainer runs in the container's mount namespace" "$CTRNS" "$(ns_of "$LOG" createContainer)"
check "the workload has not run after create" test ! -e "$HD/life.ran"
# Hooks are the config's as create read it: a later edit changes nothing.
cfg "$B" "c.pop('hooks', None)"
cap rt start "$ID"
check_eq "start exits 0" 0 "$RC"
check_eq "start runs startContainer (created) then poststart (running)" \
  "startContainer created $PID
poststart running $PID" "$(lines "$LOG" | tail -n 2)"
check_eq "startContainer runs in the container's mount namespace" "$CTRNS" "$(ns_of "$LOG" startContainer)"
check_eq "poststart runs in the runtime's mount namespace" "$HOSTNS" "$(ns_of "$LOG" poststart)"
check "poststart runs once the workload was exec'd" test -e "$HD/life.ran"
check "the container stops by itself" wait_status "$ID" stopped 10
check_eq "nothing runs while it runs and stops" 5 "$(wc -l <"$LOG")"
cap rt delete "$ID"
check_eq "delete exits 0" 0 "$RC"
check_eq "delete runs poststop (stopped, pid 0) in the runtime's mount namespace" \
  "poststop stopped 0 $HOSTNS" "$(tail -n 1 "$LOG")"
check_gone "the hooked lifecycle leaves nothing" "$ID" "$CG" "$PID"
LIFE_LOG=$LOG

# --- run in the foreground: all six in order ---------------------------------------
new_hooked run run.log /bin/true
cap rt run --bundle "$B" "$ID"
check_eq "run with every hook kind exits 0" 0 "$RC"
check_eq "run goes through all six kinds in lifecycle order" \
  "prestart creating
createRuntime creating
createContainer creating
startContainer created
poststart running
poststop stopped" "$(kinds "$LOG")"
check_gone "run with hooks leaves nothing" "$ID" "$CG"

# --- a failing createRuntime hook fails create -----------------------------------
new_hooked crfail crfail.log /bin/true
set_hook "$B" createRuntime "[$(sh_hook 'echo no network here >&2; exit 7')]"
cap rt create --bundle "$B" "$ID"
check_ne "create with a failing createRuntime hook fails" 0 "$RC"
check_match "the error names the hook, its exit status and its stderr" \
  'hooks\.createRuntime\[0\] \(/bin/sh\): exited with status 7, stderr: no network here' "$ERR"
check_eq "the failure is reported once" 1 "$(grep -c 'hooks\.createRuntime' <<<"$ERR")"
check_eq "prestart ran, createContainer did not, poststop ended the lifecycle" \
  "prestart creating
poststop stopped" "$(kinds "$LOG")"
check_gone "a failing createRuntime hook leaves nothing" "$ID" "$CG"

# --- a failing createContainer hook fails create ---------------------------------
new_hooked ccfail ccfail.log /bin/true
set_hook "$B" createContainer "[$(sh_hook 'echo bad mounts >&2; exit 1')]"
cap rt create --bundle "$B" "$ID"
check_ne "create with a failing createContainer hook fails" 0 "$RC"
check_match "the error names the createContainer hook" \
  'hooks\.createContainer\[0\] \(/bin/sh\): exited with status 1, stderr: bad mounts' "$ERR"
check_gone "a failing createContainer hook leaves nothing" "$ID" "$CG"

# --- a hook that hangs past its timeout ------------------------------------------
new_hooked hang hang.log /bin/true
MARK=$((100 + RANDOM % 800)).$$
set_hook "$B" prestart "[$(sh_hook "sleep $MARK; true" 1)]"
T0=$(date +%s%N)
cap rt create --bundle "$B" "$ID"
T1=$(date +%s%N)
check_ne "create with a hanging prestart hook fails" 0 "$RC"
check_match "the error says it timed out" 'hooks\.prestart\[0\] \(/bin/sh\): timed out after 1s' "$ERR"
check "create gives up soon after the timeout (took $(((T1 - T0) / 1000000)) ms)" \
  test $(((T1 - T0) / 1000000)) -lt 5000
check_nomatch "the hung hook's process is gone" "sleep $MARK" \
  "$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ')"
check_gone "a hanging hook leaves nothing" "$ID" "$CG"

# --- a hook binary that does not exist --------------------------------------------
new_hooked missing missing.log /bin/true
set_hook "$B" createRuntime "[{'path': '$HD/no-such-hook'}]"
cap rt create --bundle "$B" "$ID"
check_ne "create with a missing hook binary fails" 0 "$RC"
check_match "the error names the missing path" \
  "hooks\.createRuntime\[0\] \($HD/no-such-hook\): cannot execute: No such file or directory" "$ERR"
check_gone "a missing hook binary leaves nothing" "$ID" "$CG"

# startContainer resolves inside the container: a host path is not found there.
new_hooked scpath scpath.log /bin/true
set_hook "$B" startContainer "[{'path': '$HD/hook.sh', 'args': ['hook.sh', 'startContainer', '/hookdir/scpath.log']}]"
track "$ID"
cap rt create --bundle "$B" "$ID"
check_eq "create with a startContainer hook given by its host path exits 0" 0 "$RC"
cap rt start "$ID"
check_ne "start fails: the host path does not resolve in the container" 0 "$RC"
check_match "the error names the startContainer hook and the missing path" \
  "hooks\.startContainer\[0\] \($HD/hook.sh\): cannot execute: No such file or directory" "$ERR"
rt delete --force "$ID" >/dev/null 2>&1

# --- a failing startContainer hook fails start and stops the container -------------
new_hooked scfail scfail.log /bin/sh -c 'echo ran >/hookdir/scfail.ran; sleep 100'
set_hook "$B" startContainer "[$(sh_hook 'echo no ldconfig >&2; exit 2')]"
track "$ID"
cap rt create --bundle "$B" "$ID"
check_eq "create with a failing startContainer hook exits 0" 0 "$RC"
PID=$(state_of "$ID" pid)
cap rt start "$ID"
check_ne "start with a failing startContainer hook fails" 0 "$RC"
check_match "the error names the startContainer hook" \
  'hooks\.startContainer\[0\] \(/bin/sh\): exited with status 2, stderr: no ldconfig' "$ERR"
check_eq "the container is stopped" stopped "$(state_of "$ID" status)"
check "the workload never ran" test ! -e "$HD/scfail.ran"
check_nomatch "poststart did not run" poststart "$(kinds "$LOG")"
cap rt delete "$ID"
check_eq "delete after a failed startContainer exits 0" 0 "$RC"
check_eq "delete still runs poststop" "poststop stopped" "$(kinds "$LOG" | tail -n 1)"
check_gone "a failing startContainer hook leaves nothing after delete" "$ID" "$CG" "$PID"

# --- a failing poststart hook fails start and stops the container -------------------
new_hooked psfail psfail.log /bin/sleep 100
set_hook "$B" poststart "[$(sh_hook 'exit 3')]"
track "$ID"
cap rt create --bundle "$B" "$ID"
PID=$(state_of "$ID" pid)
cap rt start "$ID"
check_ne "start with a failing poststart hook fails" 0 "$RC"
check_match "the error names the poststart hook" 'hooks\.poststart\[0\] \(/bin/sh\): exited with status 3' "$ERR"
check_eq "the container is stopped" stopped "$(state_of "$ID" status)"
cap rt delete "$ID"
check_eq "delete after a failed poststart exits 0" 0 "$RC"
check_gone "a failing poststart hook leaves nothing after delete" "$ID" "$CG" "$PID"

# --- a failing poststop hook: a warning, the others still run -----------------------
new_hooked pstop pstop.log /bin/true
cfg "$B" "c['hooks']['poststop'].insert(0, $(sh_hook 'echo cleanup failed >&2; exit 4'))"
cap rt run --bundle "$B" "$ID"
check_eq "run whose first poststop hook fails still exits 0" 0 "$RC"
check_match "the failure is logged, naming the hook" \
  'hooks\.poststop\[0\] \(/bin/sh\): exited with status 4, stderr: cleanup failed' "$ERR"
check_eq "the next poststop hook still runs" "poststop stopped" "$(kinds "$LOG" | tail -n 1)"
check_gone "a failing poststop hook leaves nothing" "$ID" "$CG"

# --- compared with runc -----------------------------------------------------------
# runc 1.1 runs poststart during create (with status created), not after start as
# runtime-spec says, and gives createContainer/startContainer the pid as seen inside the
# container: compare the other kinds' order and statuses.
REF=/usr/bin/runc
if [ "$RUNTIME" != "$REF" ] && [ -x "$REF" ]; then
  REFROOT=$H_TMP/state-runc
  new_hooked ref ref.log /bin/sh -c 'sleep 1'
  track "$ID" "$REF" "$REFROOT"
  rt_with "$REF" "$REFROOT" create --bundle "$B" "$ID" </dev/null >/dev/null 2>"$H_TMP/ref.err"
  check_eq "runc creates the same hooked bundle" 0 "$?"
  rt_with "$REF" "$REFROOT" start "$ID" </dev/null >/dev/null 2>>"$H_TMP/ref.err"
  sleep 1.5
  rt_with "$REF" "$REFROOT" delete --force "$ID" </dev/null >/dev/null 2>>"$H_TMP/ref.err"
  check_eq "create/start/delete: hook order and statuses match runc's (poststart aside)" \
    "$(kinds "$LOG" | grep -v '^poststart')" "$(kinds "$LIFE_LOG" | grep -v '^poststart')"
  check_eq "createContainer and startContainer run in the container's mount namespace with runc too" \
    "2" "$(awk -v h="$HOSTNS" '($1 == "createContainer" || $1 == "startContainer") && $4 != h' "$LOG" | wc -l)"

  new_hooked refcr refcr.log /bin/true
  set_hook "$B" createRuntime "[$(sh_hook 'exit 7')]"
  rt_with "$REF" "$REFROOT" create --bundle "$B" "$ID" </dev/null >/dev/null 2>&1
  check_ne "runc fails create on a failing createRuntime hook too" 0 "$?"
  rt_with "$REF" "$REFROOT" delete --force "$ID" </dev/null >/dev/null 2>&1
  check_eq "a failing createRuntime hook: the same hooks ran as with runc" \
    "$(kinds "$LOG")" "$(kinds "$HD/crfail.log")"
else
  skip "comparison with runc" "no $REF, or it is the runtime under test"
fi

summary
