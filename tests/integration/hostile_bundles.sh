#!/usr/bin/env bash
# Bundles built to hurt the runtime: an oversized config.json, JSON nested past any
# sensible depth, a config.json that is a FIFO, an image whose symlinks aim at / and ..,
# device nodes in the image, a bundle swapped for a symlink between create and start, a
# bundle path that is not UTF-8, and container ids that are paths. Each must be refused
# with a clear error or run safely inside the bundle, leaving no state dir, mount, cgroup
# or process behind and touching nothing outside the bundle.
source "$(dirname "$0")/lib/harness.sh"
export LC_ALL=C   # paths below hold bytes that are not UTF-8

# plain TAG ARGS...: a bundle with the plain config; sets ID, CG, B.
plain() {
  local tag=$1; shift
  ID=$(uid "$tag"); CG=/$ID
  B=$(bundle_new "$tag") || { not_ok "bundle $tag"; return 1; }
  cfg_plain "$B" "$CG" "$@"
  track "$ID"
}

# no_mounts NAME PATH: nothing in our mount table lives under PATH.
no_mounts() {
  check_nomatch "$1" " ${2//./\\.}[/ ]" "$(awk '{print " " $5 " "}' /proc/self/mountinfo)"
}

# refused NAME ERE: the last call failed (not by a signal) with an error matching ERE.
refused() {
  if [ "$RC" -ne 0 ] && [ "$RC" -lt 128 ]; then ok "$1: refused (exit $RC)"; else
    not_ok "$1: refused" "exit $RC"$'\n'"$ERR"; fi
  check_match "$1: the error says why" "$2" "$ERR"
}

# gone NAME: no state dir, cgroup or mount of the current ID/CG/B.
gone() {
  check_gone "$1: nothing left behind" "$ID" "$CG"
  no_mounts "$1: no mount left under the bundle" "$B"
}

# --- an oversized config.json ------------------------------------------------------
plain big /bin/true
python3 - "$B/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["annotations"] = {"pad": "a" * (100 << 20)}
with open(path, "w") as f:
    json.dump(c, f)
PY
check "the 100 MB config.json is there" test "$(stat -c %s "$B/config.json")" -gt $((100 << 20))
start_ns=$(date +%s%N)
cap /usr/bin/time -f 'maxrss=%M' timeout -k 5 "$H_TIMEOUT" "$RUNTIME" --root "$H_ROOT" create --bundle "$B" "$ID"
ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
refused "100 MB config.json" 'config\.json.*(limit|larger than)'
check "100 MB config.json is refused within 10 s (took $ms ms)" test "$ms" -lt 10000
rss=$(printf '%s' "$ERR" | sed -n 's/^maxrss=//p')
check "100 MB config.json is not read whole (max RSS ${rss} KiB)" test "${rss:-999999}" -lt 65536
gone "100 MB config.json"

# --- JSON nested too deep -----------------------------------------------------------
plain deep /bin/true
python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000)' >"$B/config.json"
cap rt create --bundle "$B" "$ID"
refused "100000 nested arrays" 'nesting deeper than'
gone "100000 nested arrays"

plain deepobj /bin/true
python3 - "$B/config.json" <<'PY'
import json, sys
path = sys.argv[1]
text = json.dumps(json.load(open(path)))
# Valid config, with the depth hidden in an extension field the parser would otherwise skip.
deep = '{"a":' * 50000 + '1' + '}' * 50000
open(path, "w").write(text[:-1] + ', "org.example.deep": ' + deep + '}')
PY
cap rt create --bundle "$B" "$ID"
refused "50000 nested objects in an unknown field" 'nesting deeper than'
gone "50000 nested objects"

plain deepproc /bin/sleep 100
cap rt run -d --bundle "$B" "$ID"
check_eq "a container for the exec and update cases runs" 0 "$RC"
python3 -c 'import sys; sys.stdout.write("{\"args\":" + "[" * 100000)' >"$H_TMP/deep.json"
cap rt exec --process "$H_TMP/deep.json" "$ID"
refused "exec --process with 100000 nested arrays" 'nesting deeper than'
cap rt update --resources "$H_TMP/deep.json" "$ID"
refused "update --resources with 100000 nested arrays" 'nesting deeper than'
check_eq "the container still runs" running "$(state_of "$ID" status)"
cap rt delete --force "$ID"
gone "deep exec and update documents"

# --- config.json that is not a regular file -----------------------------------------
plain fifo /bin/true
rm "$B/config.json"
mkfifo "$B/config.json"
cap rt create --bundle "$B" "$ID"
check_ne "config.json as a FIFO: refused, without waiting for a writer" 124 "$RC"
refused "config.json as a FIFO" 'config\.json.*(not a regular file)'
gone "config.json as a FIFO"

plain devzero /bin/true
rm "$B/config.json"
ln -s /dev/zero "$B/config.json"
cap rt create --bundle "$B" "$ID"
refused "config.json linked to /dev/zero" 'config\.json.*(not a regular file)'
gone "config.json linked to /dev/zero"

# --- an image of symlinks aimed at / and .. -----------------------------------------
# Mount destinations are resolved inside the rootfs: /etc -> / in the image means the
# rootfs's own root, and ../.. stops at it. Each escape target names a path that must
# never appear on the host.
MARK=bh-hostile-$$
plain links /bin/sh -c "
  echo in >/etc/$MARK-a/f && echo in >/up/$MARK-b/f && echo in >/dots/$MARK-c/f &&
  ls /$MARK-a/f /$MARK-b/f /$MARK-c/f >/dev/null && echo landed-inside"
R=$B/rootfs
rm -rf "$R/etc" && ln -s / "$R/etc"
ln -s ../../../../../../../.. "$R/up"
ln -s ./../../.. "$R/dots"
ln -s /proc/self/root "$R/magic"
ln -s loop "$R/loop"
cfg "$B" "
for d in ('/etc/$MARK-a', '/up/$MARK-b', '/dots/$MARK-c'):
    c['mounts'].append({'destination': d, 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['size=1m']})
c['root']['readonly'] = False
"
cap rt run --bundle "$B" "$ID"
check_eq "mounts through symlinks to / and .. run" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | sed 's/^/#   /'
check_match "each mount landed inside the rootfs" 'landed-inside' "$OUT"
for p in "/$MARK-a" "/$MARK-b" "/$MARK-c" "$H_TMP/$MARK-b" "$H_TMP/bundles/$MARK-b" "$(dirname "$H_TMP")/$MARK-b"; do
  check "nothing created on the host at $p" test ! -e "$p"
done
check "the mount points were made inside the rootfs" test -d "$R/$MARK-a" -a -d "$R/$MARK-b" -a -d "$R/$MARK-c"
check_nomatch "no mount of ours on the host" "$MARK" "$(cat /proc/self/mountinfo)"
gone "symlinks to / and .."

plain magic /bin/true
ln -s /proc/self/root "$B/rootfs/magic"
ln -s loop "$B/rootfs/loop"
cfg "$B" "c['mounts'].append({'destination': '/magic/$MARK-m', 'type': 'tmpfs', 'source': 'tmpfs'})"
cap rt create --bundle "$B" "$ID"
if [ "$RC" -eq 0 ]; then
  check "a /proc/self/root link resolved inside the rootfs" test ! -e "/$MARK-m"
  cap rt delete --force "$ID"
else
  refused "a mount through /proc/self/root" "magic|$MARK-m|proc"
fi
check "nothing created at /$MARK-m on the host" test ! -e "/$MARK-m"
gone "a mount through /proc/self/root"

plain loop /bin/true
ln -s loop "$B/rootfs/loop"
cfg "$B" "c['mounts'].append({'destination': '/loop/x', 'type': 'tmpfs', 'source': 'tmpfs'})"
cap rt create --bundle "$B" "$ID"
refused "a mount through a symlink loop" '/loop/x'
gone "a mount through a symlink loop"

# --- device nodes in the image --------------------------------------------------------
# The image brings nodes for a host block device and /dev/kmsg. The device cgroup admits
# only the default devices, so the container cannot open them, even as root. Opening is
# all it tries: nothing is read from or written to either. The block device is the first
# of the host's that the host itself may open (sandboxed hosts refuse some).
DISK=""
for d in /sys/block/*/dev; do
  n=$(basename "$(dirname "$d")")
  if [ -b "/dev/$n" ] && (: <"/dev/$n") 2>/dev/null; then DISK=$(cat "$d"); break; fi
done
plain devnodes /bin/sh -c '
  if [ -e /hostdisk ]; then (: </hostdisk) 2>/dev/null && echo disk=open || echo disk=denied; fi
  (: </kmsg) 2>/dev/null && echo kmsg=open || echo kmsg=denied
  mknod /tmp/again b 8 0 2>/dev/null && echo mknod=ok || echo mknod=refused'
[ -n "$DISK" ] && mknod "$B/rootfs/hostdisk" b "${DISK%%:*}" "${DISK##*:}"
mknod "$B/rootfs/kmsg" c 1 11
check "the kmsg node in the image opens on the host (so denial below means something)" \
  sh -c ": <'$B/rootfs/kmsg'"
cap rt run --bundle "$B" "$ID"
check_eq "a rootfs holding device nodes runs" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | sed 's/^/#   /'
if [ -n "$DISK" ]; then
  check "the disk node in the image ($DISK) opens on the host" sh -c ": <'$B/rootfs/hostdisk'"
  check_match "a host disk's node in the image cannot be opened" 'disk=denied' "$OUT"
else
  skip "a host disk's node in the image cannot be opened" "no block device the host may open"
fi
check_match "a /dev/kmsg node in the image cannot be opened" 'kmsg=denied' "$OUT"
check_match "no new device node can be made" 'mknod=refused' "$OUT"
gone "device nodes"

# --- the bundle swapped for a symlink between create and start ------------------------
plain swap /bin/sh -c 'cat /which'
echo original >"$B/rootfs/which"
DECOY=$H_TMP/decoy
mkdir -p "$DECOY" && cp -a "$B/rootfs" "$DECOY/rootfs" && cp "$B/config.json" "$DECOY/config.json"
echo decoy >"$DECOY/rootfs/which"
cfg "$DECOY" "c['process']['args'] = ['/bin/sh', '-c', 'echo decoy-config']"
touch "$H_TMP/swap.mark"
rt create --bundle "$B" "$ID" >"$H_TMP/swap.out" 2>"$H_TMP/swap.err" </dev/null
check_eq "create before the swap" 0 "$?"
PID=$(state_of "$ID" pid)
mv "$B" "$B.moved" && ln -s "$DECOY" "$B"
cap rt start "$ID"
check_eq "start after the swap" 0 "$RC"
check "the container stops" wait_status "$ID" stopped 10
check_eq "it ran the rootfs and config of create, not the swapped-in ones" original "$(cat "$H_TMP/swap.out")"
check_eq "state still names the bundle path of create" "$B" "$(state_of "$ID" bundle)"
cap rt delete "$ID"
check_eq "delete after the swap" 0 "$RC"
check_eq "nothing in the decoy was touched" "" "$(find "$DECOY" -newer "$H_TMP/swap.mark")"
check_gone "the swapped bundle: nothing left behind" "$ID" "$CG" "$PID"
no_mounts "the swapped bundle: no mount left" "$B.moved"
no_mounts "the swapped bundle: no mount on the decoy" "$DECOY"

# --- a bundle path that is not UTF-8 -------------------------------------------------
plain utf8 /bin/true
NB=$H_TMP/bundles/$'bad\xff\xfename'
mv "$B" "$NB"
cap rt create --bundle "$NB" "$ID"
if [ "$RC" -eq 0 ]; then
  check_eq "a non-UTF-8 bundle path is kept exactly" "$NB" "$(state_of "$ID" bundle)"
  cap rt delete --force "$ID"
else
  refused "a non-UTF-8 bundle path" 'UTF-8'
fi
B=$NB
gone "a non-UTF-8 bundle path"

# --- container ids that are paths ----------------------------------------------------
plain ids /bin/true
IDROOT=$H_TMP/state-ids   # a root of its own, so "empty" below means this section made nothing
mkdir -p "$IDROOT"
touch "$H_TMP/id.mark"
LONG=$(printf 'x%.0s' $(seq 300))
for bad in "" "." ".." "../$MARK" "a/b" "/abs-$MARK" "x/../../$MARK" $'nl\nid' "sp ace" "$LONG"; do
  shown=$(printf '%q' "$bad"); [ ${#shown} -gt 40 ] && shown="${shown:0:20}...(${#bad} bytes)"
  cap rt_with "$RUNTIME" "$IDROOT" create --bundle "$B" "$bad"
  refused "create with id $shown" 'container id'
  cap rt_with "$RUNTIME" "$IDROOT" run --bundle "$B" "$bad"
  refused "run with id $shown" 'container id'
  for verb in state start delete kill pause; do
    cap rt_with "$RUNTIME" "$IDROOT" "$verb" "$bad"
    check "$verb with id $shown fails cleanly (exit $RC)" test "$RC" -ne 0 -a "$RC" -lt 128
  done
  cap rt_with "$RUNTIME" "$IDROOT" delete --force "$bad"
  check "delete --force with id $shown fails cleanly (exit $RC)" test "$RC" -ne 0 -a "$RC" -lt 128
done
check_eq "no state dir was made for any bad id" "" "$(ls -A "$IDROOT")"
check "the state root itself survived delete --force .." test -d "$IDROOT"
check_eq "nothing beside the state root was touched" "" \
  "$(find "$H_TMP" -maxdepth 1 -newer "$H_TMP/id.mark" ! -name '.out' ! -name '.err' ! -path "$H_TMP" ! -path "$IDROOT")"
for p in "/$MARK" "$H_TMP/$MARK" "/abs-$MARK"; do
  check "nothing created at $p" test ! -e "$p"
done
check_eq "no cgroup was made for a bad id" "" "$(ls -d /sys/fs/cgroup/*/"$MARK" /sys/fs/cgroup/*/a 2>/dev/null)"
gone "bad ids"

summary
