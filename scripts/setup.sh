#!/usr/bin/env bash
# Installs the Debian packages the engine needs (only those missing) and builds it into build/.
# usage: scripts/setup.sh [--tests] [--bench] [--no-build]
#   --tests     also install the test-only dependency python3-torch (checks that Python reads our model.pt) and
#               generate the PaddlePaddle parity fixtures (scripts/paddle_fixtures.sh: paddlepaddle from PyPI, and
#               onnxruntime, the second runtime the export tests run our ONNX files in)
#   --bench     also install python3-torch and python3-torchvision for the reference loops in ../shared/bench
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config libtorch-dev libgloo-dev libopenblas0-openmp libopencv-dev
          libonnx-dev libprotobuf-dev libdnnl-dev libpolyclipping-dev libgeos-dev libyaml-cpp-dev nlohmann-json3-dev
          libgtest-dev zlib1g-dev dataset-fashion-mnist)
BUILD=1
FIXTURES=0
for arg in "$@"; do
  case "$arg" in
    --tests) PACKAGES+=(python3-torch python3-venv); FIXTURES=1 ;;
    --bench) PACKAGES+=(python3-torch python3-torchvision) ;;
    --no-build) BUILD=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

[ "$BUILD" = 1 ] || exit 0
JOBS=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${PADDLEX_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$JOBS"
[ "$FIXTURES" = 0 ] || scripts/paddle_fixtures.sh
