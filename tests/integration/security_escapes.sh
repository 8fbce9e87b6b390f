#!/usr/bin/env bash
# The escape attempts of tests/security/ against the runtime under test (the container
# tier), each in its own sandbox from `spec`'s hardened defaults: one check per attempt.
source "$(dirname "$0")/lib/harness.sh"

BUILD=${BULKHEAD_BUILD:-$H_SRC/build}
[ -x "$BUILD/tests/security/bh-escape" ] || h_skip "bh-escape is not built in $BUILD"
ROOTFS=$(h_rootfs) || { not_ok "busybox rootfs"; summary; exit; }

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }

# suite LABEL ARGS...: one pass of the runner, one check per row of its table.
suite() {
  local label=$1 rc rows=0 failed_before=$H_FAIL attempt tier expected observed result name
  shift
  bash "$H_SRC/tests/security/run-escapes.sh" --runtime "$RUNTIME" --tier container \
    --build "$BUILD" --rootfs "$ROOTFS" "$@" >"$H_TMP/table" 2>"$H_TMP/err"
  rc=$?
  [ "$rc" -eq 77 ] && h_skip "run-escapes: $(cat "$H_TMP/err")"
  sed 's/^/# /' "$H_TMP/table"
  while IFS='|' read -r _ attempt tier expected observed result _; do
    attempt=$(trim "$attempt"); result=$(trim "$result")
    case $attempt in attempt|control|---*) continue ;; esac
    rows=$((rows + 1))
    name="$attempt ($(trim "$tier")): expected $(trim "$expected"), observed $(trim "$observed")"
    if [ "$result" = PASS ]; then ok "$name"; else not_ok "$name" "$(tail -5 "$H_TMP/err")"; fi
  done < <(grep '^| ' "$H_TMP/table")
  check "$label: at least 40 attempts ran (saw $rows rows)" test "$rows" -ge 40
  if [ "$H_FAIL" -eq "$failed_before" ]; then
    check_eq "$label: run-escapes exits 0 when every attempt is contained" 0 "$rc"
  else
    check_ne "$label: run-escapes exits non-zero when an attempt escaped" 0 "$rc"
  fi
}

# The hardened defaults of `spec`, then the same without the user namespace (how runc's
# callers usually run containers), where capabilities, seccomp and read-only mounts alone
# must hold.
suite "hardened defaults"
suite "no user namespace" --rootful
summary
