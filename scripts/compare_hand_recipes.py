#!/usr/bin/env python3
"""Which training data makes the best hand-gesture classifier? Each recipe trained with three seeds, measured alike.

Usage: .venv/bin/python scripts/compare_hand_recipes.py [--model rps_hand_embedding] [--seeds 42 1 2]
       [--out docs/results/hand-recipes.md]

An experiment, not a product path (about 40 minutes on 2 cores once the hand cache is warm). Recipes, each a list of
``edgecnn train`` data arguments:

- ``plain``: rps-real-pi and rps-real-kaust hands; cats-vs-dogs photos as the "none" class;
- ``blur-hands``: plus motion-blurred copies of the hands (``edgecnn data motion-blur``);
- ``blur-both``: plus blurred copies of the hand-free photos too (what ``scripts/ship-hand-model.sh`` ships);
- ``blur-both+composites``: plus every hand placed at webcam scale into a real photo
  (``edgecnn data composite-hands``; green-screen hands keyed out).

Every model is measured by ``scripts/measure_hands.py``'s own sets and ``measure`` with ``--hand auto``: accuracy on
rps-real-pi validation, the held-out rps-real-kaust clips and the composited scenes, and claims on hand-free frames.
The held-out clips choose the recipe here, so they are a validation set for this choice, not an untouched test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure_hands  # noqa: E402  (the evaluation sets and the measuring loop, shared)

from edgecnn.runtime.atomic import write_text_atomic  # noqa: E402
from edgecnn.runtime.classifier import Classifier  # noqa: E402
from edgecnn.runtime.gesture import HandGestures  # noqa: E402

ROOT = measure_hands.ROOT
DATA = measure_hands.DATA
EDGECNN = str(ROOT / ".venv" / "bin" / "edgecnn")
AUG = ROOT / "artifacts" / "augmented"


def augmented_folders() -> None:
    for name in ("rps-real-pi", "rps-real-kaust", "cats-vs-dogs"):
        subprocess.run([EDGECNN, "data", "motion-blur", DATA / name, AUG / f"{name}-blurred"], check=True)
    for name in ("rps-real-pi", "rps-real-kaust"):
        subprocess.run([EDGECNN, "data", "composite-hands", DATA / name, DATA / "cats-vs-dogs",
                        AUG / f"{name}-composites"], check=True)


def recipes() -> dict[str, list]:
    plain = ["--data", DATA / "rps-real-pi", "--data", DATA / "rps-real-kaust", "--no-hand-data", DATA / "cats-vs-dogs"]
    blur_hands = plain + ["--data", AUG / "rps-real-pi-blurred", "--data", AUG / "rps-real-kaust-blurred"]
    blur_both = blur_hands + ["--no-hand-data", AUG / "cats-vs-dogs-blurred"]
    composites = blur_both + ["--data", AUG / "rps-real-pi-composites", "--data", AUG / "rps-real-kaust-composites"]
    return {"plain": plain, "blur-hands": blur_hands, "blur-both": blur_both, "blur-both+composites": composites}


def train(model: str, recipe: list, seed: int, out: Path) -> Path:
    subprocess.run([EDGECNN, "train", model, *recipe, "--seed", str(seed), "--out", out], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([EDGECNN, "convert", out, "--formats", "tflite_float32"], check=True, stdout=subprocess.DEVNULL)
    return out / "model_tflite_float32.tflite"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="rps_hand_embedding")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "hand-recipes.md")
    args = parser.parse_args()
    augmented_folders()
    kaust = measure_hands.hand_set("kaust", 200)
    rooms = measure_hands.backgrounds(200)
    sets = {"pi-validation": measure_hands.hand_set("pi-validation", 200), "kaust-held-out-clips": kaust,
            "scenes": measure_hands.scenes(kaust, rooms), "hand-free": [(room, -1) for room in rooms]}
    lines = [f"Printed by `.venv/bin/python scripts/compare_hand_recipes.py --model {args.model} --seeds "
             f"{' '.join(map(str, args.seeds))}`: `{args.model}` trained on each recipe once per seed, measured with "
             "`--hand auto` on the sets of [hands.md](hands.md) (accuracy counts 'no hand' as wrong; claims: "
             "hand-free frames given a class). The held-out clips choose the recipe here: for this choice they "
             "are a validation set.", "",
             "| recipe | seed | " + " | ".join(f"{name} ({len(items)})" for name, items in sets.items()) + " |",
             "|---|---|" + "---|" * len(sets)]
    for name, recipe in recipes().items():
        rows = []
        for seed in args.seeds:
            path = train(args.model, recipe, seed, ROOT / "artifacts" / "recipes" / f"{name}-s{seed}")
            gestures = HandGestures(Classifier.open(path, threads=1), "auto")
            rows.append([measure_hands.measure(gestures, items)[int(set_name == "hand-free")]
                         for set_name, items in sets.items()])
            lines.append(f"| {name} | {seed} | " + " | ".join(f"{v:.1%}" for v in rows[-1]) + " |")
            print(lines[-1], flush=True)
        lines.append(f"| **{name}** | mean | " + " | ".join(f"**{v:.1%}**" for v in np.mean(rows, axis=0)) + " |")
        print(lines[-1], flush=True)
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
