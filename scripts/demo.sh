#!/usr/bin/env bash
# The demo: installs what is missing, builds, converts Fashion-MNIST (Debian's dataset-fashion-mnist) to the
# PaddleX classification layout, then runs all five modes with the shipped PP-LCNet_x1_0 config.
# usage: scripts/demo.sh            (DEMO_TRAIN / DEMO_VAL / DEMO_EPOCHS override the subset and length)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

DATA=dataset/fashion_mnist
OUT=output/demo_fashion_mnist
CONFIG=paddlex/configs/image_classification/PP-LCNet_x1_0.yaml
TRAIN=${DEMO_TRAIN:-12000}
VAL=${DEMO_VAL:-2000}
EPOCHS=${DEMO_EPOCHS:-10}

if [ ! -f "$DATA/.complete_${TRAIN}_${VAL}" ]; then
  rm -rf "$DATA"
  build/fashion_mnist_to_paddlex /usr/share/datasets/fashion-mnist "$DATA" "$TRAIN" "$VAL"
  touch "$DATA/.complete_${TRAIN}_${VAL}"
fi

# 28x28 grey images: train at 32 px with a mild crop, as the 224 px ImageNet recipe would waste the compute.
run() {
  build/main -c "$CONFIG" -o Global.dataset_dir="$DATA" -o Global.output="$OUT" \
    -o Train.input_size=32 -o Train.resize_short=32 -o "Train.random_crop_scale=[0.8, 1.0]" \
    -o Train.batch_size=64 -o Train.learning_rate=0.1 -o Train.warmup_steps=1 -o Train.epochs_iters="$EPOCHS" \
    -o Train.log_interval=50 "$@"
}
set -x
run -o Global.mode=check_dataset
run -o Global.mode=train
run -o Global.mode=evaluate -o Evaluate.weight_path="$OUT/best_model"
run -o Global.mode=export -o Export.weight_path="$OUT/best_model"
run -o Global.mode=predict -o Predict.model_dir="$OUT/best_model/inference" \
    -o Predict.input="$DATA/images/val_00000.png" -o Global.output="$OUT/predict"
set +x
echo
echo "Demo done. Validation accuracy of the best checkpoint (val.top1 / val.top5):"
grep -E '"val.top[15]"' "$OUT/evaluate_result.json"
echo "Results: $OUT (train.log, train_result.json, best_model/inference/, predict/)"
