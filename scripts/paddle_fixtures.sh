#!/usr/bin/env bash
# Generates the PaddlePaddle parity fixtures the tests compare our models with into .paddle-fixtures/, unless they
# are there already for the current scripts: the classification models (tests/data/make_paddle_fixtures.py) and, in
# .paddle-fixtures/ocr/, PP-OCRv4 text recognition and detection (tests/data/make_ocr_fixtures.py, which needs
# paddlepaddle only). Installs PyPI's paddlepaddle and paddleclas (PaddleClas's model code, without its training
# dependencies) into .venv-paddle/ the first time, and onnxruntime, which the export tests use as an independent
# runtime of our ONNX files.
# usage: scripts/paddle_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-paddle
OUT=.paddle-fixtures
SCRIPT=tests/data/make_paddle_fixtures.py
OCR_SCRIPT=tests/data/make_ocr_fixtures.py
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import onnxruntime" 2>/dev/null; then
  echo "Installing onnxruntime from PyPI into $VENV"
  "$VENV/bin/pip" install -q onnxruntime
fi
STAMP=$(cat "$SCRIPT" "$OCR_SCRIPT" "$0" | sha256sum | cut -c1-16)  # the versions pinned below count too
if [ -f "$OUT/fixtures.json" ] && [ -f "$OUT/ocr/fixtures.json" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "PaddlePaddle fixtures: up to date in $OUT"
  exit 0
fi
if ! "$VENV/bin/python" -c "import paddle, six" 2>/dev/null || ! "$VENV/bin/pip" show -q paddleclas 2>/dev/null; then
  echo "Installing paddlepaddle 3.3.0 and paddleclas 2.6.0 from PyPI into $VENV"
  "$VENV/bin/pip" install -q paddlepaddle==3.3.0 six
  "$VENV/bin/pip" install -q --no-deps paddleclas==2.6.0
fi
rm -rf "$OUT"
"$VENV/bin/python" "$SCRIPT" "$OUT" 2>&1 | grep -v -i "warn"
"$VENV/bin/python" "$OCR_SCRIPT" "$OUT/ocr" 2>&1 | grep -v -i "warn"
echo "$STAMP" > "$OUT/.stamp"
