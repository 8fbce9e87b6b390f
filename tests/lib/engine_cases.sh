# What the container-engine case scripts (tests/vmtier/containerd-in-host.sh and
# podman-in-host.sh) share; POSIX sh, sourced after they set `work` (a scratch directory)
# and `vmm` (the monitor's path).
#
# cap COMMAND...: runs it with no stdin, leaving RC, OUT (stdout) and ERR (stderr).
# diag: the last cap's status, stdout and the end of its stderr, for a not ok line.
# no_vmm_running: true when no process runs the monitor.
cap() {
  "$@" >"$work/out" 2>"$work/err" </dev/null
  RC=$?
  OUT=$(cat "$work/out")
  ERR=$(cat "$work/err")
}
diag() { printf 'exit %s\nstdout: %s\nstderr: %s' "$RC" "$OUT" "$(echo "$ERR" | tail -5)"; }
no_vmm_running() { ! ps -o pid,args 2>/dev/null | awk -v v="$vmm" '$2 == v {f = 1} END {exit !f}'; }
