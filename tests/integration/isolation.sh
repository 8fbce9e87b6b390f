#!/usr/bin/env bash
# The container tier as its workload sees it: a hardened config, set field by
# field here (not taken from any runtime's defaults), then probed from inside.
source "$(dirname "$0")/lib/harness.sh"

MEM_LIMIT=67108864   # 64 MiB
PIDS_LIMIT=16
NOFILE_SOFT=512
NOFILE_HARD=1024     # below the host's, since raising it needs CAP_SYS_RESOURCE
HOSTNAME_IN=bh-isolated

# The seccomp section comes from bulkhead's own default, so the check is about
# the profile bulkhead ships; a reference runtime is handed the same section.
SECCOMP=""
if [ -n "${BULKHEAD:-}" ] && [ -x "$BULKHEAD" ]; then
  SECCOMP=$(spec_json "$BULKHEAD" | python3 -c 'import json,sys
s = json.load(sys.stdin).get("linux", {}).get("seccomp")
print(json.dumps(s) if s else "")' 2>/dev/null)
fi
[ -z "$SECCOMP" ] && echo "# no seccomp section from '\$BULKHEAD spec': seccomp checks skipped"

# harden BUNDLE CGPATH UID ARGS...: the hardened config, every field explicit.
harden() {
  local b=$1 cg=$2 user=$3; shift 3
  local args
  args=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")
  cfg "$b" "
c['process'] = {
  'terminal': False, 'args': $args, 'cwd': '/tmp',
  'user': {'uid': $user, 'gid': $user},
  'env': ['PATH=/bin:/sbin', 'HOME=/root', 'BH_PROBE=hello'],
  'capabilities': {k: [] for k in ('bounding', 'effective', 'inheritable', 'permitted', 'ambient')},
  'noNewPrivileges': True,
  'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': $NOFILE_SOFT, 'hard': $NOFILE_HARD}],
}
c['root'] = {'path': 'rootfs', 'readonly': True}
c['hostname'] = '$HOSTNAME_IN'
ns('pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup')
lin['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
lin['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
lin['cgroupsPath'] = '$cg'
lin['resources'] = {'devices': [{'allow': False, 'access': 'rwm'}],
                    'memory': {'limit': $MEM_LIMIT}, 'pids': {'limit': $PIDS_LIMIT}}
lin['maskedPaths'] = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware']
lin['readonlyPaths'] = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus']
lin.pop('seccomp', None)
seccomp = json.loads('''${SECCOMP:-null}''')
if seccomp: lin['seccomp'] = seccomp
c['mounts'] = std_mounts()
"
}

# The probe prints key=value lines; it runs as /bin/sh /probe.sh, so it is pid 1.
PROBE='echo "pid=$$"
sed -n "s/^\(CapEff\|CapPrm\|CapBnd\|NoNewPrivs\|Seccomp\):[[:space:]]*/\1=/p" /proc/self/status
touch /x 2>/dev/null && echo rootwrite=yes || echo rootwrite=no
echo t >/tmp/t && [ "$(cat /tmp/t)" = t ] && echo tmpwrite=yes || echo tmpwrite=no
echo "links=$(ip -o link 2>/dev/null | awk -F": " "{print \$2}" | tr "\n" " ")"
echo "netdev=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"
echo "loup=$(ip -o link show lo 2>/dev/null | grep -c "[<,]UP[,>]")"
echo "hostname=$(hostname)"
echo "uid=$(id -u)"
echo "uidmap=$(tr -s " " </proc/self/uid_map | sed "s/^ //")"
echo "nofile=$(ulimit -n)"
echo "kcore=$(cat /proc/kcore 2>/dev/null | wc -c)"
unshare -U true 2>/dev/null && echo unshare=yes || echo unshare=no
mkdir -p /tmp/m; mount -t tmpfs none /tmp/m 2>/dev/null && echo mount=yes || echo mount=no
echo "env=$BH_PROBE"
echo "cwd=$(pwd)"
echo done=1
# Last, as it exhausts the pids limit: ash gives up on a failed fork, so the
# loop runs in a subshell and the count is a glob (no fork needed).
(i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done) 2>/dev/null
set -- /proc/[0-9]*; echo "forked=$#"'

# val KEY: a value from the probe's output.
val() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -1; }

# --- the probe as uid 0 inside the user namespace -----------------------------
ID=$(uid root); CG=/$ID
B=$(bundle_new root) || { not_ok "bundle"; summary; exit; }
printf '%s\n' "$PROBE" >"$B/rootfs/probe.sh"
harden "$B" "$CG" 0 /bin/sh /probe.sh
track "$ID"
rt create --bundle "$B" "$ID" </dev/null >"$H_TMP/probe.out" 2>"$H_TMP/probe.err"
check_eq "create the hardened container" 0 $?
PID=$(state_of "$ID" pid)

# Host side, before the workload runs: the cgroup holds the configured limits.
mem_file=$(cgroup_dirs "$CG" | grep '/memory/' | head -1)
pids_file=$(cgroup_dirs "$CG" | grep '/pids/' | head -1)
if [ -d /sys/fs/cgroup/memory ]; then   # v1 or hybrid
  check_eq "memory cgroup limit on the host" "$MEM_LIMIT" "$(cat "$mem_file/memory.limit_in_bytes" 2>/dev/null)"
  check_eq "pids cgroup limit on the host" "$PIDS_LIMIT" "$(cat "$pids_file/pids.max" 2>/dev/null)"
  check "the container process is in its memory cgroup" grep -qs "^$PID\$" "$mem_file/cgroup.procs"
else                                    # unified
  check_eq "memory.max on the host" "$MEM_LIMIT" "$(cat "/sys/fs/cgroup/${CG#/}/memory.max" 2>/dev/null)"
  check_eq "pids.max on the host" "$PIDS_LIMIT" "$(cat "/sys/fs/cgroup/${CG#/}/pids.max" 2>/dev/null)"
fi
check_match "host sees the uid map of the created process" '^ *0 +100000 +65536' "$(cat "/proc/$PID/uid_map" 2>/dev/null)"
check_eq "host sees uid 100000 for container root" 100000 "$(awk '/^Uid:/{print $2}' "/proc/$PID/status" 2>/dev/null)"

rt start "$ID" >/dev/null 2>&1
check_eq "start the hardened container" 0 $?
wait_status "$ID" stopped 15
OUT=$(cat "$H_TMP/probe.out")
check_eq "probe ran to the end" 1 "$(val done)"
[ "$(val done)" = 1 ] || printf '%s\n' "$OUT" "$(cat "$H_TMP/probe.err")" | sed 's/^/#   /'

check_eq "workload is pid 1" 1 "$(val pid)"
check_eq "CapEff is empty" 0000000000000000 "$(val CapEff)"
check_eq "CapPrm is empty" 0000000000000000 "$(val CapPrm)"
check_eq "CapBnd is empty" 0000000000000000 "$(val CapBnd)"
check_eq "NoNewPrivs is set" 1 "$(val NoNewPrivs)"
if [ -n "$SECCOMP" ]; then
  check_eq "Seccomp is in filter mode" 2 "$(val Seccomp)"
else
  skip "Seccomp is in filter mode" "no seccomp profile from bulkhead"
fi
check_eq "root filesystem is read-only (touch /x fails)" no "$(val rootwrite)"
check_eq "/tmp is writable" yes "$(val tmpwrite)"
check_eq "ip link shows only lo" "lo " "$(val links)"
check_eq "/proc/net/dev shows only lo" "lo " "$(val netdev)"
check_eq "lo is up (as runc leaves it)" 1 "$(val loup)"
check_eq "hostname is the configured one" "$HOSTNAME_IN" "$(val hostname)"
check_eq "uid 0 inside" 0 "$(val uid)"
check_eq "uid_map maps 0 to 100000, 65536 ids" "0 100000 65536" "$(val uidmap)"
check_eq "RLIMIT_NOFILE from the config" "$NOFILE_SOFT" "$(val nofile)"
check_eq "/proc/kcore is masked" 0 "$(val kcore)"
check_eq "mount fails inside" no "$(val mount)"
if [ -n "$SECCOMP" ]; then
  check_eq "unshare -U fails inside" no "$(val unshare)"
else
  skip "unshare -U fails inside" "no seccomp profile from bulkhead"
fi
check_eq "env from the config" hello "$(val env)"
check_eq "cwd from the config" /tmp "$(val cwd)"
# 40 background sleeps against a pids limit of 16: /proc never shows more than the limit.
check "pids limit caps the process count (saw $(val forked))" test "$(val forked)" -le "$PIDS_LIMIT"
check "pids limit let some processes start" test "$(val forked)" -ge 2

cap rt delete --force "$ID"
check_eq "delete the hardened container" 0 "$RC"
check_gone "hardened container leaves nothing" "$ID" "$CG" "$PID"

# --- a non-root workload --------------------------------------------------------
ID=$(uid user); CG=/$ID
B=$(bundle_new user) || { not_ok "bundle"; summary; exit; }
harden "$B" "$CG" 1000 /bin/sh -c 'echo "uid=$(id -u) gid=$(id -g)"; grep "^CapEff" /proc/self/status; cat /proc/self/uid_map'
track "$ID"
cap rt run --bundle "$B" "$ID"
check_eq "run as uid 1000 exits 0" 0 "$RC"
check_match "id -u is 1000 inside" '^uid=1000 gid=1000$' "$OUT"
check_match "uid 1000 has no effective capabilities" 'CapEff:[[:space:]]*0000000000000000' "$OUT"
check_gone "uid 1000 container leaves nothing" "$ID" "$CG"

# --- the memory limit is enforced -------------------------------------------------
ID=$(uid oom); CG=/$ID
B=$(bundle_new oom) || { not_ok "bundle"; summary; exit; }
# 128 MiB into tmpfs (charged to the cgroup) against a 64 MiB limit.
harden "$B" "$CG" 0 /bin/sh -c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=128 2>/dev/null; echo "dd=$?"'
cfg "$B" "
for m in c['mounts']:
    if m['destination'] == '/dev/shm': m['options'] = [o for o in m['options'] if not o.startswith('size=')] + ['size=256m']
"
track "$ID"
cap rt run --bundle "$B" "$ID"
check_match "a workload over its memory limit is killed (the OOM killer ends dd)" '^dd=(137|[1-9][0-9]*)$' "$OUT"
check_nomatch "dd did not complete" '^dd=0$' "$OUT"
check_gone "memory-limited container leaves nothing" "$ID" "$CG"

summary
