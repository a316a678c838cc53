#!/usr/bin/env bash
# Trains PP-LCNet_x0_25 with real PaddleX on a tiny generated dataset (CPU) and writes what
# tests/test_paddlex_checkpoint.cpp checks into tests/data/paddlex_lcnet/: the dataset, PaddleX's best_model
# (.pdparams, .pdstates, .info.json), its label_dict.txt and the top-1 that PaddleX's own evaluate reported
# (evaluate_result.json). The tests never run this: the files are committed (1.5 MB in all).
#
# usage: tests/data/make_paddlex_checkpoint.sh WORK_DIR [PADDLECLAS_GIT]
#   WORK_DIR        a scratch directory for the virtual environment, PaddleX's sources and its output
#   PADDLECLAS_GIT  where to clone PaddleClas from (default https://github.com/PaddlePaddle/PaddleClas; a local
#                   mirror works); checked out at the develop commit below
#
# Versions used for the committed files: Python 3.11, paddlepaddle 3.3.0 (CPU), paddlex 3.7.2 (PyPI sdist: the
# wheel lacks main.py and the suite configs), PaddleClas develop d178931 (version 2.6.0).
# Notes: PaddleX finds its PaddleClas plugin only under <paddlex>/repo_manager/repos/PaddleClas, so the clone
# goes there and `paddlex --install PaddleClas --use_local_repos` registers it without downloading. PaddleX's
# -o values go through Python's literal_eval: `None` (not `null`) turns pretraining off. The base config gets
# Global.seed 0 and num_workers 0, which makes the run repeatable (two runs gave byte-identical weights).
set -euo pipefail
WORK=$(realpath -m "${1:?usage: $0 WORK_DIR [PADDLECLAS_GIT]}")
PADDLECLAS_GIT=${2:-https://github.com/PaddlePaddle/PaddleClas}
PADDLECLAS_COMMIT=d178931fc
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$HERE/paddlex_lcnet
EPOCHS=10
mkdir -p "$WORK/src" "$WORK/run"

if [ ! -x "$WORK/venv/bin/paddlex" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q paddlepaddle==3.3.0
  "$WORK/venv/bin/pip" download -q --no-deps --no-binary :all: paddlex==3.7.2 -d "$WORK/src"
  tar xzf "$WORK/src/paddlex-3.7.2.tar.gz" -C "$WORK/src"
  "$WORK/venv/bin/pip" install -q -e "$WORK/src/paddlex-3.7.2[cv]"
  REPOS=$WORK/src/paddlex-3.7.2/paddlex/repo_manager/repos
  mkdir -p "$REPOS"
  git clone -q --no-checkout "$PADDLECLAS_GIT" "$REPOS/PaddleClas"
  # A few binary blobs (gifs, a font, a dll) may be absent from a mirror; nothing of them is needed.
  git -C "$REPOS/PaddleClas" sparse-checkout set --no-cone '/*' '!*.gif' '!*.ttf' '!*.dll' '!/*.pdparams'
  git -C "$REPOS/PaddleClas" checkout -q "$PADDLECLAS_COMMIT" || true
  test -f "$REPOS/PaddleClas/tools/train.py"
  (cd "$WORK/src/paddlex-3.7.2" && "$WORK/venv/bin/paddlex" --install PaddleClas --use_local_repos)
fi
PADDLEX=$WORK/src/paddlex-3.7.2
PY=$WORK/venv/bin/python
export OMP_NUM_THREADS=2

DATA=$WORK/run/tiny_cls
rm -rf "$DATA" && "$PY" "$HERE/make_tiny_cls.py" "$DATA"
BASIC=$WORK/run/PP-LCNet_x0_25.seeded.yaml
sed -e 's/^  checkpoints: null/  checkpoints: null\n  seed: 0/' -e 's/num_workers: [0-9]*/num_workers: 0/' \
    -e 's/use_shared_memory: True/use_shared_memory: False/' \
    "$PADDLEX/paddlex/repo_apis/PaddleClas_api/configs/PP-LCNet_x0_25.yaml" > "$BASIC"
OUT=$WORK/run/output
rm -rf "$OUT"
CFG=paddlex/configs/modules/image_classification/PP-LCNet_x0_25.yaml
cd "$PADDLEX"
"$PY" main.py -c $CFG -o Global.mode=train -o Global.dataset_dir="$DATA" -o Global.device=cpu \
  -o Global.output="$OUT" -o Train.epochs_iters=$EPOCHS -o Train.num_classes=4 -o Train.batch_size=32 \
  -o Train.learning_rate=0.1 -o Train.warmup_steps=2 -o Train.pretrain_weight_path=None \
  -o Train.basic_config_path="$BASIC" > "$WORK/run/train.log" 2>&1
"$PY" main.py -c $CFG -o Global.mode=evaluate -o Global.dataset_dir="$DATA" -o Global.device=cpu \
  -o Global.output="$OUT" -o Evaluate.weight_path="$OUT/best_model/best_model.pdparams" > "$WORK/run/eval.log" 2>&1

rm -rf "$DEST"
mkdir -p "$DEST/output/best_model"
cp -r "$DATA" "$DEST/dataset"
cp "$OUT/label_dict.txt" "$OUT/evaluate_result.json" "$DEST/output/"
cp "$OUT"/best_model/best_model.{pdparams,pdstates,info.json} "$DEST/output/best_model/"
cat "$DEST/output/evaluate_result.json"
