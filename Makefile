# nasforge - top-level entry points. `make demo` and `make test` are the two that matter.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= 2
NASFORGE := $(BUILD)/bin/nasforge

# Debian packages this project needs to build and test, installed by `make deps`.
# libopenblas0-openmp switches LibTorch's BLAS from the reference one (20x slower matmul);
DEB_PACKAGES := build-essential cmake ninja-build ccache pkg-config zlib1g-dev \
  libyaml-cpp-dev libboost-graph-dev libgtest-dev libgmock-dev \
  libtorch-dev libopenblas0-openmp dataset-fashion-mnist \
  ocl-icd-opencl-dev libdnnl-dev libtbb-dev libsqlite3-dev \
  libonnx-dev libprotobuf-dev python3-onnx libgloo-dev chromium
# What only the benches add, installed by `make bench-deps`: the Python PyTorch peer of
# bench/python_comparison.sh (about 300 MB, so `make test` does not pull it in).
BENCH_DEB_PACKAGES := python3-torch
# ONNX Runtime for verifying exports: the npm package onnxruntime-node (CPU, linux x64), pinned
# in tools/ort/package-lock.json and installed into tools/ort/node_modules (ignored by git).
ORT_DIR := tools/ort

.PHONY: deps bench-deps build test demo bench-quick clean format

# install_debs PACKAGES: installs those of PACKAGES that dpkg does not list as installed.
define install_debs
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all packages present"; fi
endef

deps:
	$(call install_debs,$(DEB_PACKAGES))
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  echo "make deps: installing nodejs and npm"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm; fi
	@if [ ! -f $(ORT_DIR)/node_modules/onnxruntime-node/package.json ]; then \
	  echo "make deps: installing onnxruntime-node into $(ORT_DIR)/node_modules"; \
	  cd $(ORT_DIR) && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --ignore-scripts --no-audit --no-fund; \
	else echo "make deps: onnxruntime-node present"; fi

bench-deps: deps
	$(call install_debs,$(BENCH_DEB_PACKAGES))

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: deps build
	@bash tools/demo.sh $(NASFORGE)

# Every bench at a reduced size (about 20 minutes on 2 cores): one line per figure, met or missed.
bench-quick: bench-deps build
	@bash bench/quick.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
