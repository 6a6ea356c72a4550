"""On-device acceptance: verify's parity and a benchmark of every candidate export, run ON the device.

The device has no TensorFlow, so the bundle carries what verify would compute on the build machine (see
:mod:`edgecnn.devices.reference`): a stratified sample of held-out images as the model takes them
(``accept/pixels.npy``), their true labels, and the Keras model's probabilities on them (``accept/reference.npy``),
with each candidate's tolerance from the convert stage's format registry (``accept.json``).
``python -m edgecnn.devices.accept BUNDLE_DIR`` then, with the device's own interpreter:

1. runs each candidate on the images and compares with the Keras probabilities (``edgecnn.convert.parity``: max abs
   diff, top-1 agreement, accuracy drop, against the format's tolerance);
2. benchmarks each one in a fresh runtime-only process (``edgecnn.bench_worker``: p50/p90, FPS, peak RSS, cold start),
   reading the temperature and throttling flags before and after;
3. picks the fastest candidate that passes, writes ``selected-model`` (which ``run.sh`` runs) and
   ``accept-report.json``, prints the report as one JSON line, and exits 1 when none passed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ACCEPT_JSON = "accept.json"
REPORT = "accept-report.json"
SELECTED = "selected-model"


def _conditions() -> dict:
    from edgecnn.devices import doctor

    power = doctor.check_power()[0].data or {}
    return {"thermal_c": doctor.thermal_zones(), "throttled": power.get("throttled"),
            "throttle_reasons": power.get("reasons")}


def parity_of(bundle_dir: Path, candidate: dict, spec: dict, threads: int) -> dict:
    """The candidate's parity with the bundle's Keras reference; ``reasons`` empty when it passes."""
    from edgecnn.convert.formats import Tolerance
    from edgecnn.convert.parity import compare
    from edgecnn.errors import EdgecnnError
    from edgecnn.runtime.classifier import Classifier

    pixels, truth = np.load(bundle_dir / spec["pixels"]), np.load(bundle_dir / spec["labels"])
    reference = np.load(bundle_dir / spec["reference"])
    try:
        classifier = Classifier.open(bundle_dir / candidate["model"], threads=threads)
        probabilities = np.concatenate([classifier.predict(pixels[i:i + 32]) for i in range(0, len(pixels), 32)])
    except EdgecnnError as err:
        return {"backend": None, "reasons": [f"does not run here: {err}"]}
    if probabilities.shape != reference.shape:
        return {"backend": classifier.backend.info.name,
                "reasons": [f"output shape {probabilities.shape} differs from Keras's {reference.shape}"]}
    parity = compare(reference, probabilities, truth, tuple(spec["labels_order"]), Tolerance(**candidate["tolerance"]))
    return {"backend": classifier.backend.info.name, "max_abs_diff": parity.max_abs_diff,
            "agreement": parity.agreement, "accuracy": parity.accuracy, "keras_accuracy": parity.keras_accuracy,
            "reasons": parity.reasons}


def bench_of(bundle_dir: Path, candidate: dict, spec: dict, backend: str, threads: int, runs: int) -> dict:
    """One fresh-process benchmark (what ``edgecnn run`` pays on this device)."""
    job = {"model": str(bundle_dir / candidate["model"]), "backend": backend, "threads": threads, "runs": runs,
           "warmup": max(1, runs // 10)}
    done = subprocess.run([sys.executable, "-m", "edgecnn.bench_worker", json.dumps(job)], capture_output=True,
                          text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"benchmark process failed (exit {done.returncode}): "
                         f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}"}
    result = json.loads(lines[-1])
    keys = ("latency_p50_ms", "latency_p90_ms", "fps", "peak_rss_mb", "cold_start_ms", "backend_version")
    return {"error": result["error"]} if "error" in result else {k: result[k] for k in keys}


def accept(bundle_dir: Path, runs: int = 50) -> dict:
    """Checks and benchmarks every candidate; the report (``passed``: whether one was selected)."""
    from edgecnn.runtime.atomic import write_text_atomic

    spec = json.loads((bundle_dir / ACCEPT_JSON).read_text())
    threads = spec["threads"]
    rows = []
    before = _conditions()
    for candidate in spec["candidates"]:
        row = {"format": candidate["format"], "model": candidate["model"], "tolerance": candidate["tolerance"]}
        row.update(parity_of(bundle_dir, candidate, spec, threads))
        if row["backend"] is not None:
            row.update(bench_of(bundle_dir, candidate, spec, row["backend"], threads, runs))
        row["passed"] = not row["reasons"] and "error" not in row
        rows.append(row)
    passing = [r for r in rows if r["passed"]]
    chosen = min(passing, key=lambda r: r["latency_p50_ms"]) if passing else None
    report = {"images": spec["images"], "per_class": spec["per_class"], "source": spec["source"],
              "threads": threads, "runs": runs, "candidates": rows, "selected": chosen and chosen["model"],
              "passed": chosen is not None, "conditions_before": before, "conditions_after": _conditions()}
    write_text_atomic(bundle_dir / REPORT, json.dumps(report, indent=1) + "\n")
    if chosen is not None:
        write_text_atomic(bundle_dir / SELECTED, chosen["model"] + "\n")
    return report


def format_table(report: dict) -> str:
    """The device report as a table: one row per candidate export."""
    lines = [f"on-device acceptance: {report['images']} held-out images ({report['source']}), "
             f"{report['threads']} threads, {report['runs']} timed runs",
             f"  {'export':22} {'backend':10} {'max diff':>9} {'agree':>6} {'p50 ms':>7} {'p90 ms':>7} {'fps':>6} "
             f"{'RSS MB':>6}  result"]
    def num(r, key, spec):
        return format(r[key], spec) if isinstance(r.get(key), (int, float)) else "-"

    for r in report["candidates"]:
        verdict = ("SELECTED" if r["model"] == report["selected"] else "pass") if r["passed"] else \
            "FAIL: " + "; ".join(r["reasons"] + ([r["error"]] if r.get("error") else []))
        lines.append(f"  {r['format']:22} {r.get('backend') or '-':10} {num(r, 'max_abs_diff', '9.2e')} "
                     f"{num(r, 'agreement', '6.1%')} {num(r, 'latency_p50_ms', '7.2f')} "
                     f"{num(r, 'latency_p90_ms', '7.2f')} "
                     f"{num(r, 'fps', '6.0f')} {num(r, 'peak_rss_mb', '6.0f')}  {verdict}")
    for when in ("before", "after"):
        c = report[f"conditions_{when}"]
        temps = ", ".join(f"{k} {v:.1f} C" for k, v in c["thermal_c"].items()) or "not reported"
        lines.append(f"  {when}: temperature {temps}; throttled {c['throttled'] or 'not reported'}"
                     + (f" ({', '.join(c['throttle_reasons'])})" if c.get("throttle_reasons") else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgecnn.devices.accept",
                                     description="Runs a bundle's parity check and benchmark on this device.")
    parser.add_argument("bundle_dir", type=Path, help="the installed bundle folder (with accept.json)")
    parser.add_argument("--runs", type=int, default=50, help="timed invocations per export")
    args = parser.parse_args(argv)
    report = accept(args.bundle_dir, args.runs)
    print(json.dumps(report))
    print(format_table(report), file=sys.stderr)
    if not report["passed"]:
        failed = "; ".join(f"{r['format']}: {', '.join(r['reasons'] or [r.get('error', '')])}"
                           for r in report["candidates"])
        print(f"edgecnn accept: error: no export passed on this device: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
