#!/usr/bin/env bash
# Runs every escape attempt of bh-escape, each in its own sandbox made from the hardened
# defaults of `RUNTIME spec`, adds the host-side checks some attempts need, and prints
# a markdown table: attempt | tier | expected | observed | result.
#
# run-escapes.sh [--runtime PATH] [--tier NAME] [--rootful] [--build DIR] [--rootfs DIR] [ATTEMPT...]
#
#   --runtime  the OCI runtime to attack (default: $BULKHEAD, else BUILD/bin/bulkhead)
#   --tier     the label for the tier column (default: container)
#   --rootful  the defaults without the user namespace, as runc's callers usually run
#              containers; the tier column says "TIER, no userns"
#   --build    where bh-escape was built (default: $BULKHEAD_BUILD, else ./build)
#   --rootfs   the busybox rootfs (default: $BULKHEAD_ROOTFS, else BUILD/rootfs)
#   ATTEMPT    only these attempts (default: all of `bh-escape list`, then the extra rows)
#
# Exit status: 0 when every attempt was contained, 1 when any escaped or could not be
# made, 2 for bad usage or a missing piece, 77 when not root.
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BULKHEAD_BUILD:-$SRC/build}
RUNTIME=${BULKHEAD:-}
TIER=container
ROOTFS=${BULKHEAD_ROOTFS:-}
ONLY=()
ROOTFUL_RUN=0
while [ $# -gt 0 ]; do
  case $1 in
    --runtime) RUNTIME=$2; shift 2 ;;
    --tier) TIER=$2; shift 2 ;;
    --rootful) ROOTFUL_RUN=1; shift ;;
    --build) BUILD=$2; shift 2 ;;
    --rootfs) ROOTFS=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run-escapes: unknown option $1" >&2; exit 2 ;;
    *) ONLY+=("$1"); shift ;;
  esac
done
RUNTIME=${RUNTIME:-$BUILD/bin/bulkhead}
ROOTFS=${ROOTFS:-$BUILD/rootfs}
# Absolute paths: the runtime is called from other directories.
case $RUNTIME in */*) RUNTIME=$(readlink -f "$RUNTIME") ;; *) RUNTIME=$(command -v "$RUNTIME") ;; esac
BUILD=$(readlink -f "$BUILD"); ROOTFS=$(readlink -f "$ROOTFS")
ESCAPE=$BUILD/tests/security/bh-escape
PRELOAD=$BUILD/tests/security/bh-escape-preload.so

[ "$(id -u)" -eq 0 ] || { echo "run-escapes: needs root" >&2; exit 77; }
for f in "$RUNTIME" "$ESCAPE" "$ROOTFS/bin/busybox"; do
  [ -x "$f" ] || { echo "run-escapes: $f is missing (build it first)" >&2; exit 2; }
done

# Debian's python3 when present: a version-manager shim on PATH costs a second per call.
PY=$(command -v /usr/bin/python3 || command -v python3) || { echo "run-escapes: python3 missing" >&2; exit 2; }

W=$(mktemp -d /tmp/bh-escapes.XXXXXX)
chmod 755 "$W"
STATE=$W/state
CLEANUPS=()
cleanup() {
  local c id
  for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
  for id in "$STATE"/*; do
    [ -e "$id" ] && timeout 10 "$RUNTIME" --root "$STATE" delete --force "$(basename "$id")" >/dev/null 2>&1
  done
  grep -F " $W" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the hardened defaults and the shared rootfs --------------------------------------

(cd "$W" && timeout 10 "$RUNTIME" spec >/dev/null) || { echo "run-escapes: '$RUNTIME spec' failed" >&2; exit 2; }
mv "$W/config.json" "$W/spec.json"
if [ "$ROOTFUL_RUN" = 1 ]; then
  TIER="$TIER, no userns"
  "$PY" -c 'import json,sys
c = json.load(open(sys.argv[1]))
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "user"]
c["linux"].pop("uidMappings", None); c["linux"].pop("gidMappings", None)
json.dump(c, open(sys.argv[1], "w"), indent=1)' "$W/spec.json"
fi
# The host uid that container root maps to: the host process for kill_host runs as it.
ROOT_HOST_UID=$("$PY" -c 'import json,sys
m = json.load(open(sys.argv[1])).get("linux", {}).get("uidMappings") or []
print(next((e["hostID"] for e in m if e["containerID"] == 0), 0))' "$W/spec.json")

# new_rootfs DIR: a copy of the busybox rootfs with bh-escape at /bh-escape.
new_rootfs() {
  cp -a "$ROOTFS" "$1" && cp "$ESCAPE" "$1/bh-escape" && chmod 755 "$1/bh-escape"
}
new_rootfs "$W/rootfs" || exit 2

# Host-side fixtures: a file and a directory only the host has, a process running as the
# host uid of the container's root, an abstract unix socket, the host's addresses.
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/host-marker"
mkdir -p "$W/hostdir" && echo host-secret >"$W/hostdir/secret"
setpriv --reuid="$ROOT_HOST_UID" --regid="$ROOT_HOST_UID" --clear-groups sleep 3600 &
VICTIM=$!
CLEANUPS+=("kill $VICTIM")
ABSTRACT=bh-escapes-$$
"$PY" - "$ABSTRACT" "$W/abstract.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1])
s.listen(8)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as log:
        log.write("connection\n")
    c.close()
PY
LISTENER=$!
CLEANUPS+=("kill $LISTENER")
HOST_ADDRS=$( { ip -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4}'
                ip route show default 2>/dev/null | awk '{print $3}'; } | paste -sd, -)
for _ in $(seq 50); do [ -e "$W/abstract.log" ] && break; sleep 0.1; done
HOSTNAME_BEFORE=$(hostname)
CORE_PATTERN_BEFORE=$(cat /proc/sys/kernel/core_pattern)
release_agents() { cat /sys/fs/cgroup/*/release_agent 2>/dev/null | md5sum; }
RELEASE_AGENTS_BEFORE=$(release_agents)

# config BUNDLE PYTHON: the hardened spec with the attempt's edits; `c` is the config.
config() {
  "$PY" - "$W/spec.json" "$1/config.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
exec(sys.argv[3], {"c": c, "json": json})
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
}

FIXTURE_ENV="['BH_HOST_PID=$VICTIM', 'BH_HOST_MARKER=$W/host-marker',
              'BH_HOST_ABSTRACT=$ABSTRACT', 'BH_HOST_ADDRS=$HOST_ADDRS']"

# bundle NAME ROOTFS ARGS_JSON [PYTHON]: a bundle running ARGS_JSON with the fixtures' env.
bundle() {
  local b=$W/b/$1
  mkdir -p "$b" && chmod 755 "$W/b" "$b"
  config "$b" "
c['root']['path'] = '$2'
c['process']['args'] = $3
c['process']['env'] += $FIXTURE_ENV
${4:-}
" && echo "$b"
}

# plain_bundles NAME...: the bundles of plain attempts, made in one go (python is slow to
# start on a busy host).
plain_bundles() {
  mkdir -p "$W/b" && chmod 755 "$W/b"
  "$PY" - "$W" "$FIXTURE_ENV" "$@" <<'PY'
import ast, json, os, sys
w, env, names = sys.argv[1], ast.literal_eval(sys.argv[2]), sys.argv[3:]
spec = json.load(open(w + "/spec.json"))
for name in names:
    c = json.loads(json.dumps(spec))
    c["root"]["path"] = w + "/rootfs"
    c["process"]["args"] = ["/bh-escape", "run", name]
    c["process"]["env"] += env
    os.makedirs(w + "/b/" + name, mode=0o755, exist_ok=True)
    json.dump(c, open(w + "/b/" + name + "/config.json", "w"), indent=1)
PY
}

# --- running one attempt -----------------------------------------------------------------

ROWS=()
FAILED=0
# row ATTEMPT EXPECTED OBSERVED RESULT
# Alternatives in EXPECTED are '|'-separated, which a markdown cell cannot hold: "or".
row() {
  ROWS+=("| $1 | $TIER | ${2//|/ or } | $3 | $4 |")
  [ "$4" = PASS ] || FAILED=$((FAILED + 1))
}

# report FILE: the attempt line bh-escape printed, else a description of what went wrong.
report() {
  local line
  line=$(tr -d '\r' <"$1" | grep -m1 '^attempt=')
  if [ -n "$line" ]; then echo "$line"; return; fi
  echo "attempt=? expected=? observed=no-report($(tr -d '\r' <"$2" 2>/dev/null | tail -2 | tr '\n|' '  ')) result=FAIL"
}
# field LINE KEY: the value of KEY=VALUE in an attempt line.
# The fields come in the order bh-escape prints them; observed may hold spaces.
field() {
  local v=" $1"
  v=${v#* "$2"=}
  [ "$v" = " $1" ] && return
  case $2 in
    attempt) v=${v%% expected=*} ;;
    expected) v=${v%% observed=*} ;;
    observed) v=${v%% result=*} ;;
    *) v=${v%% *} ;;
  esac
  echo "$v"
}

# launch NAME BUNDLE [RUNTIME ARGS...]: runs the bundle with an extra host directory open on
# fd 9 (a descriptor the runtime must not pass on), leaves the attempt line in $LINE.
launch() {
  local name=$1 b=$2; shift 2
  local id=bh-esc-$name-$$
  timeout -k 5 60 "$RUNTIME" --root "$STATE" run --bundle "$b" "$@" "$id" \
    </dev/null >"$b/out" 2>"$b/err" 9<"$W/hostdir"
  [ -e "$STATE/$id" ] && timeout 10 "$RUNTIME" --root "$STATE" delete --force "$id" >/dev/null 2>&1
  LINE=$(report "$b/out" "$b/err")
}

# attempt NAME EXPECTED [HOSTCHECK]: one plain attempt; HOSTCHECK, a command, must pass too.
attempt() {
  local name=$1 expected=$2 check=${3:-} b observed result
  b=$W/b/$name
  [ -f "$b/config.json" ] || b=$(bundle "$name" "$W/rootfs" "['/bh-escape', 'run', '$name']") ||
    { row "$name" "$expected" "setup:bundle" FAIL; return; }
  launch "$name" "$b"
  observed=$(field "$LINE" observed); result=$(field "$LINE" result)
  if [ -n "$check" ] && ! eval "$check"; then
    observed="$observed; host: $HOSTCHECK_SAW"; result=FAIL
  fi
  row "$name" "$expected" "$observed" "$result"
}

# Host checks: each sets HOSTCHECK_SAW and fails when the host changed.
host_alive() { HOSTCHECK_SAW="process $VICTIM gone"; kill -0 "$VICTIM" 2>/dev/null; }
host_hostname() { HOSTCHECK_SAW="hostname is now $(hostname)"; [ "$(hostname)" = "$HOSTNAME_BEFORE" ]; }
host_core_pattern() {
  HOSTCHECK_SAW="core_pattern is now $(cat /proc/sys/kernel/core_pattern)"
  [ "$(cat /proc/sys/kernel/core_pattern)" = "$CORE_PATTERN_BEFORE" ]
}
host_release_agent() { HOSTCHECK_SAW="a release_agent changed"; [ "$(release_agents)" = "$RELEASE_AGENTS_BEFORE" ]; }
host_abstract() { HOSTCHECK_SAW="the host listener was reached"; [ ! -s "$W/abstract.log" ]; }
host_hostdir() {
  HOSTCHECK_SAW="host dir now holds: $(ls -A "$W/hostdir" | tr '\n' ' ')"
  [ "$(ls -A "$W/hostdir")" = secret ] && ! mountpoint -q "$W/hostdir"
}

# --- special set-ups -----------------------------------------------------------------------

# CVE-2019-5736: the entry point is a script run by /proc/self/exe, so the runtime's binary
# runs inside the container; the image carries the loader and libraries it needs and a
# library preloaded into it that hands a descriptor to the binary to bh-escape. A private
# copy of the runtime is attacked, and its hash is compared afterwards.
# attempt_proc_self_exe ROW VIA [PYTHON]: VIA is run (the trap is the entry point) or exec
# (the trap is exec'd into a running container); PYTHON edits the config.
attempt_proc_self_exe() {
  local row=$1 via=$2 edit=${3:-} r=$W/exe-rootfs b rt=$W/exe-runtime/$(basename "$RUNTIME") lib
  local observed result sum id=bh-esc-exe-$via-$$ preload='LD_PRELOAD=/bh-escape-preload.so'
  mkdir -p "$W/exe-runtime" && cp "$RUNTIME" "$rt" && sum=$(sha256sum <"$rt")
  if [ ! -d "$r" ]; then
    new_rootfs "$r" && cp "$PRELOAD" "$r/bh-escape-preload.so" &&
      printf '#!/proc/self/exe\n' >"$r/exe-trap" && chmod 755 "$r/exe-trap"
    for lib in $(ldd "$rt" 2>/dev/null | grep -o '/[^ ]*'); do
      mkdir -p "$r$(dirname "$lib")" && cp -L "$lib" "$r$lib"
    done
  fi
  if [ "$via" = run ]; then
    b=$(bundle "exe-$row" "$r" "['/exe-trap']" "c['process']['env'].append('$preload')
$edit")
    # Detached: the attack waits for the runtime to exit (no ETXTBSY), as the real one did.
    timeout -k 5 30 "$rt" --root "$STATE" run -d --bundle "$b" "$id" </dev/null >"$b/out" 2>"$b/err"
  else
    b=$(bundle "exe-$row" "$r" "['/bin/sleep', '30']" "$edit")
    timeout -k 5 30 "$rt" --root "$STATE" run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
    "$PY" -c 'import json,sys; p = json.load(open(sys.argv[1]))["process"]
p["args"] = ["/exe-trap"]; p["env"].append(sys.argv[2]); json.dump(p, open(sys.argv[3], "w"))' \
      "$b/config.json" "$preload" "$b/process.json"
    timeout -k 5 30 "$rt" --root "$STATE" exec -d --process "$b/process.json" "$id" </dev/null >"$b/out" 2>"$b/err"
  fi
  for _ in $(seq 150); do
    grep -q '^attempt=' "$b/out" && break
    "$rt" --root "$STATE" state "$id" 2>/dev/null | grep -q '"status": *"stopped"' && break
    sleep 0.1
  done
  "$rt" --root "$STATE" delete --force "$id" >/dev/null 2>&1
  LINE=$(report "$b/out" "$b/err")
  observed=$(field "$LINE" observed); result=$(field "$LINE" result)
  if [ "$(sha256sum <"$rt")" != "$sum" ]; then observed="$observed; host: runtime binary changed"; result=FAIL; fi
  row "$row" "$(field "$LINE" expected)" "$observed" "$result"
}
# Without a user namespace the container's root owns the binary as the host's root does.
ROOTFUL="c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'user']
c['linux'].pop('uidMappings', None); c['linux'].pop('gidMappings', None)"

# A setuid-root copy of bh-escape (owned by the host uid of container root), run as uid 1000.
# NNP=True|False selects no_new_privs; False is the control that shows the copy works.
setuid_bundle() {
  local r=$W/suid-rootfs
  [ -d "$r" ] || {
    new_rootfs "$r" && cp "$ESCAPE" "$r/bh-escape-suid" &&
      chown "$ROOT_HOST_UID:$ROOT_HOST_UID" "$r/bh-escape-suid" && chmod 4755 "$r/bh-escape-suid"
  }
  bundle "$1" "$r" "['/bh-escape', 'run', 'setuid_binary']" "
c['process']['user'] = {'uid': 1000, 'gid': 1000}
c['process']['noNewPrivileges'] = $2"
}

# Links in the image aimed at a host directory, with mounts below them.
attempt_symlink_mount_dest() {
  local r=$W/link-rootfs b up
  new_rootfs "$r" || { row symlink_mount_dest ENOENT setup:rootfs FAIL; return; }
  up=$(printf '../%.0s' $(seq 12))
  ln -s "$W/hostdir" "$r/escape-abs"
  ln -s "${up%/}$W/hostdir" "$r/escape-rel"
  b=$(bundle symlink_mount_dest "$r" "['/bh-escape', 'run', 'symlink_mount_dest']" "
for d in ('/escape-abs/mnt', '/escape-rel/mnt'):
    c['mounts'].append({'destination': d, 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'nodev', 'size=1m']})")
  launch symlink_mount_dest "$b"
  local observed result
  observed=$(field "$LINE" observed); result=$(field "$LINE" result)
  # A runtime may refuse such a bundle outright; that contains it as well.
  if ! grep -q '^attempt=' "$b/out" && [ -s "$b/err" ]; then
    observed="refused: $(head -c 120 "$b/err" | tr '\n|' '  ')"; result=PASS
  fi
  if ! host_hostdir; then observed="$observed; host: $HOSTCHECK_SAW"; result=FAIL; fi
  row symlink_mount_dest "ENOENT|refused" "$observed" "$result"
}

# TIOCSTI needs a terminal: process.terminal with the console socket protocol.
attempt_tiocsti() {
  local b sock=$W/console.sock cons
  b=$(bundle tiocsti "$W/rootfs" "['/bh-escape', 'run', 'tiocsti']" "c['process']['terminal'] = True")
  "$PY" "$SRC/tests/integration/lib/console.py" "$sock" --out "$b/tty" --timeout 20 >"$b/console.log" 2>&1 &
  cons=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  launch tiocsti "$b" --console-socket "$sock"
  wait "$cons" 2>/dev/null
  LINE=$(report "$b/tty" "$b/err")
  row tiocsti "$(field "$LINE" expected)" "$(field "$LINE" observed)" "$(field "$LINE" result)"
}

# CVE-2024-21626: process.cwd (and exec --cwd) naming /proc/self/fd/N. Each must be refused
# by the runtime or land inside the rootfs; fd 9 is a host directory the caller holds open.
attempt_leaked_cwd() {
  local via=$1 n b id counts="" observed result=PASS refused=0 inside=0 out=0
  if [ "$via" = exec ]; then
    b=$(bundle leaked_cwd_exec "$W/rootfs" "['/bin/sleep', '60']")
    id=bh-esc-cwd-exec-$$
    timeout 30 "$RUNTIME" --root "$STATE" run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1 9<"$W/hostdir"
  fi
  for n in $(seq 3 12); do
    if [ "$via" = run ]; then
      b=$(bundle "leaked_cwd_$n" "$W/rootfs" "['/bh-escape', 'run', 'cwd_in_root']" "c['process']['cwd'] = '/proc/self/fd/$n'")
      launch "leaked_cwd_$n" "$b"
    else
      LINE=$(timeout 30 "$RUNTIME" --root "$STATE" exec --cwd "/proc/self/fd/$n" "$id" /bh-escape run cwd_in_root </dev/null 2>/dev/null 9<"$W/hostdir")
    fi
    case $(field "$LINE" observed) in
      in-root) inside=$((inside + 1)) ;;
      outside-root) out=$((out + 1)); result=FAIL ;;
      *) refused=$((refused + 1)) ;;
    esac
  done
  [ "$via" = exec ] && timeout 10 "$RUNTIME" --root "$STATE" delete --force "$id" >/dev/null 2>&1
  observed="fd3-12:refused=$refused,in-root=$inside,outside-root=$out"
  row "leaked_cwd_$via" "refused|in-root" "$observed" "$result"
}

# --- the run -----------------------------------------------------------------------------

declare -A ONLY_SET=()
for n in "${ONLY[@]}"; do ONLY_SET[$n]=1; done
wanted() { [ ${#ONLY[@]} -eq 0 ] || [ -n "${ONLY_SET[$1]:-}" ]; }

"$ESCAPE" list >"$W/list" || { echo "run-escapes: '$ESCAPE list' failed" >&2; exit 2; }
mapfile -t PLAIN < <(cut -f1 "$W/list" | while read -r n; do wanted "$n" && echo "$n"; done)
plain_bundles "${PLAIN[@]}"

while IFS=$'\t' read -r name expected _why; do
  wanted "$name" || continue
  case $name in
    proc_self_exe)
      attempt_proc_self_exe proc_self_exe run
      attempt_proc_self_exe proc_self_exe_via_exec exec
      if [ "$ROOTFUL_RUN" = 0 ]; then
        attempt_proc_self_exe "proc_self_exe, no user namespace" run "$ROOTFUL"
        attempt_proc_self_exe "proc_self_exe_via_exec, no user namespace" exec "$ROOTFUL"
      fi ;;
    symlink_mount_dest) attempt_symlink_mount_dest ;;
    tiocsti) attempt_tiocsti ;;
    setuid_binary)
      b=$(setuid_bundle setuid_binary True) && launch setuid_binary "$b"
      row setuid_binary "$expected" "$(field "$LINE" observed)" "$(field "$LINE" result)" ;;
    kill_host) attempt kill_host "$expected" host_alive ;;
    sethostname) attempt sethostname "$expected" host_hostname ;;
    write_core_pattern) attempt write_core_pattern "$expected" host_core_pattern ;;
    cgroup_mount_v1|write_release_agent) attempt "$name" "$expected" host_release_agent ;;
    abstract_unix) attempt abstract_unix "$expected" host_abstract ;;
    *) attempt "$name" "$expected" ;;
  esac
done <"$W/list"
wanted leaked_cwd_run && attempt_leaked_cwd run
wanted leaked_cwd_exec && attempt_leaked_cwd exec

# Controls: the same attempts with one boundary taken away must see the escape, or the
# attempt could not have failed in the first place. They count as failures when they do not.
CONTROLS=()
control() { CONTROLS+=("| $1 | $TIER | $2 | $3 | $4 |"); [ "$4" = PASS ] || FAILED=$((FAILED + 1)); }
if wanted setuid_binary; then
  b=$(setuid_bundle control_setuid False) && launch control_setuid "$b"
  o=$(field "$LINE" observed)
  case $o in *euid=0*) control "setuid_binary, noNewPrivileges false" "euid=0" "$o" PASS ;;
             *) control "setuid_binary, noNewPrivileges false" "euid=0" "$o" FAIL ;; esac
fi
if wanted abstract_unix; then
  b=$(bundle control_abstract "$W/rootfs" "['/bh-escape', 'run', 'abstract_unix']" \
        "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network']")
  launch control_abstract "$b"
  o=$(field "$LINE" observed)
  if [ "$o" = ok ] && [ -s "$W/abstract.log" ]; then r=PASS; else r=FAIL; fi
  control "abstract_unix, no network namespace" "ok" "$o" "$r"
fi

echo "| attempt | tier | expected | observed | result |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
if [ ${#CONTROLS[@]} -gt 0 ]; then
  echo
  echo "Controls (one boundary removed on purpose; the attempt must see the escape):"
  echo
  echo "| control | tier | expected | observed | result |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${CONTROLS[@]}"
fi
echo
echo "$((${#ROWS[@]} + ${#CONTROLS[@]})) rows, $FAILED failed"
[ "$FAILED" -eq 0 ]
