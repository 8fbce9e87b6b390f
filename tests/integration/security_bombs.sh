#!/usr/bin/env bash
# Resource bombs (tests/security/bombs.sh) against the runtime under test: each bomb is held
# by its sandbox's limits while a neighbour sandbox keeps answering; one check per bomb.
source "$(dirname "$0")/lib/harness.sh"

BUILD=${BULKHEAD_BUILD:-$H_SRC/build}
[ -x "$BUILD/tests/security/bh-bomb" ] || h_skip "bh-bomb is not built in $BUILD"
ROOTFS=$(h_rootfs) || { not_ok "busybox rootfs"; summary; exit; }

bash "$H_SRC/tests/security/bombs.sh" --runtime "$RUNTIME" --build "$BUILD" --rootfs "$ROOTFS" \
  >"$H_TMP/table" 2>"$H_TMP/err"
RC=$?
[ "$RC" -eq 77 ] && h_skip "bombs: $(cat "$H_TMP/err")"
sed 's/^/# /' "$H_TMP/table"

rows=0
while IFS='|' read -r _ bomb contained median _p99 spawn result _; do
  bomb=$(echo $bomb); result=$(echo $result)
  case $bomb in bomb|---*) continue ;; esac
  rows=$((rows + 1))
  name="$bomb bomb: $(echo $contained); neighbour $(echo $median); host spawn $(echo $spawn)"
  if [ "$result" = PASS ]; then ok "$name"; else not_ok "$name" "$(tail -5 "$H_TMP/err")"; fi
done < <(grep '^| ' "$H_TMP/table")
check_eq "all five bombs ran" 5 "$rows"
if [ "$H_FAIL" -eq 0 ]; then
  check_eq "bombs.sh exits 0 when every bomb is contained" 0 "$RC"
else
  check_ne "bombs.sh exits non-zero when a bomb was not contained" 0 "$RC"
  grep -v '^| ' "$H_TMP/table" | sed 's/^/#   /'
fi
summary
