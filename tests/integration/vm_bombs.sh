#!/usr/bin/env bash
# The resource bombs in the vm tier: tests/vmtier/bombs-in-host.sh runs them in one boot of the
# test host (tools/test-host.sh), or directly where this machine's KVM boots Linux, each bomb
# in a vm container beside a neighbour sandbox of the container tier. Its TAP lines are ours.
#
# Environment: BULKHEAD_BUILD (set by ctest) holds bin/{bulkhead,bulkhead-vmm},
# lib/bulkhead/initrd.img and tests/security/bh-bomb; BULKHEAD_ROOTFS the busybox rootfs.
# Exit status: 0 all passed, 1 something failed, 77 cannot run here.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/vm_suite.sh"
bomb=$build/tests/security/bh-bomb
# The emulated test host is noisy: a looser bound than the container tier's x10 on the host.
max_ratio=${BULKHEAD_VM_BOMBS_MAX_RATIO:-20}
vm_suite_setup vm-bombs "$bomb"

# The configs: bulkhead's hardened defaults. The bombs: the vm tier, a quarter-CPU quota and
# 256 MiB (the VM gets that plus the guest's overhead). The neighbour: the container tier,
# answering on the fifos bound in at /ipc.
out=$(cd "$tmp" && "$runtime" spec 2>&1) || fail "bulkhead spec writes a config" "$out"
mkdir -p "$tmp/configs"
python3 - "$tmp/config.json" "$tmp/configs" <<'PY' || fail "the test configs are written"
import copy, json, sys
base = json.load(open(sys.argv[1]))
base["root"] = {"path": "@ROOTFS@", "readonly": True}
def write(name, args, tier, edit=lambda c: None):
    c = copy.deepcopy(base)
    c["process"]["args"] = args
    c["process"]["terminal"] = False
    c["annotations"] = {"run.bulkhead.isolation": tier}
    edit(c)
    json.dump(c, open(sys.argv[2] + "/" + name + ".json", "w"))
def limits(c):
    c["linux"]["resources"]["memory"] = {"limit": 256 << 20}
    c["linux"]["resources"]["cpu"] = {"quota": 25000, "period": 100000}
for bomb in ("fork", "memory", "storage", "fds", "cpu"):
    write(bomb, ["/bh-bomb", bomb, "60"], "vm", limits)
write("neighbour", ["/bh-bomb", "respond", "/ipc/req", "/ipc/resp"], "container",
      lambda c: c["mounts"].append({"destination": "/ipc", "type": "bind", "source": "@IPC@",
                                    "options": ["rbind", "rw"]}))
PY

if bash "$src/tools/kvm-usable.sh"; then
  echo "# KVM boots Linux here: running the bombs directly"
  sh "$src/tests/vmtier/bombs-in-host.sh" "$runtime" "$vmm" "$kdir/vmlinux" "$initrd" \
    "$(readlink -f "$rootfs")" "$tmp/configs" "$bomb" "$max_ratio"
  exit $?
fi

echo "# running the bombs inside the test host (tools/test-host.sh)"
bash "$src/tools/test-host.sh" --mem 2048 --smp 2 --timeout 1500 --stall 300 \
  "${VM_FILES[@]}" --dir "$tmp/configs:/bh/configs" --file "$bomb:/bh/bh-bomb" \
  --file "$src/tests/vmtier/bombs-in-host.sh:/bh/tests/vmtier/bombs-in-host.sh" \
  -- sh /bh/tests/vmtier/bombs-in-host.sh /bh/bin/bulkhead /bh/bin/bulkhead-vmm /bh/vmlinux \
  /bh/initrd.img /bh/rootfs /bh/configs /bh/bh-bomb "$max_ratio"
rc=$?
. "$src/tests/integration/lib/test_host_verdict.sh"
test_host_verdict "$rc"
