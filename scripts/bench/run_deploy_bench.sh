#!/usr/bin/env bash
# Side-by-side inference speed at 224 px, 2 threads, batch 1 (latency) and 16 (throughput), for ResNet18 and
# PP-LCNet_x1_0: LibTorch eager (eval, no grad) vs our deployment path (inference.onnx on oneDNN) vs OpenCV dnn
# vs onnxruntime on the same file. Run on an otherwise idle machine; compare ratios within one run only.
# usage: scripts/bench/run_deploy_bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh --tests >/dev/null   # builds bench_deploy; .venv-paddle gets onnxruntime
ROUNDS=${1:-2}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for round in $(seq "$ROUNDS"); do
  for model in ResNet18 PP-LCNet_x1_0; do
    echo "== round $round: $model"
    build/bench_deploy "$model" 2 "$OUT/$model.onnx"
    .venv-paddle/bin/python scripts/bench/ort_latency.py "$OUT/$model.onnx" 2
  done
done
