#!/usr/bin/env bash
# Data-parallel overhead on one 2-core box, at the same global batch: 2 ranks x 1 thread vs 1 rank x 2 threads,
# ours (build/bench_cls_train, Gloo) side by side with PyTorch DDP (../shared/bench/torch_ddp_baseline.py).
# usage: scripts/bench/run_ddp_bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh --bench   # builds too: the bench binary and the reference loops' torchvision
ROUNDS=${1:-1}
DATA=../shared/datasets/cls_photos_bench   # only its size and classes matter: the data is synthetic
REF=../shared/bench/torch_ddp_baseline.py
STEPS=30
ours_two_ranks() {  # MODEL: 2 processes x 1 thread, 32 per rank
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  for r in 1 0; do
    RANK=$r WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      build/bench_cls_train "$DATA" "$1" 64 32 1 0 $STEPS synthetic &
  done
  wait
}
for round in $(seq "$ROUNDS"); do
  for model in MobileNetV3_small_x1_0 PP-LCNet_x0_25; do
    build/bench_cls_train "$DATA" "$model" 64 64 2 0 $STEPS synthetic
    ours_two_ranks "$model"
  done
  /usr/bin/python3 "$REF" mobilenet_v3_small 64 64 $STEPS 1 2
  /usr/bin/python3 "$REF" mobilenet_v3_small 64 32 $STEPS 2 1
done
