# Shared harness for the integration tests: sourced by tests/integration/*.sh.
#
# The runtime under test comes from the environment, so the same script runs
# against bulkhead (RUNTIME unset: $BULKHEAD, as ctest sets it) and against a
# reference runtime (RUNTIME=/usr/bin/runc bash tests/integration/x.sh).
#
# Output: one "ok - NAME" / "not ok - NAME" line per check, then a final line
# "N passed, M failed". Exit status 0 when nothing failed, 1 otherwise, 77 when
# the test cannot run here (ctest reports it as skipped).
set -uo pipefail

RUNTIME=${RUNTIME:-${BULKHEAD:-}}
H_NAME=$(basename "$0" .sh)
H_SRC=${BULKHEAD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
# Every runtime call gets a deadline so a hung runtime fails the test instead of ctest's timeout.
H_TIMEOUT=${H_TIMEOUT:-30}
H_PASS=0
H_FAIL=0
H_TMP=""
H_CLEANUPS=()   # extra commands run at exit, newest first

h_skip() { echo "skipped: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || h_skip "needs root (namespaces, cgroups)"
[ -n "$RUNTIME" ] || h_skip "neither RUNTIME nor BULKHEAD is set"
[ -x "$RUNTIME" ] || h_skip "runtime $RUNTIME is not executable"
command -v python3 >/dev/null || h_skip "python3 missing"

H_TMP=$(mktemp -d "/tmp/bh-it-$H_NAME.XXXXXX")
chmod 755 "$H_TMP"   # a user-namespaced workload must be able to reach its bundle
# A unique --root per test file, so parallel or leftover state never mixes.
H_ROOT=$H_TMP/state
# Tracks "runtime<TAB>root<TAB>id" for everything this test created.
H_CREATED=$H_TMP/created
: >"$H_CREATED"

ok() { H_PASS=$((H_PASS + 1)); echo "ok - $1"; }
not_ok() {
  H_FAIL=$((H_FAIL + 1)); echo "not ok - $1"
  [ $# -gt 1 ] && [ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/#   /'
  return 0
}
skip() { echo "skip - $1 # $2"; }

# check NAME CMD...: passes when CMD exits 0.
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n" "command failed: $*"; fi; }
# check_fail NAME CMD...: passes when CMD exits non-zero.
check_fail() { local n=$1; shift; if "$@"; then not_ok "$n" "command succeeded: $*"; else ok "$n"; fi; }
check_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: [$2]"$'\n'"actual:   [$3]"; fi
}
check_ne() {
  if [ "$2" != "$3" ]; then ok "$1"; else not_ok "$1" "both are: [$2]"; fi
}
# check_match NAME ERE TEXT
check_match() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no match for /$2/ in:"$'\n'"$3"; fi
}
check_nomatch() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then not_ok "$1" "unexpected /$2/ in:"$'\n'"$3"; else ok "$1"; fi
}

summary() {
  echo "$H_PASS passed, $H_FAIL failed"
  [ "$H_FAIL" -eq 0 ]
}

# rt ARGS...: the runtime under test with this test's --root. Output is left to the caller.
rt() { timeout -k 5 "$H_TIMEOUT" "$RUNTIME" --root "$H_ROOT" "$@"; }
# rt_with RUNTIME ROOT ARGS...: another runtime/root (the compare sections).
rt_with() { local r=$1 root=$2; shift 2; timeout -k 5 "$H_TIMEOUT" "$r" --root "$root" "$@"; }

# cap ARGS...: runs ARGS, leaving stdout in $OUT, stderr in $ERR, status in $RC.
# stdin is /dev/null so a container never waits on the terminal.
cap() {
  "$@" <"/dev/null" >"$H_TMP/.out" 2>"$H_TMP/.err"
  RC=$?
  OUT=$(cat "$H_TMP/.out")
  ERR=$(cat "$H_TMP/.err")
}

# track ID [RUNTIME ROOT]: remembers a container so the exit trap deletes it.
track() { printf '%s\t%s\t%s\n' "${2:-$RUNTIME}" "${3:-$H_ROOT}" "$1" >>"$H_CREATED"; }

# uid: a container id unique to this run.
uid() { echo "bh-it-$H_NAME-$1-$$"; }

# --- rootfs and bundles ----------------------------------------------------

# The busybox rootfs: $BULKHEAD_ROOTFS when it exists, else built once here.
h_rootfs() {
  if [ -n "${BULKHEAD_ROOTFS:-}" ] && [ -x "$BULKHEAD_ROOTFS/bin/busybox" ]; then
    echo "$BULKHEAD_ROOTFS"
    return
  fi
  if [ ! -x "$H_TMP/rootfs-src/bin/busybox" ]; then
    bash "$H_SRC/tools/make-rootfs.sh" "$H_TMP/rootfs-src" >&2 || return 1
  fi
  echo "$H_TMP/rootfs-src"
}

# spec_json [RUNTIME]: the runtime's default config.json on stdout.
spec_json() {
  local r=${1:-$RUNTIME} d
  d=$(mktemp -d "$H_TMP/spec.XXXXXX")
  (cd "$d" && timeout 10 "$r" spec >/dev/null 2>&1) && [ -s "$d/config.json" ] && cat "$d/config.json"
  local rc=$?
  rm -rf "$d"
  return $rc
}

# bundle_new NAME: a bundle dir (printed) holding a copy of the rootfs and the
# runtime's default config.json. Copying is cheap: one binary plus symlinks.
bundle_new() {
  local b=$H_TMP/bundles/$1 src
  src=$(h_rootfs) || return 1
  mkdir -p "$b"
  chmod 755 "$H_TMP/bundles" "$b"
  cp -a "$src" "$b/rootfs"
  (cd "$b" && timeout 10 "$RUNTIME" spec >/dev/null 2>&1) || {
    echo "bundle_new: '$RUNTIME spec' failed" >&2
    return 1
  }
  echo "$b"
}

# cfg BUNDLE PYTHON: edits BUNDLE/config.json; PYTHON sees the parsed config as `c`.
# Helpers available there: ns(*types) sets linux.namespaces exactly.
cfg() {
  python3 - "$1/config.json" "$2" <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
lin = c.setdefault("linux", {})
def ns(*types):
    lin["namespaces"] = [{"type": t} for t in types]
def std_mounts():
    """The usual container mounts, so no test depends on a runtime's defaults."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=16m"]},
    ]
exec(code, {"c": c, "lin": lin, "ns": ns, "std_mounts": std_mounts, "json": json})
with open(path, "w") as f:
    json.dump(c, f, indent=1)
PY
}

# cfg_plain BUNDLE CGPATH ARGS...: sets every field the lifecycle cases rely on,
# so the runtime's own defaults do not matter: no user namespace, root user,
# read-only root, the usual mounts with a tmpfs /tmp, no terminal, the given
# args and cgroup path.
cfg_plain() {
  local b=$1 cg=$2; shift 2
  local args
  args=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")
  cfg "$b" "
p = c.setdefault('process', {})
p['terminal'] = False
p['args'] = $args
p['cwd'] = '/'
p['user'] = {'uid': 0, 'gid': 0}
p['env'] = ['PATH=/bin:/sbin:/usr/bin:/usr/sbin', 'HOME=/root']
c['root'] = {'path': 'rootfs', 'readonly': True}
ns('pid', 'ipc', 'uts', 'mount', 'network')
lin.pop('uidMappings', None); lin.pop('gidMappings', None)
lin['cgroupsPath'] = '$cg'
c['mounts'] = std_mounts()
"
}

# json_get JSONTEXT KEY: prints a top-level field ('' when missing).
json_get() {
  python3 -c 'import json,sys
try: v = json.loads(sys.argv[1]).get(sys.argv[2], "")
except Exception: v = ""
print(v)' "$1" "$2"
}

# state_of ID [FIELD]: the runtime's state (or one field of it).
state_of() {
  local s
  s=$(rt state "$1" 2>/dev/null) || return 1
  if [ $# -gt 1 ]; then json_get "$s" "$2"; else echo "$s"; fi
}

# wait_status ID STATUS [SECONDS]: polls state until it reports STATUS.
wait_status() {
  local i=0 n=$((${3:-5} * 10))
  while [ $i -lt $n ]; do
    [ "$(state_of "$1" status)" = "$2" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# --- leftovers -------------------------------------------------------------

# cgroup_dirs CGPATH: the cgroup directories of CGPATH that exist on the host.
cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"${1#/}" /sys/fs/cgroup/"${1#/}"; do
    [ -d "$d" ] && [ "$d" != /sys/fs/cgroup/ ] && echo "$d"
  done
}

# check_gone NAME ID CGPATH [PID] [ROOT]: no state dir, no cgroup, no process.
check_gone() {
  local n=$1 id=$2 cg=$3 pid=${4:-} root=${5:-$H_ROOT} left=""
  [ -e "$root/$id" ] && left+="state dir $root/$id"$'\n'
  [ -n "$cg" ] && left+=$(cgroup_dirs "$cg")
  if [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null && [ -d "/proc/$pid" ]; then
    # A zombie has released everything (this host's pid 1 reaps slowly), and a
    # recycled pid belongs to someone else: count only a live process of ours.
    if ! grep -qs '^State:.*Z' "/proc/$pid/status" && grep -qs "$id" "/proc/$pid/cgroup"; then
      left+=$'\n'"process $pid"
    fi
  fi
  if [ -z "$left" ]; then ok "$n"; else not_ok "$n" "left behind: $left"; fi
}

# --- comparison with a reference runtime ----------------------------------

# compare_with_ref REF: runs the script's `cases RUNTIME TAG` function with REF (tag
# "ref") and checks that every "key=result" line cases wrote to $H_TMP/results.test
# matches the reference's. Skipped when REF is missing or is the runtime under test.
compare_with_ref() {
  local ref=$1 line key
  if [ ! -x "$ref" ] || [ "$(readlink -f "$RUNTIME")" = "$(readlink -f "$ref")" ]; then
    echo "# no reference runtime, or it is the runtime under test: compare section skipped"
    return
  fi
  cases "$ref" ref
  while IFS= read -r line; do
    key=${line%%=*}
    check_eq "same as $(basename "$ref"): $key" "$(grep "^$key=" "$H_TMP/results.ref")" "$line"
  done <"$H_TMP/results.test"
}

# --- cleanup ---------------------------------------------------------------

h_cleanup() {
  local r root id c
  for c in "${H_CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
  if [ -s "$H_CREATED" ]; then
    while IFS=$'\t' read -r r root id; do
      timeout -k 2 10 "$r" --root "$root" delete --force "$id" >/dev/null 2>&1
    done <"$H_CREATED"
  fi
  # Anything else the runtimes left under our roots (ids are directory names for runc).
  for root in "$H_TMP"/state*; do
    [ -d "$root" ] || continue
    for id in "$root"/*; do
      [ -e "$id" ] || continue
      timeout -k 2 10 "$RUNTIME" --root "$root" delete --force "$(basename "$id")" >/dev/null 2>&1
    done
  done
  # Remove cgroups our ids created, in case a runtime failed half way.
  for c in /sys/fs/cgroup/*/bh-it-"$H_NAME"-*-$$; do
    [ -d "$c" ] && rmdir "$c" 2>/dev/null
  done
  # Bundles may hold mounts if a runtime died mid-setup; never rm through a mount.
  if [ -n "$H_TMP" ] && [ -d "$H_TMP" ]; then
    grep -F " $H_TMP" /proc/self/mounts | awk '{print $2}' | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf --one-file-system "$H_TMP"
  fi
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM

echo "# $H_NAME: runtime $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -1))"
