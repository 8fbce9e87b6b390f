#!/usr/bin/env bash
# SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: the runtime hands the listener fd
# and the container's state to the agent, as the runtime-spec describes.
source "$(dirname "$0")/lib/harness.sh"
AGENT=$H_SRC/tests/integration/lib/seccomp_agent.py

ID=$(uid notify); CG=/$ID
B=$(bundle_new notify) || { not_ok "bundle"; summary; exit; }
SOCK=$H_TMP/agent.sock
cfg_plain "$B" "$CG" /bin/sh -c 'mkdir /tmp/made 2>&1; echo "mkdir=$?"; echo done'
cfg "$B" "
c['process']['noNewPrivileges'] = True
lin['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK',
                  'listenerMetadata': 'meta-42',
                  'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}]}
"
python3 "$AGENT" "$SOCK" "$H_TMP/agent.json" >"$H_TMP/agent.ready" 2>"$H_TMP/agent.err" &
APID=$!
for _ in $(seq 100); do grep -qs listening "$H_TMP/agent.ready" && break; sleep 0.05; done
track "$ID"
cap rt run --bundle "$B" "$ID"
wait "$APID"
check_eq "run with a notify profile exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || echo "$ERR" | sed 's/^/#   /'
A=$(cat "$H_TMP/agent.json" 2>/dev/null)
field() { python3 -c 'import json,sys
d = json.loads(sys.argv[1] or "{}")
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else d)' "$A" "$1"; }
check_eq "the agent received one fd" 1 "$(field fds_received)"
check_eq "the fd is a seccomp listener" True "$(field fd_is_seccomp)"
check_eq "message lists the fd as seccompFd" "['seccompFd']" "$(field message.fds)"
check_eq "message carries listenerMetadata" meta-42 "$(field message.metadata)"
check_eq "message carries the container id" "$ID" "$(field message.state.id)"
check_eq "message carries the bundle" "$B" "$(field message.state.bundle)"
check_match "message carries the container pid" '^[1-9][0-9]*$' "$(field message.pid)"
check_match "with the listener closed, the notified syscall fails (ENOSYS)" \
  'Function not implemented' "$OUT"
check_match "the workload ran on" 'done' "$OUT"
check_gone "notify container leaves nothing" "$ID" "$CG"

# Bad input: the agent is not listening: create fails clearly and leaves nothing.
ID=$(uid noagent); CG=/$ID
B=$(bundle_new noagent) || { not_ok "bundle"; summary; exit; }
cfg_plain "$B" "$CG" /bin/true
cfg "$B" "
c['process']['noNewPrivileges'] = True
lin['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$H_TMP/nobody.sock',
                  'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}
"
track "$ID"
cap rt create --bundle "$B" "$ID"
check_ne "create with no agent listening fails" 0 "$RC"
check_match "the error names the listener path" 'nobody.sock' "$ERR"
check_gone "failed notify create leaves nothing" "$ID" "$CG"

summary
