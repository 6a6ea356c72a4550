#!/usr/bin/env bash
# Trains, converts and verifies the rock-paper-scissors model that ships inside edgecnn, then copies its uint8-input
# int8 TFLite to runtime/models/rps_int8.tflite with rps_int8.json (the commands below and the numbers they printed).
#
#   scripts/ship-rps-model.sh              # 40 cosine epochs on the two real-photo RPS sets (1,599 s of training
#                                          # on 2 cores with AVX-512)
#   EPOCHS=2 OUT=/tmp/rps scripts/ship-rps-model.sh      # a quick look; do not commit what that ships
#
# SKIP_TRAIN=1 reuses an already trained $OUT (e.g. one trained on a GPU machine with the same train command).
#
# Training data: real hands only (rps-real-pi: Pi camera, green screen; rps-real-kaust: webcam-like, ordinary
# backgrounds), with the real_hands colour jitter. rps-cgi-28px is left out of training: it is a 28x28 copy of the
# book's CGI hands, a 5x blur at 150x150 that no camera produces; mixed in (44% of the images), the same train command
# with a third --data reached only 74% held-out accuracy after 5 of 8 epochs. It is still measured below, held out.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGECNN=${EDGECNN:-.venv/bin/edgecnn}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data}
OUT=${OUT:-artifacts/rps_cnn}
# Longer runs kept helping the ordinary-background photos of rps-real-kaust, which the model underfits: its held-out
# fifth reached 61.50% after 8 + 6 epochs, 64.44% after 20, 72.46% after 20 + 10 (warm restart), 76.74% after 40
# (rps-real-pi validation 99.35-99.57% throughout).
EPOCHS=${EPOCHS:-40}
MORE_EPOCHS=${MORE_EPOCHS:-0}   # > 0: continue the trained run this many epochs (a warm restart of the cosine schedule)

train=("$EDGECNN" train rps_cnn --data "$DATA/rps-real-pi" --data "$DATA/rps-real-kaust"
       --epochs "$EPOCHS" --lr-schedule cosine --out "$OUT")
train_more=("$EDGECNN" train rps_cnn --data "$DATA/rps-real-pi" --data "$DATA/rps-real-kaust"
            --epochs "$MORE_EPOCHS" --lr-schedule cosine --learning-rate 0.001 --init-from "$OUT" --out "$OUT")
convert=("$EDGECNN" convert "$OUT" --formats tflite_float32 tflite_int8_uint8io)
# Held-out data per source: the contract's own split (rps-real-pi validation) and the CGI set's test split.
# rps-real-kaust has no split of its own; its hash-held-out fifth is measured by training (metrics.json).
verify_pi=("$EDGECNN" verify "$OUT" --json "$OUT/verify-rps-real-pi.json")
verify_cgi=("$EDGECNN" verify "$OUT" --data "$DATA/rps-cgi-28px" --json "$OUT/verify-rps-cgi-28px.json")

commands=()
if [[ "${SKIP_TRAIN:-0}" != 1 ]]; then "${train[@]}"; fi
commands+=(--command "${train[*]}")
if [[ "$MORE_EPOCHS" -gt 0 ]]; then "${train_more[@]}"; commands+=(--command "${train_more[*]}"); fi
"${convert[@]}"
"${verify_pi[@]}"
"${verify_cgi[@]}" || true  # CGI hands are not what the model is for: their drift is recorded, not fatal
"$PYTHON" scripts/ship_model.py "$OUT" tflite_int8_uint8io runtime/models/rps_int8.tflite \
  "${commands[@]}" --command "${convert[*]}" --command "${verify_pi[*]}" --command "${verify_cgi[*]}"
