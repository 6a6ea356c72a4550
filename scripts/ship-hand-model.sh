#!/usr/bin/env bash
# Rebuilds a shipped hand-gesture classifier (runtime/models/MODEL.tflite + MODEL.json), then the webcam table
# docs/results/hands.md:
#
#   scripts/ship-hand-model.sh rps_hand_embedding   # the default of `edgecnn run`: the landmark model's embedding + points
#   scripts/ship-hand-model.sh rps_landmarks        # the 21 points only
#   scripts/ship-hand-model.sh all                  # both, then the table once
#
# Data: the gestures of rps-real-pi, rps-real-kaust, rps-webcam-subhih and gestures-room-emrecandir9; their
# other_gesture and no_gesture hands are the class 'no_gesture'; the hands the finder imagines in cats-vs-dogs photos
# are the class 'none'. Held out: rps-real-pi's and rps-webcam-subhih's validation splits (subhih's by recording
# session), rps-real-kaust's held-out clips; gestures-room-emrecandir9 (two people in one room, no person or clip
# in its file names) is trained on whole (--train-only-data) and measured by leaving it out: LOSO=yes (the default)
# also trains MODEL without rps-webcam-subhih and without gestures-room-emrecandir9 (artifacts/loso/) for the
# leave-one-source-out rows of the table (with `all`, for rps_hand_embedding only; LOSO_LANDMARKS=yes for both;
# LOSO=no skips them, LOSO=only trains just them, e.g. beside a LOSO=no run on a machine with cores to spare;
# LOSO_SETS names which sets to leave out, one run each).
#
# Training also reads motion-blurred copies of every hand photo and hand-free photo (`edgecnn data motion-blur`, into
# artifacts/augmented; a webcam mid-gesture or in a dim room smears the hand). The first run finds the hand in
# ~21,000 photos and caches it (~/.cache/edgecnn/hands); later runs
# only train. The hand models themselves come from scripts/fetch-hand-models.py
# (pinned mediapipe wheel) and scripts/expose-hand-embedding.py.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN=${EDGECNN:-.venv/bin/edgecnn}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data}
MODEL=${1:-rps_hand_embedding}
if [ "$MODEL" = all ]; then
  env -u OUT MEASURE=no LOSO="${LOSO_LANDMARKS:-no}" "$0" rps_landmarks  # each model its own artifacts/MODEL
  exec env -u OUT "$0" rps_hand_embedding
fi
case "$MODEL" in rps_hand_embedding|rps_landmarks) ;; *) echo "ship-hand-model.sh: MODEL must be rps_hand_embedding, rps_landmarks or all, got '$MODEL'" >&2; exit 2;; esac
OUT=${OUT:-artifacts/$MODEL}
AUG=${AUG:-artifacts/augmented}
HANDS=(rps-real-pi rps-real-kaust rps-webcam-subhih gestures-room-emrecandir9)
WHOLE=gestures-room-emrecandir9  # no held-out part of its own: trained on whole, measured by leaving it out

blurs=()
for set in "${HANDS[@]}" cats-vs-dogs; do
  blur=("$EDGECNN" data motion-blur "$DATA/$set" "$AUG/$set-blurred")
  [ "${BLUR:-yes}" = no ] || "${blur[@]}"  # BLUR=no: the copies are there already (a second model, same run)
  blurs+=("${blur[*]}")
done
FRAMES=${FRAMES:-artifacts/hand-free-frames}
"$PYTHON" - "$DATA/cats-vs-dogs" "$FRAMES" <<'PY'
import sys
from pathlib import Path
data, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
validation = sorted(data.glob("validation/*/*.jpg"))
for split, files in (("train", sorted(data.glob("train/*/*.jpg"))[::7]),
                     ("validation", validation[:: max(1, len(validation) // 200)][:200])):
    for cls in ("cats", "dogs"):
        (out / split / cls).mkdir(parents=True, exist_ok=True)
    for path in files:
        link = out / split / path.parent.name / path.name
        if not link.is_symlink():  # made by an earlier run (or one beside this): left as it is
            link.symlink_to(path)
PY
# the training command without the sets named in $1 (space-separated), into $2
train_without() {
  local args=("$EDGECNN" train "$MODEL") set
  for set in "${HANDS[@]}"; do
    case " $1 " in *" $set "*) continue;; esac
    args+=(--data "$DATA/$set" --data "$AUG/$set-blurred")
    [ "$set" = "$WHOLE" ] && args+=(--train-only-data "$DATA/$set" --train-only-data "$AUG/$set-blurred")
  done
  # hand-free photos as they are, and one training photo in seven (links: $FRAMES) enlarged to a camera frame, where
  # the finder searches tiles and windows (~0.5 s of CPU a frame: all 4,000 took over an hour on a shared 2-core
  # machine); its validation/ links are the 200 hand-free frames measure_hands.py scores
  args+=(--no-hand-stills "$DATA/cats-vs-dogs" --no-hand-stills "$AUG/cats-vs-dogs-blurred" --no-hand-frames "$FRAMES")
  args+=(--out "$2")
  printf '%s\n' "${args[@]}"
}
mapfile -t train < <(train_without "" "$OUT")
convert=("$EDGECNN" convert "$OUT" --formats tflite_float32)
if [ "${LOSO:-yes}" != only ]; then  # LOSO=only: just the leave-one-source-out models (run beside a ship run)
  "${train[@]}"
  "${convert[@]}"
fi
loso=()
if [ "${LOSO:-yes}" != no ]; then
  for set in ${LOSO_SETS:-rps-webcam-subhih gestures-room-emrecandir9}; do
    mapfile -t held < <(train_without "$set" "artifacts/loso/$MODEL-without-$set")
    "${held[@]}"
    "$EDGECNN" convert "artifacts/loso/$MODEL-without-$set" --formats tflite_float32
    loso+=("${held[*]}")
  done
fi
measure=("$PYTHON" scripts/measure_hands.py --limit 200)
for model in rps_landmarks rps_hand_embedding; do
  for set in rps-webcam-subhih gestures-room-emrecandir9; do
    file="artifacts/loso/$model-without-$set/model_tflite_float32.tflite"
    [ -f "$file" ] && measure+=(--sets-model "$model without $set=$file")
  done
done
[ "${LOSO:-yes}" = only ] && exit 0
"$PYTHON" - "$MODEL" "$OUT" "$DATA" "${blurs[@]}" "${train[*]}" "${convert[*]}" "${loso[@]}" "${measure[*]}" <<'PY'
import hashlib, json, sys
from pathlib import Path
from edgecnn.data.public_sets import PUBLIC_SETS
from edgecnn.runtime.atomic import write_bytes_atomic, write_text_atomic
name, out, data, commands = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]
metrics = json.loads((out / "metrics.json").read_text())
contract = json.loads((out / "model.keras.contract.json").read_text())
model = Path(f"runtime/models/{name}.tflite")
write_bytes_atomic(model, (out / "model_tflite_float32.tflite").read_bytes())
described = contract["extra"]["data"]
used = {Path(root).name.removesuffix("-blurred") for root in described["roots"] + described.get("no_hand_roots", [])}
whole = {Path(root).name.removesuffix("-blurred") for root in described.get("train_only_roots", [])}
sources = [{"set": s, "licence": PUBLIC_SETS[s].licence,
            "source": [f"https://github.com/{src.repo} @ {src.commit} ({src.folder}/)" for src in PUBLIC_SETS[s].sources],
            "manifest": f"{data / s / 'MANIFEST.md'}",
            "use": "trained on whole (no held-out part)" if s in whole else "hand-free photos: the 'none' class"
            if s == "cats-vs-dogs" else "trained on its training part; its held-out part measures the model"}
           for s in sorted(used) if s in PUBLIC_SETS]
record = {"commands": commands, "format": "tflite_float32",
          "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
          "labels": contract["labels"], "hand_crop": contract["hand_crop"],
          "sources": sources,
          "training": {k: metrics.get(k) for k in ("epochs_run", "train_count", "eval_count", "eval_accuracy",
                                                   "eval_accuracy_by_source", "confusion_matrix", "labels",
                                                   "train_seconds")},
          "data": described}
write_text_atomic(f"runtime/models/{name}.json", json.dumps(record, indent=2) + "\n")
PY
if [ "${MEASURE:-yes}" != no ]; then "${measure[@]}"; fi
