#!/usr/bin/env bash
# Creates .venv-tflite214: Python 3.11 with tflite-runtime 2.14 and numpy<2, the interpreter many Raspberry Pis still
# run. 'edgecnn verify' uses it for the compatibility matrix (--tflite214-python .venv-tflite214/bin/python or
# EDGECNN_TFLITE214_PYTHON). It lives apart from .venv because it needs numpy<2 and TF 2.21 needs numpy>=2.
# Usage: scripts/make-tflite214-env.sh [PYTHON]   (default: python3.11, then python3 if it is 3.11)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-}"
if [ -z "$python" ]; then
  if command -v python3.11 >/dev/null; then python=python3.11; else python=python3; fi
fi
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$version" in
  3.9|3.10|3.11) ;;
  *) echo "make-tflite214-env: $python is Python $version; tflite-runtime 2.14 has wheels for 3.9-3.11 only" >&2; exit 2;;
esac
[ -x .venv-tflite214/bin/python ] || "$python" -m venv .venv-tflite214
.venv-tflite214/bin/python -m pip install -q "tflite-runtime==2.14.0" "numpy<2"
.venv-tflite214/bin/python -c 'import tflite_runtime, numpy; print("tflite-runtime", tflite_runtime.__version__, "numpy", numpy.__version__)'
echo "make-tflite214-env: ready; run: edgecnn verify ARTIFACT --tflite214-python $(pwd)/.venv-tflite214/bin/python"
