#!/usr/bin/env bash
# The OCI lifecycle as runc's callers drive it: run, create/start/state/delete,
# kill, list, and the errors a caller must be able to rely on.
source "$(dirname "$0")/lib/harness.sh"

# new_plain TAG ARGS...: a bundle for TAG with a plain config; sets ID, CG, B.
new_plain() {
  local tag=$1; shift
  ID=$(uid "$tag"); CG=/$ID
  B=$(bundle_new "$tag") || { not_ok "bundle $tag"; return 1; }
  cfg_plain "$B" "$CG" "$@"
}

# started_detached TAG ARGS...: `run -d` of a plain bundle; sets PID.
started_detached() {
  new_plain "$@" || return 1
  track "$ID"
  rt run -d --bundle "$B" "$ID" </dev/null >"$H_TMP/$ID.log" 2>&1
  local rc=$?
  PID=$(state_of "$ID" pid)
  [ $rc -eq 0 ] && [ "$(state_of "$ID" status)" = running ]
}

# --- run: the exit status is the workload's ---------------------------------
new_plain true /bin/true
cap rt run --bundle "$B" "$ID"
check_eq "run /bin/true exits 0" 0 "$RC"
check_gone "run /bin/true leaves nothing" "$ID" "$CG"

new_plain exit3 /bin/sh -c 'echo out; echo err >&2; exit 3'
cap rt run --bundle "$B" "$ID"
check_eq "run sh -c 'exit 3' exits 3" 3 "$RC"
check_eq "run passes the workload's stdout" out "$OUT"
check_match "run passes the workload's stderr" '^err$' "$ERR"
check_gone "run exit 3 leaves nothing" "$ID" "$CG"

# --- create / state / start / delete ----------------------------------------
new_plain cs /bin/sh -c 'echo started >/tmp/x; sleep 1'
track "$ID"
cap rt create --bundle "$B" --pid-file "$H_TMP/cs.pid" "$ID"
check_eq "create exits 0" 0 "$RC"
S=$(state_of "$ID")
check_eq "state after create is created" created "$(json_get "$S" status)"
PID=$(json_get "$S" pid)
check "state pid > 0 after create" test "${PID:-0}" -gt 0
check_eq "state id" "$ID" "$(json_get "$S" id)"
check_eq "state bundle" "$B" "$(json_get "$S" bundle)"
check_match "state ociVersion" '^1\.' "$(json_get "$S" ociVersion)"
check_eq "pid-file holds the state pid" "$PID" "$(cat "$H_TMP/cs.pid" 2>/dev/null)"
check "the created process exists" test -d "/proc/$PID"
cap rt start "$ID"
check_eq "start exits 0" 0 "$RC"
check_match "state after start is running or stopped" '^(running|stopped)$' "$(state_of "$ID" status)"
check "container stops by itself" wait_status "$ID" stopped 10
cap rt start "$ID"
check_ne "start of a stopped container fails" 0 "$RC"
cap rt delete "$ID"
check_eq "delete exits 0" 0 "$RC"
cap rt state "$ID"
check_ne "state after delete fails" 0 "$RC"
check_gone "create/start/delete leaves nothing" "$ID" "$CG" "$PID"

# --- kill --------------------------------------------------------------------
# The workload is pid 1 of its namespace: the kernel drops signals it has no
# handler for, so the shell installs one (as real init systems do).
TRAP_SLEEP=(/bin/sh -c 'trap "exit 143" TERM; sleep 100 & wait $!')
check "run -d sleep container is running" started_detached term "${TRAP_SLEEP[@]}"
check_match "a running container has its cgroup (so the leftover checks mean something)" \
  "/sys/fs/cgroup/.*$ID" "$(cgroup_dirs "$CG")"
cap rt kill "$ID" TERM
check_eq "kill TERM exits 0" 0 "$RC"
check "after kill TERM state shows stopped" wait_status "$ID" stopped 5
cap rt delete "$ID"
check_eq "delete after kill exits 0" 0 "$RC"
check_gone "kill TERM leaves nothing" "$ID" "$CG" "$PID"

started_detached default "${TRAP_SLEEP[@]}"
cap rt kill "$ID"
check_eq "kill without a signal exits 0" 0 "$RC"
check "kill without a signal (SIGTERM) stops it" wait_status "$ID" stopped 5
rt delete "$ID" >/dev/null 2>&1

for sig in KILL SIGKILL 9; do
  started_detached "kill$sig" /bin/sleep 100
  cap rt kill "$ID" "$sig"
  check_eq "kill $sig exits 0" 0 "$RC"
  check "kill $sig stops the container" wait_status "$ID" stopped 5
  rt delete "$ID" >/dev/null 2>&1
  check_gone "kill $sig leaves nothing" "$ID" "$CG" "$PID"
done

started_detached badsig /bin/sleep 100
cap rt kill "$ID" NOTASIGNAL
check_ne "kill with an unknown signal fails" 0 "$RC"
check_eq "unknown signal leaves it running" running "$(state_of "$ID" status)"

started_detached all /bin/sh -c 'sleep 100 & sleep 100 & sleep 100'
cap rt kill --all "$ID" KILL
check_eq "kill --all exits 0" 0 "$RC"
check "kill --all stops the container" wait_status "$ID" stopped 5
cap rt delete "$ID"
check_eq "delete after kill --all exits 0" 0 "$RC"
check_gone "kill --all leaves nothing" "$ID" "$CG" "$PID"

# --- delete --force ----------------------------------------------------------
started_detached force /bin/sleep 100
cap rt delete "$ID"
check_ne "delete of a running container without --force fails" 0 "$RC"
check_eq "failed delete leaves it running" running "$(state_of "$ID" status)"
cap rt delete --force "$ID"
check_eq "delete --force of a running container exits 0" 0 "$RC"
cap rt state "$ID"
check_ne "state after delete --force fails" 0 "$RC"
check_gone "delete --force leaves nothing" "$ID" "$CG" "$PID"
cap rt delete "$ID"
check_ne "delete of an unknown id fails" 0 "$RC"

# --- list and duplicate ids -------------------------------------------------
started_detached list1 /bin/sleep 100; L1=$ID; L1PID=$PID
new_plain list2 /bin/true; L2=$ID
track "$L2"
cap rt create --bundle "$B" "$L2"
check_eq "second container created" 0 "$RC"
cap rt list --format json
check_eq "list --format json exits 0" 0 "$RC"
LJ=$(python3 -c 'import json,sys
for c in json.loads(sys.argv[1]) or []: print(c["id"], c["status"], c["pid"])' "$OUT" 2>&1)
check_match "list json shows the running container" "^$L1 running $L1PID\$" "$LJ"
check_match "list json shows the created container" "^$L2 created [0-9]+\$" "$LJ"
cap rt list
check_eq "list (table) exits 0" 0 "$RC"
check_match "list table has a header" '^ID +PID +STATUS' "$OUT"
check_match "list table shows the running container" "^$L1 +$L1PID +running" "$OUT"
check_match "list table shows the created container" "^$L2 +[0-9]+ +created" "$OUT"

new_plain dup /bin/true
cap rt create --bundle "$B" "$L1"
check_ne "create with a duplicate id fails" 0 "$RC"
check_match "duplicate id error names the problem" '[Ee]xist|in use|already' "$ERR"
check_eq "duplicate id leaves the first running" running "$(state_of "$L1" status)"
check_eq "duplicate id keeps the first's pid" "$L1PID" "$(state_of "$L1" pid)"
cap rt run --bundle "$B" "$L1"
check_ne "run with a duplicate id fails" 0 "$RC"
check_eq "failed run leaves the first running" running "$(state_of "$L1" status)"
rt delete --force "$L1" >/dev/null 2>&1
rt delete --force "$L2" >/dev/null 2>&1
cap rt list --format json
check_nomatch "list no longer shows deleted containers" "$L1|$L2" "$OUT"

# --- bad input: non-zero exit, no state left behind -------------------------
# bad_create NAME ID BUNDLE: create must fail and leave the state root untouched.
bad_create() {
  local before after
  before=$(ls -A "$H_ROOT" 2>/dev/null)
  cap rt create --bundle "$3" "$2"
  check_ne "$1 fails" 0 "$RC"
  check_match "$1 says why on stderr" '.' "$ERR"
  after=$(ls -A "$H_ROOT" 2>/dev/null)
  check_eq "$1 leaves no state" "$before" "$after"
  case $2 in
    "" | . | ..) ;;
    *) [ -e "$H_ROOT/$2" ] && not_ok "$1 left $H_ROOT/$2" ;;
  esac
  return 0
}
new_plain good /bin/true
for bad in ../x a/b "" . .. "a b"; do
  bad_create "invalid id '$bad'" "$bad" "$B"
done
check "invalid ids wrote nothing outside the root" test ! -e "$H_TMP/x"

bad_create "missing bundle" "$(uid nobundle)" "$H_TMP/no-such-bundle"

new_plain notjson /bin/true
echo 'this is { not json' >"$B/config.json"
bad_create "config.json that is not JSON" "$(uid notjson)" "$B"

new_plain argstype /bin/true
cfg "$B" "c['process']['args'] = 5"
bad_create "config.json with \"args\": 5" "$(uid argstype)" "$B"

new_plain noargs /bin/true
cfg "$B" "del c['process']['args']"
bad_create "config.json without process.args" "$(uid noargs)" "$B"

new_plain noconfig /bin/true
rm -f "$B/config.json"
bad_create "bundle without config.json" "$(uid noconfig)" "$B"

# --- --log-format json --log FILE ---------------------------------------------
new_plain logjson /bin/true
cfg "$B" "del c['process']['args']"
LOG=$H_TMP/runtime.log
timeout 30 "$RUNTIME" --root "$H_ROOT" --log "$LOG" --log-format json \
  create --bundle "$B" "$(uid logjson)" </dev/null >/dev/null 2>&1
check_ne "create with a bad config and --log fails" 0 $?
check "--log file written" test -s "$LOG"
LOGCHECK=$(python3 - "$LOG" <<'PY'
import json, os, sys
errors = 0
if not os.path.exists(sys.argv[1]):
    print("no log file"); sys.exit(1)
for n, line in enumerate(open(sys.argv[1]), 1):
    if not line.strip():
        continue
    try:
        o = json.loads(line)
    except ValueError as e:
        print(f"line {n} is not JSON: {line!r}"); sys.exit(1)
    if not isinstance(o, dict) or "level" not in o or "msg" not in o:
        print(f"line {n} lacks level/msg: {line!r}"); sys.exit(1)
    errors += o["level"] == "error"
print("errors=%d" % errors)
PY
)
check_match "--log-format json: one JSON object per line with level and msg, an error among them" \
  '^errors=[1-9]' "$LOGCHECK"

summary
