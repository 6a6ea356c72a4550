#!/usr/bin/env bash
# Rebuilds the default model of `edgecnn run`: the rock-paper-scissors classifier on MediaPipe's 21 hand landmarks
# (runtime/models/rps_landmarks.tflite + rps_landmarks.json), then the webcam table docs/results/hands.md.
#
#   scripts/ship-hand-model.sh   # 1,220 s here the first time (finding hands in ~7,600 photos, cached after), ~2 min later
#
# The hand models themselves come from scripts/fetch-hand-models.py (pinned mediapipe wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN=${EDGECNN:-.venv/bin/edgecnn}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data}
OUT=${OUT:-artifacts/rps_landmarks}

train=("$EDGECNN" train rps_landmarks --data "$DATA/rps-real-pi" --data "$DATA/rps-real-kaust"
       --no-hand-data "$DATA/cats-vs-dogs" --out "$OUT")
convert=("$EDGECNN" convert "$OUT" --formats tflite_float32)
measure=("$PYTHON" scripts/measure_hands.py --limit 200)
"${train[@]}"
"${convert[@]}"
cp "$OUT/model_tflite_float32.tflite" runtime/models/rps_landmarks.tflite
"$PYTHON" - "$OUT" "${train[*]}" "${convert[*]}" "${measure[*]}" <<'PY'
import hashlib, json, sys
from pathlib import Path
from edgecnn.runtime.atomic import write_text_atomic
out, commands = Path(sys.argv[1]), sys.argv[2:]
metrics = json.loads((out / "metrics.json").read_text())
contract = json.loads((out / "model.keras.contract.json").read_text())
model = Path("runtime/models/rps_landmarks.tflite")
record = {"commands": commands, "format": "tflite_float32",
          "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
          "training": {k: metrics.get(k) for k in ("epochs_run", "train_count", "eval_count", "eval_accuracy",
                                                   "eval_accuracy_by_source", "confusion_matrix", "labels",
                                                   "train_seconds")},
          "data": contract["extra"]["data"]}
write_text_atomic("runtime/models/rps_landmarks.json", json.dumps(record, indent=2) + "\n")
PY
"${measure[@]}"
