#!/usr/bin/env bash
# Side-by-side training throughput, image classification at 224 px, batch 32, 2 compute threads:
#   ours files      build/bench_cls_train on JPEG files (decode + augment + train)
#   ours synthetic  the same steps on in-memory tensors (compute only)
#   torchvision     ../shared/bench/torch_train_files.py on the same files (Debian's python3-torch)
# Run on an otherwise idle machine; compare ratios within one run only.
# usage: scripts/bench/run_cls_bench.sh [DATASET_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh --bench   # builds too: the bench binary and the reference loops' torchvision
DATA=${1:-../shared/datasets/cls_photos_bench}
ROUNDS=${2:-2}
REF=../shared/bench/torch_train_files.py
EPOCHS=3          # torch_train_files.py: 3 epochs of 12 steps (394 images, batch 32), the first 2 steps untimed
STEPS=34
WORKERS=${WORKERS:-1}
for round in $(seq "$ROUNDS"); do
  for pair in "MobileNetV3_small_x1_0 mobilenet_v3_small" "ResNet18 resnet18"; do
    set -- $pair
    build/bench_cls_train "$DATA" "$1" 224 32 2 "$WORKERS" $STEPS files
    build/bench_cls_train "$DATA" "$1" 224 32 2 "$WORKERS" $STEPS synthetic
    /usr/bin/python3 "$REF" "$DATA" "$2" 224 32 2 "$WORKERS" $EPOCHS
  done
done
