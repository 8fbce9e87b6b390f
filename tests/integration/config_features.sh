#!/usr/bin/env bash
# The config.json fields of the container tier, each seen from inside the
# workload: namespaces joined by path, time offsets, mounts and propagation,
# devices, sysctl, domainname, umask, additional groups, oomScoreAdj, LSM fields,
# --no-pivot, the container's own cgroup view, and symlinks in the image that aim
# mount destinations at the host. Runs against any runtime.
source "$(dirname "$0")/lib/harness.sh"

# one NAME PYTHON ARGS...: a plain bundle edited by PYTHON, run in the foreground.
one() {
  local name=$1 code=$2; shift 2
  ID=$(uid "$name"); CG=/$ID
  B=$(bundle_new "$name") || { not_ok "bundle $name"; return 1; }
  cfg_plain "$B" "$CG" "$@"
  cfg "$B" "$code"
  track "$ID"
}

# --- namespaces joined by path -------------------------------------------------
ID=$(uid anchor); ACG=/$ID; AID=$ID
B=$(bundle_new anchor) || { not_ok "bundle"; summary; exit; }
cfg_plain "$B" "$ACG" /bin/sleep 300
cfg "$B" "c['hostname'] = 'anchor-host'"
track "$AID"
cap rt run -d --bundle "$B" "$AID"
check_eq "anchor container runs" 0 "$RC"
APID=$(state_of "$AID" pid)
one joiner "
c.pop('hostname', None)
for n in lin['namespaces']:
    if n['type'] in ('network', 'uts'): n['path'] = '/proc/$APID/ns/' + ('net' if n['type'] == 'network' else 'uts')
" /bin/sh -c 'readlink /proc/self/ns/net; hostname'
cap rt run --bundle "$B" "$ID"
check_eq "a config joining namespaces by path runs" 0 "$RC"
[ "$RC" -eq 0 ] || echo "$ERR" | sed "s/^/#   /"
check_eq "joined the anchor's network namespace" "$(readlink "/proc/$APID/ns/net")" "$(printf '%s\n' "$OUT" | sed -n 1p)"
check_eq "joined the anchor's uts namespace" anchor-host "$(printf '%s\n' "$OUT" | sed -n 2p)"
check_gone "joiner leaves nothing" "$ID" "$CG"
one badpath "
for n in lin['namespaces']:
    if n['type'] == 'network': n['path'] = '/proc/nonexistent/ns/net'
" /bin/true
cap rt run --bundle "$B" "$ID"
check_ne "a namespace path that does not exist fails" 0 "$RC"
check_match "the error names the path" '/proc/nonexistent/ns/net' "$ERR"
check_gone "bad namespace path leaves nothing" "$ID" "$CG"
cap rt delete --force "$AID"

# --- time namespace ------------------------------------------------------------------
if [ -e /proc/self/ns/time ]; then
  one time "
ns('pid', 'ipc', 'uts', 'mount', 'network', 'time')
lin['timeOffsets'] = {'monotonic': {'secs': 864000, 'nanosecs': 0}, 'boottime': {'secs': 864000, 'nanosecs': 0}}
" /bin/sh -c 'cut -d. -f1 /proc/uptime'
  host_up=$(cut -d. -f1 /proc/uptime)
  cap rt run --bundle "$B" "$ID"
  check_eq "a time namespace config runs" 0 "$RC"
  check "boottime is offset by 10 days inside (host $host_up s, inside $OUT s)" \
    test "${OUT:-0}" -ge $((host_up + 864000))
else
  skip "time namespace" "the kernel has no time namespaces"
fi

# --- mounts ---------------------------------------------------------------------------
SHARE=$H_TMP/share
mkdir -p "$SHARE/sub"
echo host-data >"$SHARE/file"
one mounts "
c['mounts'] += [
  {'destination': '/data', 'type': 'bind', 'source': '$SHARE', 'options': ['rbind', 'ro', 'rprivate']},
  {'destination': '/rw', 'type': 'bind', 'source': '$SHARE/sub', 'options': ['bind', 'rw']},
  {'destination': '/small', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['size=1m', 'mode=700', 'noexec']},
]
" /bin/sh -c 'cat /data/file; echo x >/data/new 2>/dev/null && echo ro=no || echo ro=yes
  echo in-container >/rw/made && echo rw=yes
  grep " /small " /proc/self/mounts | grep -q "size=1024k" && echo size=ok
  grep " /small " /proc/self/mounts | grep -q noexec && echo noexec=ok
  stat -c %a /small'
cap rt run --bundle "$B" "$ID"
check_eq "a config with bind and tmpfs mounts runs" 0 "$RC"
check_match "bind mount shows the host's file" '^host-data' "$OUT"
check_match "ro bind mount refuses writes" 'ro=yes' "$OUT"
check_match "rw bind mount takes writes" 'rw=yes' "$OUT"
check_eq "the write reached the host" in-container "$(cat "$SHARE/sub/made" 2>/dev/null)"
check_match "tmpfs size option" 'size=ok' "$OUT"
check_match "tmpfs noexec option" 'noexec=ok' "$OUT"
check_match "tmpfs mode option" '^700$' "$(printf '%s\n' "$OUT" | tail -1)"
check_nomatch "no container mount is visible on the host" "$B/rootfs" "$(cat /proc/self/mounts)"

one badmount "
c['mounts'].append({'destination': '/x', 'type': 'bind', 'source': '$H_TMP/no-such-dir', 'options': ['bind']})
" /bin/true
cap rt run --bundle "$B" "$ID"
check_ne "a bind mount of a missing source fails" 0 "$RC"
check_match "the error names the mount" 'no-such-dir' "$ERR"
check_gone "failed mount leaves nothing" "$ID" "$CG"
check_nomatch "failed mount left no mount on the host" "$B/rootfs" "$(cat /proc/self/mounts)"

# --- a symlink in the image aimed at the host -------------------------------------------
VICTIM=$H_TMP/victim
mkdir -p "$VICTIM"
one symlink "
c['mounts'].append({'destination': '/escape/inner', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['size=1m']})
" /bin/sh -c 'echo from-container >/escape/inner/f && echo wrote'
ln -s "$VICTIM" "$B/rootfs/escape"
cap rt run --bundle "$B" "$ID"
check_eq "nothing was mounted on the host through the symlink" "" "$(ls -A "$VICTIM")"
check_nomatch "no mount at the symlink's target" "$VICTIM" "$(cat /proc/self/mounts)"
if [ "$RC" -eq 0 ]; then
  check_match "the mount landed inside the rootfs" 'wrote' "$OUT"
else
  ok "the runtime refused the escaping destination (exit $RC)"
fi

# --- devices ------------------------------------------------------------------------------
one devices "
lin['devices'] = [{'path': '/dev/mynull', 'type': 'c', 'major': 1, 'minor': 3, 'fileMode': 438, 'uid': 0, 'gid': 0}]
" /bin/sh -c 'ls -l /dev/mynull; echo x >/dev/mynull && echo write=ok; echo x >/dev/null && echo null=ok
  ls /dev/zero /dev/random /dev/urandom /dev/tty /dev/full >/dev/null && echo defaults=ok
  [ -e /dev/ptmx ] && [ -d /dev/pts ] && [ -d /dev/shm ] && echo pts=ok'
cap rt run --bundle "$B" "$ID"
check_eq "a config with linux.devices runs" 0 "$RC"
check_match "the device node exists with its mode" '^crw-rw-rw-.* 1, +3 .*/dev/mynull' "$OUT"
check_match "the device cgroup allows the configured device" 'write=ok' "$OUT"
check_match "default devices exist" 'defaults=ok' "$OUT"
check_match "/dev/ptmx, /dev/pts and /dev/shm exist" 'pts=ok' "$OUT"

# --- process and kernel settings -------------------------------------------------------------
one settings "
c['domainname'] = 'example.org'
c['hostname'] = 'settings-host'
lin['sysctl'] = {'net.ipv4.ip_forward': '1'}
c['process']['user'] = {'uid': 1000, 'gid': 1000, 'umask': 63, 'additionalGids': [10, 20]}
c['process']['oomScoreAdj'] = 500
c['process']['apparmorProfile'] = 'bulkhead-test-profile'
" /bin/sh -c 'cat /proc/sys/kernel/domainname; hostname; cat /proc/sys/net/ipv4/ip_forward
  id -G; cat /proc/self/oom_score_adj; touch /tmp/f; stat -c %a /tmp/f'
cap rt run --bundle "$B" "$ID"
check_eq "a config with kernel and process settings runs" 0 "$RC"
line() { printf '%s\n' "$OUT" | sed -n "$1p"; }
check_eq "domainname" example.org "$(line 1)"
check_eq "hostname" settings-host "$(line 2)"
check_eq "sysctl in the container's network namespace" 1 "$(line 3)"
check_eq "additionalGids" "1000 10 20" "$(line 4)"
check_eq "oomScoreAdj" 500 "$(line 5)"
check_eq "umask 077 makes files 600" 600 "$(line 6)"
check_eq "the host's ip_forward is untouched" "$(cat /proc/sys/net/ipv4/ip_forward)" "$(cat /proc/sys/net/ipv4/ip_forward)"
if [ ! -e /sys/module/apparmor ]; then
  case $(basename "$RUNTIME") in
    bulkhead*) check_match "apparmorProfile is reported as not enforced" 'apparmorProfile.*not enforced' "$ERR" ;;
  esac
fi
one badsysctl "lin['sysctl'] = {'kernel.no_such_knob': '1'}" /bin/true
cap rt run --bundle "$B" "$ID"
check_ne "an unknown sysctl fails" 0 "$RC"
check_match "the error names the sysctl" 'no_such_knob' "$ERR"
check_gone "failed sysctl leaves nothing" "$ID" "$CG"

# --- --no-pivot ------------------------------------------------------------------------------
one nopivot "" /bin/sh -c 'ls /; cat /proc/self/mountinfo | wc -l'
cap rt run --no-pivot --bundle "$B" "$ID"
check_eq "run --no-pivot exits 0" 0 "$RC"
check_match "--no-pivot: the root is the bundle's rootfs" 'bin' "$OUT"

# --- the container's own cgroup, read-only -------------------------------------------------------
if [ -d /sys/fs/cgroup/memory ]; then
  one cgview "
lin['resources'] = {'memory': {'limit': 33554432}}
c['mounts'].append({'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': 'cgroup', 'options': ['ro', 'nosuid', 'nodev', 'noexec']})
ns('pid', 'ipc', 'uts', 'mount', 'network', 'cgroup')
" /bin/sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup/memory | grep -c "^bh-it-" ; echo 1 >/sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null && echo writable || echo readonly'
  cap rt run --bundle "$B" "$ID"
  check_eq "a config with a cgroup mount runs" 0 "$RC"
  check_eq "the container sees its own memory limit" 33554432 "$(line 1)"
  check_eq "the container sees no other container's cgroup" 0 "$(line 2)"
  check_eq "the cgroup mount is read-only" readonly "$(line 3)"
fi

summary
