#!/usr/bin/env bash
# Data-parallel overhead on one 2-core box, at the same global batch (64): 2 ranks x 1 thread vs 1 rank x 2
# threads, ours (build/bench_cls_train, Gloo) side by side with PyTorch DDP (../shared/bench/torch_ddp_baseline.py).
# The machine is shared and noisy: every round measures all four configurations back to back, and the summary
# gives each round's 2x1 / 1x2 ratio and the median over the rounds.
# usage: scripts/bench/run_ddp_bench.sh [ROUNDS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh --bench   # builds too: the bench binary and the reference loops' torchvision
ROUNDS=${1:-5}
STEPS=${2:-60}
DATA=../shared/datasets/cls_photos_bench   # only its size and classes matter: the data is synthetic
REF=../shared/bench/torch_ddp_baseline.py
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ours() {  # MODEL WORLD: WORLD processes x (2 / WORLD) threads, 64 / WORLD images per rank
  local model=$1 world=$2 port
  port=$(free_port)
  for ((r = world - 1; r >= 0; r--)); do
    RANK=$r WORLD_SIZE=$world LOCAL_WORLD_SIZE=$world MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      build/bench_cls_train "$DATA" "$model" 64 $((64 / world)) $((2 / world)) 0 "$STEPS" synthetic &
  done
  wait
}
for round in $(seq "$ROUNDS"); do
  {
    for model in MobileNetV3_small_x1_0 PP-LCNet_x0_25; do
      ours "$model" 1
      ours "$model" 2
    done
    /usr/bin/python3 "$REF" mobilenet_v3_small 64 64 "$STEPS" 1 2
    /usr/bin/python3 "$REF" mobilenet_v3_small 64 32 "$STEPS" 2 1
  } 2>&1 | grep "img/s" | sed "s/^/round $round: /" | tee -a "$LOG"
done

# Lines look like "round R: MODEL ... world=W: N img/s ..." (ours) or "round R: MODEL world=W ...: N img/s" (DDP).
echo
echo "2 ranks x 1 thread / 1 rank x 2 threads, per round and median:"
awk '
  {
    round = $2 + 0; model = $3; world = 0
    for (i = 4; i <= NF; i++) {
      if ($i ~ /^world=/) { w = $i; sub(/world=/, "", w); sub(/:$/, "", w); world = w + 0 }
      if ($i == "img/s") speed = $(i - 1)
    }
    name = (model ~ /^mobilenet_v3_small$/) ? "PyTorch DDP mobilenet_v3_small" : "ours " model
    value[name, round, world] = speed; names[name] = 1; if (round > last) last = round
  }
  END {
    for (name in names) {
      n = 0; line = ""
      for (r = 1; r <= last; r++) if ((name, r, 1) in value && (name, r, 2) in value) {
        ratio[++n] = value[name, r, 2] / value[name, r, 1]; line = line sprintf(" %.3f", ratio[n])
      }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
      median = (n % 2) ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2
      printf "  %-36s median %.3f  (rounds:%s)\n", name, median, line
    }
  }' "$LOG" | sort
