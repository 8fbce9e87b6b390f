#!/usr/bin/env bash
# The cgroup verbs as runc's callers use them: pause/resume, update, events, ps and
# the errors a caller must be able to rely on. Every case runs against the runtime
# under test and, when it is installed, against Debian's runc; where runc behaves the
# same, the results must match.
source "$(dirname "$0")/lib/harness.sh"

REF=${REFERENCE_RUNTIME:-/usr/bin/runc}
command -v ps >/dev/null || h_skip "ps (procps) missing"
[ -d /sys/fs/cgroup ] || h_skip "no cgroups mounted"

# knob CG V1CONTROLLER V1FILE V2FILE: a file of the container's cgroup on a v1 or a v2
# host ("missing" when neither exists).
knob() {
  local cg=${1#/}
  if [ -e "/sys/fs/cgroup/$2/$cg/$3" ]; then
    cat "/sys/fs/cgroup/$2/$cg/$3"
  elif [ -e "/sys/fs/cgroup/$cg/$4" ]; then
    cat "/sys/fs/cgroup/$cg/$4"
  else
    echo missing
  fi
}
V1_FREEZER=false
[ -e /sys/fs/cgroup/freezer/freezer.state ] || [ -d /sys/fs/cgroup/freezer ] && V1_FREEZER=true

# frozen CG: 1 when the freezer reports the cgroup frozen, else 0.
frozen() {
  local cg=${1#/}
  if $V1_FREEZER; then
    [ "$(cat "/sys/fs/cgroup/freezer/$cg/freezer.state" 2>/dev/null)" = FROZEN ] && echo 1 || echo 0
  else
    grep -qx 'frozen 1' "/sys/fs/cgroup/$cg/cgroup.events" 2>/dev/null && echo 1 || echo 0
  fi
}

proc_state() { awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# json_path JSON PATH...: a nested field ("" when missing).
json_path() {
  python3 -c 'import json,sys
try:
    v = json.loads(sys.argv[1])
    for k in sys.argv[2:]:
        v = v[int(k)] if isinstance(v, list) else v[k]
    print(json.dumps(v) if isinstance(v, (dict, list)) else v)
except Exception:
    print("")' "$@"
}

# stats_shape JSON ID: what the events --stats object must have, as one line.
stats_shape() {
  python3 - "$1" "$2" <<'PY'
import json, sys
try:
    e = json.loads(sys.argv[1])
except ValueError as err:
    print("not JSON: %s" % err); sys.exit(0)
d = e.get("data", {})
out = ["type=%s" % e.get("type"), "id=%s" % ("ok" if e.get("id") == sys.argv[2] else e.get("id"))]
for k in ("cpu", "memory", "pids", "blkio", "hugetlb"):
    out.append("%s=%s" % (k, "yes" if isinstance(d.get(k), dict) else "no"))
u = d.get("cpu", {}).get("usage", {})
out.append("cpu.usage.kernel/user=%s" % ("yes" if "kernel" in u and "user" in u else "no"))
out.append("memory.usage.limit=%s" % d.get("memory", {}).get("usage", {}).get("limit"))
out.append("pids.current>=1=%s" % (d.get("pids", {}).get("current", 0) >= 1))
print(" ".join(out))
PY
}

# wait_gone PID SECONDS: waits for a background job of this shell; GONE_RC is its exit
# status, or "running" when it did not end in time.
wait_gone() {
  local i=0 n=$(($2 * 10))
  GONE_RC=running
  while [ $i -lt $n ]; do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      GONE_RC=$?
      return
    fi
    sleep 0.1; i=$((i + 1))
  done
}

# wait_grep FILE ERE SECONDS: polls FILE until a line matches.
wait_grep() {
  local i=0 n=$(($3 * 10))
  while [ $i -lt $n ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# cases RUNTIME TAG: every case against RUNTIME, with key=value results in results.TAG.
# The runtime under test also gets the checks where runc behaves differently (marked).
cases() {
  local r=$1 tag=$2 root=$H_TMP/state-$2 res=$H_TMP/results.$2
  local id cg b pid s before ev evpid
  local is_ref=false
  [ "$tag" = ref ] && is_ref=true
  : >"$res"
  R() { rt_with "$r" "$root" "$@"; }
  put() { echo "$1=$2" >>"$res"; }
  st() { json_get "$(R state "$1" 2>/dev/null)" "$2"; }

  # --- pause / resume --------------------------------------------------------------
  id=$(uid "$tag-sleep"); cg=/$id
  b=$(bundle_new "$tag-sleep") || { not_ok "[$tag] bundle"; return; }
  cfg_plain "$b" "$cg" /bin/sleep 1000
  track "$id" "$r" "$root"
  cap R run -d --bundle "$b" "$id"
  check_eq "[$tag] run -d of a sleeping container exits 0" 0 "$RC$ERR"
  pid=$(st "$id" pid)
  check "[$tag] it runs with a pid" test "${pid:-0}" -gt 0

  cap R pause "$id"
  check_eq "[$tag] pause exits 0" 0 "$RC"; put pause "$RC"
  s=$(st "$id" status)
  check_eq "[$tag] state after pause is paused" paused "$s"; put state_after_pause "$s"
  check_eq "[$tag] the host's freezer reports the cgroup frozen" 1 "$(frozen "$cg")"
  put frozen "$(frozen "$cg")"
  if $V1_FREEZER; then
    s=$(proc_state "$pid")
    check_eq "[$tag] the frozen init sleeps in the freezer (state D)" D "$s"; put proc_state_paused "$s"
  fi
  cap R list --format json
  s=$(python3 -c 'import json,sys
print(" ".join(c["status"] for c in json.loads(sys.argv[1]) or [] if c["id"] == sys.argv[2]))' "$OUT" "$id" 2>&1)
  check_eq "[$tag] list shows it paused" paused "$s"; put list_paused "$s"
  cap R pause "$id"
  check_ne "[$tag] pause of a paused container fails" 0 "$RC"; put pause_again "$([ $RC -ne 0 ] && echo failed)"
  check_match "[$tag] ... and says why" '.' "$ERR"

  cap R resume "$id"
  check_eq "[$tag] resume exits 0" 0 "$RC"; put resume "$RC"
  s=$(st "$id" status)
  check_eq "[$tag] state after resume is running" running "$s"; put state_after_resume "$s"
  check_eq "[$tag] the freezer reports thawed" 0 "$(frozen "$cg")"
  check_match "[$tag] the init sleeps normally again" '^[SR]$' "$(proc_state "$pid")"
  cap R resume "$id"
  check_ne "[$tag] resume of a running container fails" 0 "$RC"
  check_match "[$tag] ... and says it is not paused" 'not paused' "$ERR"
  put resume_running "$([ $RC -ne 0 ] && echo failed)"

  # --- update ------------------------------------------------------------------------
  before=$(knob "$cg" devices devices.list x)
  cap R update --memory 32m --pids-limit 20 "$id"
  check_eq "[$tag] update --memory 32m --pids-limit 20 exits 0" 0 "$RC"
  s=$(knob "$cg" memory memory.limit_in_bytes memory.max)
  check_eq "[$tag] update --memory reached the host's cgroup" 33554432 "$s"; put memory_flag "$s"
  s=$(knob "$cg" pids pids.max pids.max)
  check_eq "[$tag] update --pids-limit reached the host's cgroup" 20 "$s"; put pids_flag "$s"
  check_eq "[$tag] update leaves the device rules as they were" "$before" \
    "$(knob "$cg" devices devices.list x)"

  printf '%s\n' '{"memory": {"limit": 50331648}, "cpu": {"shares": 512}, "pids": {"limit": 40}}' \
    >"$H_TMP/resources-$tag.json"
  cap R update --resources "$H_TMP/resources-$tag.json" "$id"
  check_eq "[$tag] update --resources FILE exits 0" 0 "$RC"
  s=$(knob "$cg" memory memory.limit_in_bytes memory.max)
  check_eq "[$tag] --resources set memory.limit" 50331648 "$s"; put memory_file "$s"
  s=$(knob "$cg" pids pids.max pids.max)
  check_eq "[$tag] --resources set pids.limit" 40 "$s"; put pids_file "$s"
  if [ -e "/sys/fs/cgroup/cpu/${cg#/}/cpu.shares" ]; then
    s=$(knob "$cg" cpu cpu.shares x)
    check_eq "[$tag] --resources set cpu.shares" 512 "$s"; put shares_file "$s"
  else
    check_eq "[$tag] --resources set cpu.weight from the shares" 20 "$(knob "$cg" cpu x cpu.weight)"
  fi
  R update -r - "$id" <<<'{"pids": {"limit": 41}}' >/dev/null 2>&1
  s=$(knob "$cg" pids pids.max pids.max)
  check_eq "[$tag] update -r - reads the resources from stdin" 41 "$s"; put pids_stdin "$s"

  printf '%s\n' '{"memory": {"limit": 1' >"$H_TMP/bad-$tag.json"
  cap R update --resources "$H_TMP/bad-$tag.json" "$id"
  check_ne "[$tag] update with malformed JSON fails" 0 "$RC"; put bad_json "$([ $RC -ne 0 ] && echo failed)"
  check_match "[$tag] ... and says why" '.' "$ERR"
  check_eq "[$tag] ... and changes nothing (memory)" 50331648 "$(knob "$cg" memory memory.limit_in_bytes memory.max)"
  check_eq "[$tag] ... and changes nothing (pids)" 41 "$(knob "$cg" pids pids.max pids.max)"
  cap R update --memory 12x "$id"
  check_ne "[$tag] update --memory 12x fails" 0 "$RC"; put bad_size "$([ $RC -ne 0 ] && echo failed)"

  # --- events --stats and ps ------------------------------------------------------------
  cap R events --stats "$id"
  check_eq "[$tag] events --stats exits 0" 0 "$RC"
  s=$(stats_shape "$OUT" "$id")
  check_eq "[$tag] events --stats: one stats object with cpu, memory, pids" \
    "type=stats id=ok cpu=yes memory=yes pids=yes blkio=yes hugetlb=yes cpu.usage.kernel/user=yes memory.usage.limit=50331648 pids.current>=1=True" \
    "$s"
  put stats_shape "$s"
  cap R events --stats --interval 1s "$id"
  check_eq "[$tag] events --stats takes --interval too" 0 "$RC"

  cap R ps --format json "$id"
  check_eq "[$tag] ps --format json exits 0" 0 "$RC"
  check_eq "[$tag] ps --format json lists the init pid" "[$pid]" "$(printf '%s' "$OUT" | tr -d ' \n')"
  put ps_json "$([ "$(printf '%s' "$OUT" | tr -d ' \n')" = "[$pid]" ] && echo init)"
  cap R ps "$id"
  check_eq "[$tag] ps (table) exits 0" 0 "$RC"
  check_match "[$tag] ps table has ps -ef's header" '^UID +PID +PPID' "$OUT"
  check_match "[$tag] ps table has the init's row" "^[^ ]+ +$pid +[0-9]+ .*sleep 1000" "$OUT"
  check_eq "[$tag] ps table has nothing else" 2 "$(printf '%s\n' "$OUT" | wc -l)"
  put ps_table "$(printf '%s\n' "$OUT" | wc -l)"
  cap R ps "$id" -e -o pid,comm
  check_eq "[$tag] ps ID -e -o pid,comm exits 0" 0 "$RC"
  check_match "[$tag] ... and passes the arguments to ps" "^ *$pid sleep\$" "$OUT"
  put ps_args "$(printf '%s\n' "$OUT" | sed -n 2p | awk '{print $2}')"
  if ! $is_ref; then
    # runc hands "--" to ps, which refuses it; bulkhead ends its own options there.
    cap R ps --format table "$id" -- -e -o pid,comm
    check_match "[$tag] ps ID -- ARGS passes ARGS to ps" "^ *$pid sleep\$" "$OUT"
  fi

  # --- events stream -------------------------------------------------------------------
  ev=$H_TMP/events-$tag.out
  R events --interval 1s "$id" >"$ev" 2>&1 &
  evpid=$!
  sleep 2.5
  check_match "[$tag] the events stream prints a stats line every --interval" \
    "^\{.*\"type\": ?\"stats\"" "$(head -1 "$ev")"
  s=$(grep -c '"type": *"stats"' "$ev")
  check "[$tag] ... at least one in 2.5s" test "${s:-0}" -ge 1
  put stream_stats "$([ "${s:-0}" -ge 1 ] && echo yes)"
  cap R kill "$id" KILL
  if $is_ref; then
    kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null  # runc streams until the cgroup is gone
  else
    wait_gone "$evpid" 5
    check_eq "[$tag] the events stream exits 0 once the container is killed" 0 "$GONE_RC"
  fi
  cap R delete "$id"
  check_eq "[$tag] delete after the kill exits 0" 0 "$RC"
  check_gone "[$tag] the paused, updated and killed container leaves nothing" "$id" "$cg" "$pid" "$root"

  # --- OOM ------------------------------------------------------------------------------
  # dd fills /dev/shm (tmpfs, charged to the container) past a 16M limit once told to.
  id=$(uid "$tag-oom"); cg=/$id
  b=$(bundle_new "$tag-oom") || { not_ok "[$tag] bundle"; return; }
  cfg_plain "$b" "$cg" /bin/sh -c \
    'while [ ! -e /tmp/go ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/shm/fill bs=1M count=60; sleep 1000'
  local swap=""
  [ "$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)" != 0 ] && swap=", 'swap': 16777216"
  cfg "$b" "lin.setdefault('resources', {})['memory'] = {'limit': 16777216$swap}"
  track "$id" "$r" "$root"
  cap R run -d --bundle "$b" "$id"
  check_eq "[$tag] run -d of the OOM container exits 0" 0 "$RC"
  pid=$(st "$id" pid)
  ev=$H_TMP/events-oom-$tag.out
  R events --interval 1s "$id" >"$ev" 2>&1 &
  evpid=$!
  sleep 0.5
  touch "/proc/$pid/root/tmp/go"
  wait_grep "$ev" '"type": *"oom"' 15
  check_eq "[$tag] the events stream reports the OOM kill" 0 $?
  check_match "[$tag] ... as runc does: {type: oom, id}" "^\{\"id\":\"$id\",\"type\":\"oom\"\}$|^\{\"type\":\"oom\",\"id\":\"$id\"\}$" \
    "$(grep '"oom"' "$ev" | head -1)"
  put oom_event "$(grep -q '"type": *"oom"' "$ev" && echo yes)"
  if ! $is_ref; then
    cap R events --stats "$id"
    s=$(json_path "$OUT" data memory raw oom_kill)
    check "[$tag] events --stats counts the OOM kill (memory.raw.oom_kill)" test "${s:-0}" -ge 1
    s=$(json_path "$OUT" data memory usage failcnt)
    check "[$tag] ... and the limit hits (memory.usage.failcnt)" test "${s:-0}" -ge 1
    cap R state "$id"
    check_match "[$tag] state stays runtime-spec: running or stopped" '"status": "(running|stopped)"' "$OUT"
  fi
  R kill "$id" KILL >/dev/null 2>&1
  if $is_ref; then
    kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null
  else
    wait_gone "$evpid" 5
    check_eq "[$tag] the OOM container's events stream exits 0 once it is killed" 0 "$GONE_RC"
  fi
  R delete --force "$id" >/dev/null 2>&1
  check_gone "[$tag] the OOM container leaves nothing" "$id" "$cg" "$pid" "$root"

  # --- delete --force of a paused container ----------------------------------------------
  id=$(uid "$tag-pdel"); cg=/$id
  b=$(bundle_new "$tag-pdel") || { not_ok "[$tag] bundle"; return; }
  cfg_plain "$b" "$cg" /bin/sh -c 'sleep 1000 & sleep 1000'
  track "$id" "$r" "$root"
  R run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
  pid=$(st "$id" pid)
  R pause "$id" >/dev/null 2>&1
  check_eq "[$tag] a second container is paused" paused "$(st "$id" status)"
  cap R delete "$id"
  check_ne "[$tag] delete of a paused container without --force fails" 0 "$RC"
  put delete_paused "$([ $RC -ne 0 ] && echo failed)"
  cap R delete --force "$id"
  check_eq "[$tag] delete --force of a paused container exits 0" 0 "$RC"; put delete_force_paused "$RC"
  check_gone "[$tag] ... and leaves nothing" "$id" "$cg" "$pid" "$root"

  # --- bad input ---------------------------------------------------------------------------
  local verb
  for verb in pause resume "update --memory 1m" "events --stats" ps; do
    # shellcheck disable=SC2086  # the verb carries its flags
    cap R $verb "$(uid "$tag-nosuch")"
    check_ne "[$tag] $verb of an unknown id fails" 0 "$RC"
    check_match "[$tag] ... saying it does not exist" 'not exist' "$ERR"
    put "unknown_${verb%% *}" "$([ $RC -ne 0 ] && echo failed)"
  done
}

cases "$RUNTIME" test

# Without cgroups there is nothing to freeze, update or count: clear errors, no crash.
ID=$(uid nocg); B=$(bundle_new nocg) && cfg_plain "$B" "" /bin/sleep 1000
track "$ID"
cap rt --cgroup-manager disabled run -d --bundle "$B" "$ID"
if [ "$RC" -eq 0 ]; then
  for verb in pause "update --memory 64m" "events --stats" ps; do
    # shellcheck disable=SC2086
    cap rt $verb "$ID"
    check_ne "no cgroups: $verb fails" 0 "$RC"
    check_match "no cgroups: $verb says the container has no cgroup" 'without cgroups' "$ERR"
  done
  check_eq "no cgroups: it is still running" running "$(state_of "$ID" status)"
  rt delete --force "$ID" >/dev/null 2>&1
else
  skip "no cgroups: pause/update/events/ps" "run with --cgroup-manager disabled failed: $ERR"
fi

# The compare section: the runtime under test behaves as the reference does.
compare_with_ref "$REF"

summary
