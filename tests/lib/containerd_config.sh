# containerd's configuration for the tests that drive it (tests/integration/containerd.sh,
# tests/vmtier/containerd-in-host.sh): a private daemon with its own root, state and
# sockets, and the plugins that need what a test host lacks turned off. POSIX sh.
#
# containerd_config DIR SOCK: prints the TOML; root and state go below DIR.
containerd_config() {
  cat <<TOML
version = 2
root = "$1/root"
state = "$1/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp",
]
[grpc]
  address = "$2"
[ttrpc]
  address = "$2.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
}
