#!/usr/bin/env bash
# podman (Debian's package) with the runtime under test as its OCI runtime:
# run, run -it on a real terminal, exec (with and without -t), stop, rm. Every
# case also runs with Debian's runc, and the results must match.
#
# podman's default rlimits (nofile and nproc raised to 1048576 and more) need
# CAP_SYS_RESOURCE, which this kind of host does not grant, so runc fails on them
# as bulkhead does; the cases pass explicit limits within the host's:
#   --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
source "$(dirname "$0")/lib/harness.sh"

REF=${REFERENCE_RUNTIME:-/usr/bin/runc}
command -v podman >/dev/null || h_skip "podman missing"
command -v script >/dev/null || h_skip "script (bsdutils) missing"
[ -x "$REF" ] || h_skip "reference runtime $REF missing"

# A private podman: its own storage, run root and temp dir, cgroupfs, file events.
PM=$H_TMP/podman
mkdir -p "$PM/root" "$PM/run" "$PM/tmp"
PODMAN=(podman --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp"
        --cgroup-manager cgroupfs --events-backend file --log-level error)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
pm() { timeout -k 5 60 "${PODMAN[@]}" "$@"; }
pm_cleanup() {
  timeout 60 "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
  # podman's storage holds mounts; the harness unmounts what remains under $H_TMP.
}
H_CLEANUPS+=(pm_cleanup)

# on_tty COMMAND: runs COMMAND on a fresh pseudo-terminal (script(1)); output in $OUT
# with carriage returns removed, status in $RC.
on_tty() {
  cap timeout 60 script -qec "$1" /dev/null
  OUT=$(printf '%s' "$OUT" | tr -d '\r')
}

cases() {
  local r=$1 tag=$2 res=$H_TMP/results.$2 rootfs name pid
  : >"$res"
  rootfs=$H_TMP/rootfs.$tag
  cp -a "$(h_rootfs)" "$rootfs"
  echo "# --- $tag: $r"
  local run=(pm --runtime "$r" run --network none "${LIMITS[@]}")

  cap "${run[@]}" --rm --rootfs "$rootfs" /bin/echo hello
  check_eq "[$tag] podman run echo exits 0" 0 "$RC"
  check_eq "[$tag] podman run captures stdout" hello "$OUT"
  [ "$RC" -eq 0 ] || echo "$ERR" | tail -3 | sed 's/^/#   /'
  echo "echo=$RC:$OUT" >>"$res"

  cap "${run[@]}" --rm --rootfs "$rootfs" /bin/sh -c 'echo err >&2; exit 7'
  check_eq "[$tag] podman run returns the exit status" 7 "$RC"
  check_match "[$tag] podman run passes stderr" 'err' "$ERR"
  echo "exit=$RC" >>"$res"

  cap "${run[@]}" --rm --rootfs "$rootfs" /bin/sh -c 'ulimit -n; echo $$; ip -o link | wc -l'
  check_eq "[$tag] limits, pid 1, only lo" "1024"$'\n'"1"$'\n'"1" "$OUT"
  echo "limits=$RC:$(printf '%s' "$OUT" | tr '\n' ' ')" >>"$res"

  # With a terminal, podman attaches to the container only after starting it: what the
  # process writes at once is sometimes lost (4 runs in 15 with runc here), so it waits a
  # moment first.
  on_tty "${PODMAN[*]} --runtime $r run --rm -it --network none ${LIMITS[*]} --rootfs $rootfs /bin/sh -c 'sleep 0.5; tty; [ -t 0 ] && echo in-tty; stty size; exit 4'"
  check_eq "[$tag] podman run -it returns the exit status" 4 "$RC"
  check_match "[$tag] podman run -it gets a pty" '/dev/pts/[0-9]+' "$OUT"
  check_match "[$tag] podman run -it: stdin is the terminal" 'in-tty' "$OUT"
  echo "runtty=$RC:$(printf '%s' "$OUT" | grep -c in-tty)" >>"$res"

  name=bh-it-pm-$tag-$$
  cap "${run[@]}" -d --name "$name" --rootfs "$rootfs" /bin/sh -c 'trap "exit 0" TERM; sleep 300 & wait'
  check_eq "[$tag] podman run -d exits 0" 0 "$RC"
  pid=$(pm inspect -f '{{.State.Pid}}' "$name" 2>/dev/null)
  check "[$tag] the detached container's pid is live" test -d "/proc/${pid:-0}"
  cap pm exec "$name" /bin/sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; exit 6'
  check_eq "[$tag] podman exec returns the exit status" 6 "$RC"
  check_match "[$tag] podman exec runs in the container" '^/bin/sh -c trap' "$OUT"
  echo "exec=$RC" >>"$res"
  on_tty "${PODMAN[*]} exec -it $name /bin/sh -c 'sleep 0.5; tty; [ -t 0 ] && echo in-tty'"
  check_eq "[$tag] podman exec -it exits 0" 0 "$RC"
  check_match "[$tag] podman exec -it gets a pty" '/dev/pts/[0-9]+' "$OUT"
  echo "exectty=$RC:$(printf '%s' "$OUT" | grep -c in-tty)" >>"$res"
  cap pm stop -t 5 "$name"
  check_eq "[$tag] podman stop exits 0" 0 "$RC"
  check_eq "[$tag] stopped container reports exited" exited "$(pm inspect -f '{{.State.Status}}' "$name" 2>/dev/null)"
  echo "stop=$RC:$(pm inspect -f '{{.State.ExitCode}}' "$name" 2>/dev/null)" >>"$res"
  cap pm rm "$name"
  check_eq "[$tag] podman rm exits 0" 0 "$RC"
  echo "rm=$RC" >>"$res"
  check "[$tag] no process left" test ! -d "/proc/${pid:-0}"
  check_nomatch "[$tag] podman no longer lists it" "$name" "$(pm ps -a --format '{{.Names}}' 2>/dev/null)"

  # Bad input: a missing binary fails the run and leaves no container behind.
  cap "${run[@]}" --rm --rootfs "$rootfs" /no/such/binary
  check_ne "[$tag] podman run of a missing binary fails" 0 "$RC"
  echo "badcmd=$([ "$RC" -ne 0 ] && echo failed || echo succeeded)" >>"$res"
  check_eq "[$tag] nothing left in podman" "" "$(pm ps -aq 2>/dev/null)"
}

cases "$RUNTIME" test
# The compare section: the runtime under test behaves as the reference does.
compare_with_ref "$REF"
# The runtime's own state under podman's run root is gone with the containers.
left=$(find "$PM/run" -maxdepth 3 -name 'bh-it-pm-*' 2>/dev/null)
check_eq "no runtime state left under podman's run root" "" "$left"

summary
