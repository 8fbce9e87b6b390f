# bulkhead: two set-up commands, `make demo` and `make test`; the rest are steps they use.
BUILD ?= build
# Seconds each fuzz target runs under `make fuzz`.
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build rootfs guest-kernel demo test unit integration fuzz sanitize bench clean

all: build

deps:
	@bash tools/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

rootfs: build
	@bash tools/make-rootfs.sh $(BUILD)/rootfs

demo: rootfs
	@bash tools/demo.sh $(BUILD)

# The VM tier's guest kernel, built once per guest/kernel.config and cached (tools/guest-kernel.sh).
guest-kernel: deps
	@kdir=$$(bash tools/guest-kernel.sh) && mkdir -p $(BUILD)/lib/bulkhead && \
	  ln -sfn $$kdir/vmlinux $(BUILD)/lib/bulkhead/vmlinux

# The unit tests that load a real kernel image get the guest kernel's.
test: rootfs guest-kernel
	kdir=$$(bash tools/guest-kernel.sh) && cd $(BUILD) && \
	  BULKHEAD_TEST_KERNEL=$$kdir/bzImage BULKHEAD_TEST_VMLINUX=$$kdir/vmlinux \
	  ctest --output-on-failure --timeout 600

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: rootfs
	cd $(BUILD) && ctest --output-on-failure -L integration

# Each libFuzzer target for FUZZ_SECONDS (clang build in $(BUILD)/fuzz); `make test` runs
# a short smoke of each.
fuzz: deps
	@bash tools/fuzz.sh run $(BUILD) $(FUZZ_SECONDS)

# Only the ASan+UBSan part of `make test`.
sanitize: rootfs
	cd $(BUILD) && ctest --output-on-failure -L sanitize

bench: rootfs
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
