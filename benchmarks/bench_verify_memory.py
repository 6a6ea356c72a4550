"""Where ``edgecnn verify``'s memory goes: peak RSS of each part, each in a fresh process.

    .venv/bin/python benchmarks/bench_verify_memory.py artifacts/fashion_cnn [--batch 256]

For the artifact's held-out images (all of them): loading them, TensorFlow + the Keras model + its predictions, and
every export present in its primary interpreter fed all images in one call and in batches of ``--batch`` (what verify
does since it streams). The whole command's peak is ``/usr/bin/time -v edgecnn verify ART`` (benchmarks/README.md).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

PART = r'''
import resource, sys
from pathlib import Path
import numpy as np
from edgecnn.convert.runner import open_artifact
from edgecnn.convert.verify import VerifyOptions, _eval_images
artifact = open_artifact(sys.argv[1])
images = _eval_images(artifact.contract, VerifyOptions())
part, batch = sys.argv[2], int(sys.argv[3]) or len(images.images)
if part == "keras":
    from edgecnn.convert.verify import keras_probabilities
    keras_probabilities(artifact.model_path, artifact.contract, images.images)
elif part != "images":
    from edgecnn.convert.matrix import PRIMARY
    from edgecnn.runtime.classifier import Classifier
    path = artifact.root / part
    classifier = Classifier.open(path, backend=PRIMARY[path.suffix], threads=2)
    for start in range(0, len(images.images), batch):
        classifier.predict(images.images[start:start + batch])
print(len(images.images), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
'''


def measure(artifact: str, part: str, batch: int) -> tuple[int, float]:
    result = subprocess.run([sys.executable, "-c", PART, artifact, part, str(batch)], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"{part}: {result.stderr.strip().splitlines()[-1]}")
    count, peak = result.stdout.split()
    return int(count), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact")
    parser.add_argument("--batch", type=int, default=256, help="verify's batch size")
    args = parser.parse_args()
    exports = sorted(p.name for p in Path(args.artifact).glob("model_*") if p.suffix in (".tflite", ".onnx"))
    count, peak = measure(args.artifact, "images", 0)
    print(f"| part ({count} images) | peak RSS, all images at once | peak RSS, batches of {args.batch} |")
    print("|---|---|---|")
    print(f"| the images, decoded at model size | {peak:,.0f} MB | - |")
    print(f"| TensorFlow + Keras model + predictions (batch 256) | {measure(args.artifact, 'keras', 0)[1]:,.0f} MB "
          f"| - |")
    for name in exports:
        whole, batched = measure(args.artifact, name, 0)[1], measure(args.artifact, name, args.batch)[1]
        print(f"| {name} | {whole:,.0f} MB | {batched:,.0f} MB |")


if __name__ == "__main__":
    main()
