#!/usr/bin/env bash
# Rebuilds a shipped hand-gesture classifier (runtime/models/MODEL.tflite + MODEL.json), then the webcam table
# docs/results/hands.md:
#
#   scripts/ship-hand-model.sh rps_hand_embedding   # the default of `edgecnn run`: the landmark model's embedding + points
#   scripts/ship-hand-model.sh rps_landmarks        # the 21 points only
#   scripts/ship-hand-model.sh all                  # both, then the table once
#
# Training also reads motion-blurred copies of every hand photo and hand-free photo (`edgecnn data motion-blur`, into
# artifacts/augmented; a webcam mid-gesture or in a dim room smears the hand). The first run finds the hand in
# ~16,000 photos (and ~8,000 more enlarged to a camera frame) and caches it (~/.cache/edgecnn/hands); later runs
# only train. The hand models themselves come from scripts/fetch-hand-models.py
# (pinned mediapipe wheel) and scripts/expose-hand-embedding.py.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN=${EDGECNN:-.venv/bin/edgecnn}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data}
MODEL=${1:-rps_hand_embedding}
if [ "$MODEL" = all ]; then
  env -u OUT MEASURE=no "$0" rps_landmarks  # each model its own artifacts/MODEL
  exec env -u OUT "$0" rps_hand_embedding
fi
case "$MODEL" in rps_hand_embedding|rps_landmarks) ;; *) echo "ship-hand-model.sh: MODEL must be rps_hand_embedding, rps_landmarks or all, got '$MODEL'" >&2; exit 2;; esac
OUT=${OUT:-artifacts/$MODEL}
AUG=${AUG:-artifacts/augmented}

blurs=()
for set in rps-real-pi rps-real-kaust cats-vs-dogs; do
  blur=("$EDGECNN" data motion-blur "$DATA/$set" "$AUG/$set-blurred")
  "${blur[@]}"
  blurs+=("${blur[*]}")
done
train=("$EDGECNN" train "$MODEL" --data "$DATA/rps-real-pi" --data "$DATA/rps-real-kaust"
       --data "$AUG/rps-real-pi-blurred" --data "$AUG/rps-real-kaust-blurred"
       --no-hand-data "$DATA/cats-vs-dogs" --no-hand-data "$AUG/cats-vs-dogs-blurred" --out "$OUT")
convert=("$EDGECNN" convert "$OUT" --formats tflite_float32)
measure=("$PYTHON" scripts/measure_hands.py --limit 200)
"${train[@]}"
"${convert[@]}"
"$PYTHON" - "$MODEL" "$OUT" "${blurs[@]}" "${train[*]}" "${convert[*]}" "${measure[*]}" <<'PY'
import hashlib, json, sys
from pathlib import Path
from edgecnn.runtime.atomic import write_bytes_atomic, write_text_atomic
name, out, commands = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
metrics = json.loads((out / "metrics.json").read_text())
contract = json.loads((out / "model.keras.contract.json").read_text())
model = Path(f"runtime/models/{name}.tflite")
write_bytes_atomic(model, (out / "model_tflite_float32.tflite").read_bytes())
record = {"commands": commands, "format": "tflite_float32",
          "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
          "training": {k: metrics.get(k) for k in ("epochs_run", "train_count", "eval_count", "eval_accuracy",
                                                   "eval_accuracy_by_source", "confusion_matrix", "labels",
                                                   "train_seconds")},
          "data": contract["extra"]["data"]}
write_text_atomic(f"runtime/models/{name}.json", json.dumps(record, indent=2) + "\n")
PY
if [ "${MEASURE:-yes}" != no ]; then "${measure[@]}"; fi
