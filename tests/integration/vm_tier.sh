#!/usr/bin/env bash
# The vm tier behind bulkhead's runc verbs: bulkhead (and its bulkhead-vm name) with
# bulkhead-vmm, the guest kernel, the initrd holding bulkhead-init and mkfs.erofs, against
# the busybox bundle. tests/vmtier/in-host.sh runs every case in one boot of the test host
# (tools/test-host.sh), or directly where this machine's KVM boots Linux. Its TAP lines are ours.
#
# Environment: BULKHEAD_BUILD (set by ctest) holds bin/{bulkhead,bulkhead-vmm},
# lib/bulkhead/initrd.img and tests/vmtier/bh-subreaper; BULKHEAD_ROOTFS the busybox rootfs.
# Exit status: 0 all passed, 1 something failed, 77 cannot run here.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/vm_suite.sh"
reaper=$build/tests/vmtier/bh-subreaper
escape=$build/tests/security/bh-escape
recv=$build/tests/vmtier/bh-console-recv
peer=$build/tests/vmm/bh-vmm-agent-peer
vm_suite_setup vm-tier "$reaper" "$escape" "$recv" "$peer"

# The bundles' configs: bulkhead's default spec with a small memory limit (the VM gets it
# plus the guest's overhead), the rootfs path filled in by in-host.sh, and per case:
#   run:  the vm tier by annotation; prints hello and the guest's kernel release, exits 3
#   life: no annotation (bulkhead-vm picks the tier); sleep 100 outside a pid namespace, so
#         SIGTERM ends it (a pid namespace's init ignores signals it has no handler for), and
#         so outside a user namespace too (mounting proc needs one's own pid namespace there)
#   bad:  an isolation annotation that names no tier
#   esc:  the vm tier by annotation, the hardened defaults as they are; the escape attempts
#         are exec'd into it
#   killhost: the same, running the kill_host attempt as the container's init
#   exetrap: the same, started at /exe-trap, a script whose interpreter is /proc/self/exe
#   symlink: the same, running symlink_mount_dest as the container's init, with tmpfs mounts
#         on /escape-abs/mnt and /escape-rel/mnt (links in-host.sh puts in the image)
#   tty:  the vm tier by annotation, on a terminal: prints its size, reads a line, prints
#         the size again and what it read, exits 5
#   vol:  the vm tier by annotation with two read-only volumes (a directory, a file; paths
#         filled in by in-host.sh): prints them, tries to write to both
#   volrw: the vm tier by annotation with two writable volumes, as Kubernetes gives a pod an
#         emptyDir and a termination-log file (paths filled in by in-host.sh): writes, makes,
#         removes and links there, writes its termination message, exits 4
out=$(cd "$tmp" && "$runtime" spec 2>&1) || fail "bulkhead spec writes a config" "$out"
mkdir -p "$tmp/configs"
python3 - "$tmp/config.json" "$tmp/configs" <<'PY' || fail "the test configs are written"
import copy, json, sys
base = json.load(open(sys.argv[1]))
base["root"] = {"path": "@ROOTFS@", "readonly": True}
base["linux"]["resources"]["memory"] = {"limit": 128 << 20}
def write(name, args, annotation=None, pid_ns=True, env=(), terminal=False, mounts=()):
    c = copy.deepcopy(base)
    c["mounts"] += list(mounts)
    c["process"]["args"] = args
    c["process"]["terminal"] = terminal
    c["process"]["env"] += list(env)
    if annotation is not None:
        c["annotations"] = {"run.bulkhead.isolation": annotation}
    if not pid_ns:
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] not in ("pid", "user")]
        c["linux"].pop("uidMappings", None)
        c["linux"].pop("gidMappings", None)
    json.dump(c, open(sys.argv[2] + "/" + name + ".json", "w"))
write("run", ["sh", "-c", "echo hello; uname -r; exit 3"], "vm")
write("life", ["sleep", "100"], pid_ns=False)
write("bad", ["true"], "bogus")
write("esc", ["sleep", "1000"], "vm")
write("killhost", ["/bh-escape", "run", "kill_host"], "vm", env=["BH_HOST_PID=@VICTIM@"])
write("exetrap", ["/exe-trap"], "vm")
write("symlink", ["/bh-escape", "run", "symlink_mount_dest"], "vm",
      mounts=[{"destination": d, "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "nodev", "size=1m"]} for d in ("/escape-abs/mnt", "/escape-rel/mnt")])
write("tty", ["sh", "-c", 'stty size; read x; stty size; echo "got $x"; '
              'test -t 0 && echo on-a-tty; exit 5'], "vm", terminal=True)
# Destinations the image has: the hardened defaults' user namespace cannot make new ones in
# a root owned by the host's root, in either tier.
vol_dir = {"destination": "/home", "type": "bind", "source": "@VOLDIR@", "options": ["rbind", "ro"]}
vol_file = {"destination": "/etc/hostname", "type": "bind", "source": "@VOLFILE@",
            "options": ["bind", "ro"]}
write("vol", ["sh", "-c", "cat /home/greeting /etc/hostname; md5sum /home/blob; "
              "touch /home/new 2>/dev/null || echo data-ro; "
              "(echo y >>/etc/hostname) 2>/dev/null || echo conf-ro"], "vm",
      mounts=[vol_dir, vol_file])
write("volrw", ["sh", "-c", "echo result >/home/out.txt && mkdir -p /home/sub/deeper && "
                "echo deep >/home/sub/deeper/f && rm /home/old && rm -rf /home/olddir && "
                "ln -s /etc/passwd /home/link && echo 'all done' >/dev/termination-log; exit 4"], "vm",
      mounts=[{"destination": "/home", "type": "bind", "source": "@RWDIR@", "options": ["rbind", "rw"]},
              {"destination": "/dev/termination-log", "type": "bind", "source": "@RWLOG@",
               "options": ["bind", "rw"]}])
PY

# The hostile guest's initrd: bh-vmm-agent-peer as /init says hello, then garbage.
bash "$src/tools/vm-initrd.sh" "$tmp/hostile.img" "$peer" || fail "the hostile guest's initrd is built"

if bash "$src/tools/kvm-usable.sh"; then
  echo "# KVM boots Linux here: running the cases directly"
  sh "$src/tests/vmtier/in-host.sh" "$runtime" "$vmm" "$kdir/vmlinux" "$initrd" \
    "$(readlink -f "$rootfs")" "$tmp/configs" "$reaper" "$escape" "$recv" "$tmp/hostile.img"
  exit $?
fi

echo "# running the cases inside the test host (tools/test-host.sh)"
bash "$src/tools/test-host.sh" --mem 1536 --smp 2 --timeout 900 --stall 300 \
  "${VM_FILES[@]}" --dir "$tmp/configs:/bh/configs" --file "$reaper:/bh/bh-subreaper" \
  --file "$escape:/bh/bh-escape" --file "$recv:/bh/bh-console-recv" \
  --file "$tmp/hostile.img:/bh/hostile.img" \
  --file "$src/tests/vmtier/in-host.sh:/bh/tests/vmtier/in-host.sh" \
  -- sh /bh/tests/vmtier/in-host.sh /bh/bin/bulkhead /bh/bin/bulkhead-vmm /bh/vmlinux /bh/initrd.img \
  /bh/rootfs /bh/configs /bh/bh-subreaper /bh/bh-escape /bh/bh-console-recv /bh/hostile.img
rc=$?
. "$src/tests/integration/lib/test_host_verdict.sh"
test_host_verdict "$rc"
