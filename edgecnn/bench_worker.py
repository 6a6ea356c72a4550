"""One benchmark measurement in a fresh, runtime-only process: ``python -m edgecnn.bench_worker SPEC_JSON``.

A fresh process is what a device sees: cold start is import + load, and peak RSS is the runtime's alone. This module
imports only :mod:`edgecnn.runtime` (never TensorFlow) and prints one JSON object on stdout.

Peak RSS is the kernel's ``VmHWM`` of this process (``/proc/self/status``), not ``getrusage``'s ``ru_maxrss``: Linux
keeps ``ru_maxrss`` across fork and exec, so a worker started by a parent that holds TensorFlow would report the
parent's peak (1.3 GB) instead of its own (~100 MB).
"""

from __future__ import annotations

import json
import resource
import sys
import time


def measure(spec: dict) -> dict:
    started = time.perf_counter()
    import numpy as np

    from edgecnn.runtime.backends import open_backend
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.errors import ContractError
    from edgecnn.runtime.model_file import read_contract

    backend = open_backend(spec["model"], spec["backend"], spec["threads"])
    try:
        classifier = Classifier(backend, read_contract(spec["model"]))
    except ContractError:
        classifier = None  # a model that is not ours: latency on random inputs, accuracy unknown
    cold_start_ms = (time.perf_counter() - started) * 1000.0
    rng = np.random.default_rng(0)
    if spec.get("pixels") and classifier is not None:
        pixels = np.load(spec["pixels"])
        labels = np.load(spec["labels"])
        run_one = classifier.predict
        samples = [pixels[i:i + 1] for i in range(len(pixels))]
    else:
        pixels = labels = None
        shape = [1 if d is None else d for d in backend.input.shape]
        dtype = backend.input.dtype
        random = (rng.integers(0, 256, shape) if dtype.kind in "iu" else rng.random(shape) * 255)
        sample = random.astype(dtype)
        run_one = backend.invoke
        samples = [sample]
    for i in range(spec["warmup"]):
        run_one(samples[i % len(samples)])
    times = []
    for i in range(spec["runs"]):
        t0 = time.perf_counter()
        run_one(samples[i % len(samples)])
        times.append((time.perf_counter() - t0) * 1000.0)
    result = {
        "backend": backend.info.name, "backend_version": backend.info.version, "threads": backend.info.threads,
        "cold_start_ms": cold_start_ms, "latency_p50_ms": float(np.percentile(times, 50)),
        "latency_p90_ms": float(np.percentile(times, 90)), "runs": len(times),
        "has_contract": classifier is not None, "accuracy": None, "predictions": None,
    }
    result["fps"] = 1000.0 / result["latency_p50_ms"]
    if pixels is not None:
        probabilities = np.concatenate([classifier.predict(pixels[i:i + 32]) for i in range(0, len(pixels), 32)])
        predicted = np.argmax(probabilities, axis=1)
        result["accuracy"] = float(np.mean(predicted == labels))
        result["predictions"] = predicted.tolist()
    result["peak_rss_mb"] = peak_rss_mb()
    result["tensorflow_loaded"] = any(m == "tensorflow" or m.startswith("tensorflow.") for m in sys.modules)
    return result


def peak_rss_mb() -> float:
    """This process's own peak resident set size in MB (10^6 bytes, like the file sizes beside it).

    ``VmHWM`` where there is /proc; elsewhere ``ru_maxrss`` (bytes on macOS, KiB on the BSDs).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6  # the kernel's "kB" are KiB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak if sys.platform == "darwin" else peak * 1024) / 1e6


def main() -> int:
    from edgecnn.errors import EdgecnnError

    try:
        print(json.dumps(measure(json.loads(sys.argv[1]))))
    except EdgecnnError as err:
        print(json.dumps({"error": str(err)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
