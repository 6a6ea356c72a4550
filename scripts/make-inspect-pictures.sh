#!/usr/bin/env bash
# Regenerates the README pictures of 'edgecnn inspect' (docs/images/inspect-*.png) from the real data:
#   1. the vertical-line filter and 2x2 max pooling on a horses-or-humans photo (CC BY 2.0, ../shared/data);
#   2. the feature maps of fashion_cnn, trained 2 epochs on 1,000 images per class, for one Fashion-MNIST test image
#      (Debian's dataset-fashion-mnist), with the class probabilities;
#   3. the parameter walk-through of fashion_cnn, as text (docs/images/inspect-summary.txt).
# Usage: scripts/make-inspect-pictures.sh   (about 2 minutes on 2 cores; writes only under docs/images and a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
edgecnn=.venv/bin/edgecnn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TF_CPP_MIN_LOG_LEVEL=2

photo=../shared/data/horses-or-humans/validation/horses/horse01-1.jpg
$edgecnn inspect filters "$photo" --kernel vertical --out docs/images/inspect-filters.png

$edgecnn train fashion_cnn --epochs 2 --limit 1000 --seed 8 --out "$work/fashion_cnn" >/dev/null
# The first Fashion-MNIST test image (an ankle boot), written as a PNG so it goes through the runtime's decoder.
.venv/bin/python - "$work/boot.png" <<'PY'
import sys
import cv2
from edgecnn.data.idx import load_fashion_split
images, labels = load_fashion_split(__import__("pathlib").Path("/usr/share/datasets/fashion-mnist"), "test")
cv2.imwrite(sys.argv[1], images[0])
PY
# Run from the temp folder so the picture's captions show short relative paths, not the temp folder's name.
mkdir -p "$work/artifacts" && mv "$work/fashion_cnn" "$work/artifacts/fashion_cnn"
repo=$(pwd)
(cd "$work" && "$repo/$edgecnn" inspect artifacts/fashion_cnn boot.png --out "$repo/docs/images/inspect-feature-maps.png")
(cd "$work" && "$repo/$edgecnn" inspect summary artifacts/fashion_cnn) > docs/images/inspect-summary.txt
ls -l docs/images/inspect-*
