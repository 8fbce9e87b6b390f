# bulkhead: two set-up commands, `make demo` and `make test`; the rest are steps they use.
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build rootfs demo test unit integration bench clean

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

test: rootfs
	cd $(BUILD) && ctest --output-on-failure --timeout 600

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: rootfs
	cd $(BUILD) && ctest --output-on-failure -L integration

bench: rootfs
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
