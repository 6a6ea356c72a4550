#!/usr/bin/env bash
# Creates the two small environments a Raspberry Pi would have, to check that the runtime needs nothing else:
#   .venv-runtime            edgecnn with only the runtime extra (numpy 2, OpenCV, ai-edge-litert, onnxruntime): no TensorFlow
#   .venv-runtime-tflite214  Python 3.11, numpy<2, OpenCV, tflite-runtime 2.14 (an older Pi image): no LiteRT, no TensorFlow
#   .venv-runtime-tflite214-numpy2  the same with numpy 2: tflite-runtime 2.14 cannot create an interpreter there
# tests/runtime/test_runtime_envs.py uses them (EDGECNN_SLOW=1). Usage: scripts/make-runtime-envs.sh [PYTHON3.11]
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-$(command -v python3.11 || command -v python3)}"

[ -x .venv-runtime/bin/python ] || "$python" -m venv .venv-runtime
.venv-runtime/bin/python -m pip install -q -e ".[runtime]"

[ -x .venv-runtime-tflite214/bin/python ] || "$python" -m venv .venv-runtime-tflite214
# opencv-python-headless 4.12+ needs numpy 2; 4.11 is the last built for numpy 1.
.venv-runtime-tflite214/bin/python -m pip install -q "tflite-runtime==2.14.0" "numpy<2" "opencv-python-headless>=4.8,<4.12"
.venv-runtime-tflite214/bin/python -m pip install -q --no-deps -e .
[ -x .venv-runtime-tflite214-numpy2/bin/python ] || "$python" -m venv .venv-runtime-tflite214-numpy2
.venv-runtime-tflite214-numpy2/bin/python -m pip install -q "tflite-runtime==2.14.0" "numpy>=2" "opencv-python-headless>=4.12"
.venv-runtime-tflite214-numpy2/bin/python -m pip install -q --no-deps -e .
echo "make-runtime-envs: ready (.venv-runtime, .venv-runtime-tflite214, .venv-runtime-tflite214-numpy2)"
