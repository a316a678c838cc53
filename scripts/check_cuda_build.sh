#!/usr/bin/env bash
# Compiles the GPU path: installs PyPI's CUDA-enabled torch wheel into a virtual environment, configures our
# build against the LibTorch inside it (CUDA device placement and the NCCL process group enabled), builds
# everything into build-cuda/, then runs `main --help` and the CPU test suite with that binary (with no GPU
# present, torch::cuda::is_available() is false and GPU requests are refused as on a CPU build).
# Needs NVIDIA's CUDA toolkit (nvcc) on the machine. Takes a ~5 GB download and a full build.
# usage: scripts/check_cuda_build.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-cuda}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/pip" install -q torch
TORCH_DIR=$("$VENV/bin/python" -c "import torch, os; print(os.path.dirname(torch.__file__))")
echo "LibTorch: $TORCH_DIR ($("$VENV/bin/python" -c "import torch; print(torch.__version__, 'CUDA', torch.version.cuda)"))"
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
# The wheel's own libraries (libc10, NCCL, cuDNN, ...) must win over the system's (Debian's CPU libc10, the CUDA
# toolkit's older NCCL): the torch dir first in the prefix path, the wheel's nvidia/*/lib first at link time.
NVIDIA_LIBS=$(find "$(dirname "$TORCH_DIR")/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | paste -sd:)
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_DIR;$TORCH_DIR/share/cmake" \
  -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$NVIDIA_LIBS" \
  | tee build-cuda.configure.log | grep "paddlex:"
grep -q "CUDA LibTorch found" build-cuda.configure.log || { echo "error: no CUDA LibTorch detected" >&2; exit 1; }
rm -f build-cuda.configure.log
export LD_LIBRARY_PATH="$TORCH_DIR/lib:$NVIDIA_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cmake --build build-cuda -j"$(nproc)"
build-cuda/main --help > /dev/null
echo "main --help: ok"
scripts/paddle_fixtures.sh
cd build-cuda
ctest --output-on-failure --timeout 900
