#!/usr/bin/env bash
# Installs the Debian packages bulkhead needs to build, test and benchmark.
# Idempotent: does nothing when everything is already present.
set -euo pipefail

packages=(
  # build
  cmake ninja-build pkg-config g++ make
  libseccomp-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzers (libFuzzer with ASan/UBSan) build with clang
  clang-14 libclang-rt-14-dev
  # the default rootfs and test workloads
  busybox-static
  # reference runtimes and clients for integration tests and benchmarks
  containerd runc crun bubblewrap hyperfine time podman
  # test helpers
  iproute2 util-linux procps python3
  erofs-utils  # VM tier: read-only root filesystem images (mkfs.erofs)
  linux-source-6.1 bc flex bison libelf-dev libssl-dev cpio xz-utils qemu-system-x86  # guest kernel build, KVM test host
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
