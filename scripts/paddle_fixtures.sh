#!/usr/bin/env bash
# Generates the PaddlePaddle parity fixtures the tests compare our models with (tests/data/make_paddle_fixtures.py)
# into .paddle-fixtures/, unless they are there already for the current script. Installs PyPI's paddlepaddle and
# paddleclas (PaddleClas's model code, without its training dependencies) into .venv-paddle/ the first time, and
# onnxruntime, which the export tests use as an independent runtime of our ONNX files.
# usage: scripts/paddle_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-paddle
OUT=.paddle-fixtures
SCRIPT=tests/data/make_paddle_fixtures.py
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import onnxruntime" 2>/dev/null; then
  echo "Installing onnxruntime from PyPI into $VENV"
  "$VENV/bin/pip" install -q onnxruntime
fi
STAMP=$(cat "$SCRIPT" "$0" | sha256sum | cut -c1-16)  # the versions pinned below count too
if [ -f "$OUT/fixtures.json" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
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
echo "$STAMP" > "$OUT/.stamp"
