#!/usr/bin/env python3
"""Which features of the hand landmark model should a gesture classifier read? Landmarks vs the model's own embedding.

Usage: .venv/bin/python scripts/compare_hand_features.py [--seeds 3] [--epochs 40]

An experiment, not a product path: it prints the table in docs/results/hand-features.md. Every image of
rps-real-kaust (whole source clips held out, :func:`edgecnn.data.splits.held_out_clip`), rps-real-pi (own
validation split) and cats-vs-dogs (hand-free photos, own validation split) goes through the runtime's
:class:`~edgecnn.runtime.hands.HandFinder` once. For each hand found it keeps

- ``landmarks``: the 63 features ``rps_landmarks`` reads (:func:`~edgecnn.runtime.hand_features.landmark_features`);
- ``embedding``: the landmark model's 672-value global-average-pooled feature vector (the layer its landmark,
  presence and handedness heads read), taken from the same interpreter with ``experimental_preserve_all_tensors``;
- ``both``: the two side by side.

The same MLP (noise, 128 units, dropout, 4-way softmax with a "none" class from the hand-free photos, mirror images
added) is trained on the training parts and scored on the held-out ones, once per seed: accuracy counts an image
with no hand found, or called "none", as wrong; claims are the hand-free validation photos given a gesture.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GESTURES = ("paper", "rock", "scissors")
EMBEDDING_TENSOR = "global_average_pooling2d/Mean"


def embedding_reader():
    """``crop (224, 224, 3) uint8 -> (672,) float32`` from the shipped landmark model's pooled features."""
    from ai_edge_litert.interpreter import Interpreter

    from edgecnn.runtime.hands import LANDMARK_MODEL

    interpreter = Interpreter(str(LANDMARK_MODEL), num_threads=1, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    tensor = next(d["index"] for d in interpreter.get_tensor_details() if d["name"].endswith(EMBEDDING_TENSOR))
    image = interpreter.get_input_details()[0]["index"]

    def read(crop: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(image, (crop.astype(np.float32) * np.float32(1 / 255.0))[None])
        interpreter.invoke()
        return interpreter.get_tensor(tensor).ravel().copy()

    return read


def scan(parts: dict[str, list[tuple[Path, int]]]) -> dict[str, list]:
    """``{part: [(label, (landmarks 63, mirrored, embedding 672, mirrored) or None when no hand) per image]}``."""
    from edgecnn.runtime.hand_features import landmark_features
    from edgecnn.runtime.hands import LANDMARK_INPUT, HandFinder
    from edgecnn.runtime.images import read_image_rgb

    finder, embed = HandFinder.open(threads=1), embedding_reader()
    found = {}
    for part, files in parts.items():
        rows = []
        for path, label in files:
            image = read_image_rgb(path)
            hand = finder.find(image, track=False)
            if hand is None:
                rows.append((label, None))
                continue
            crop = hand.region.crop(image, LANDMARK_INPUT)
            points = landmark_features(hand.landmarks)
            mirrored = points.copy()
            mirrored[0::3] *= -1.0
            rows.append((label, (points, mirrored, embed(crop), embed(np.ascontiguousarray(crop[:, ::-1])))))
        found[part] = rows
        print(f"{part}: {len(files)} images, hand found in {sum(r[1] is not None for r in rows)}", flush=True)
    return found


def files() -> dict[str, list[tuple[Path, int]]]:
    from edgecnn.data.splits import held_out_clip

    def listed(folder: Path, keep=lambda p: True, label=None):
        return [(p, GESTURES.index(p.parent.name) + 1 if label is None else label)
                for p in sorted(folder.glob("*/*.jpg")) if keep(p)]

    kaust = DATA / "rps-real-kaust" / "train"
    return {"kaust training clips": listed(kaust, lambda p: not held_out_clip(p.name)),
            "kaust held-out clips": listed(kaust, lambda p: held_out_clip(p.name)),
            "pi train": listed(DATA / "rps-real-pi" / "train"),
            "pi validation": listed(DATA / "rps-real-pi" / "validation"),
            "hand-free train": listed(DATA / "cats-vs-dogs" / "train", label=0),
            "hand-free validation": listed(DATA / "cats-vs-dogs" / "validation", label=0)}


def features(rows, kind: str, mirrored: bool) -> np.ndarray:
    picks = {"landmarks": (0,), "embedding": (2,), "both": (2, 0)}[kind]
    return np.stack([np.concatenate([f[i + int(mirrored)] for i in picks]) for _, f in rows])


def score(found: dict, kind: str, seed: int, epochs: int) -> dict[str, float]:
    import keras
    from keras import layers

    train = [r for part in ("kaust training clips", "pi train", "hand-free train") for r in found[part] if r[1]]
    x = np.concatenate([features(train, kind, False), features(train, kind, True)])
    y = np.array([label for label, _ in train] * 2)
    mean, std = x.mean(0), x.std(0) + 1e-3
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((x.shape[1],)), layers.GaussianNoise(0.1),
                              layers.Dense(128, activation="relu"), layers.Dropout(0.3),
                              layers.Dense(4, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit((x - mean) / std, y, epochs=epochs, batch_size=64, verbose=0)
    result = {}
    for part in ("kaust held-out clips", "pi validation", "hand-free validation"):
        rows = [r for r in found[part] if r[1]]
        predicted = model.predict((features(rows, kind, False) - mean) / std, verbose=0).argmax(1)
        truth = np.array([label for label, _ in rows])
        total = len(found[part])
        hits = (predicted != 0).sum() if part.startswith("hand-free") else (predicted == truth).sum()
        result[part] = hits / total
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="trainings per feature kind")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    if not (DATA / "rps-real-kaust").is_dir():
        print(f"compare_hand_features: {DATA} has no rps-real-kaust (see ../shared/data/README.md)", file=sys.stderr)
        return 1
    found = scan(files())
    print("\n| features | kaust held-out clips accuracy | pi validation accuracy | hand-free validation claims |")
    print("|---|---|---|---|")
    for kind in ("landmarks", "embedding", "both"):
        runs = [score(found, kind, seed, args.epochs) for seed in range(args.seeds)]
        cells = [" / ".join(f"{run[part]:.1%}" for run in runs) for part in runs[0]]
        print(f"| {kind} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n(one figure per seed 0..{args.seeds - 1}; {args.epochs} epochs each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
