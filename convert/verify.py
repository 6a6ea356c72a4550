"""``edgecnn verify``: the Keras model against every export, on the same real images, through the runtime.

Each export is run by :class:`edgecnn.runtime.classifier.Classifier` - the runtime's own contract reading,
preprocessing and interpreter - so what passes here is what runs on the device. Per format: the contract read back from
the file, input/output names and shapes, probability differences, top-1 agreement and accuracy against the format's
tolerance; then every export x every interpreter (compatibility matrix). Every failure is collected;
:meth:`VerifyReport.raise_for_failures` raises one :class:`ParityError` listing them all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from edgecnn.convert.errors import ParityError
from edgecnn.convert.formats import ExportFormat, Tolerance, format_names, get_format
from edgecnn.convert.matrix import INTERPRETERS, PRIMARY, TFLITE214, fill_tflite214
from edgecnn.convert.parity import Parity, compare, worst_classes
from edgecnn.convert.repair import RepairOptions
from edgecnn.convert.runner import load_keras_model, open_artifact, sha256_of
from edgecnn.data.description import held_out_selection
from edgecnn.data.loader import LabelledImages, load_labelled
from edgecnn.errors import EdgecnnError
from edgecnn.runtime.contract import ModelContract


@dataclass(frozen=True)
class VerifyOptions:
    """What ``edgecnn verify`` checks and on which images."""

    data: Path | None = None
    """Folder of class folders (or idx files); None: the evaluation split the contract names."""
    limit: int | None = None
    """At most this many images per class (sampled, seeded); None: every image."""
    formats: tuple[str, ...] | None = None
    """Formats to check; None: every registered format whose file exists beside model.keras."""
    min_agreement: float | None = None
    """Overrides every format's minimum top-1 agreement (fraction)."""
    max_accuracy_drop: float | None = None
    """Overrides every format's maximum accuracy drop (percentage points)."""
    max_abs_diff: float | None = None
    """Overrides the maximum abs diff of the formats that have one (the float formats)."""
    tflite214_python: Path | None = None
    """Python of the tflite-runtime 2.14 environment; None: $EDGECNN_TFLITE214_PYTHON or ./.venv-tflite214."""
    repair: RepairOptions | None = field(default_factory=RepairOptions)
    """How to repair a calibrated export that fails its tolerance (the format's remedies); None: ``--no-repair``."""
    gallery: Path | None = None
    """Folder for the disagreement gallery (``index.html``: every image an export and Keras disagree on); None: none.
    Image models only (a hand-landmark model's inputs are points, not pictures)."""


@dataclass
class FormatReport:
    """Everything verify found out about one export."""

    format: str
    file: str
    size_bytes: int = 0
    tolerance: Tolerance | None = None
    io: dict[str, str] = field(default_factory=dict)
    """``{"input": "name (N, H, W, C) dtype", "output": ...}`` as the interpreter declares them."""
    parity: Parity | None = None
    matrix: dict[str, str] = field(default_factory=dict)
    """Interpreter -> ``"ok"``, ``"FAIL: why"``, ``"n/a"`` or ``"not checked (why)"``."""
    reasons: list[str] = field(default_factory=list)
    """Why this export fails; empty when it passes."""
    diagnosis: list[str] = field(default_factory=list)
    """For failing quantized exports: the classes that lost most, calibration coverage."""
    seconds: float = 0.0
    """Wall time of loading and running it in its primary interpreter."""
    repair: dict | None = None
    """When it failed and was repaired (or repair was tried): ``remedy`` kept (None: none passed), ``before``
    (the failing export's figures) and ``attempts`` (each remedy's figures and size)."""

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass
class VerifyReport:
    artifact: str
    data_source: str
    images: int
    keras_accuracy: float
    formats: list[FormatReport]
    skipped_images: list[str] = field(default_factory=list)
    interpreter_versions: dict[str, str] = field(default_factory=dict)
    value_range_problem: str | None = None
    """Set when the Keras model loses most of its skill under the contract's value range (convert/value_range.py)."""
    gallery: dict[str, int] | None = None
    """With ``--gallery``: images disagreeing with Keras per format (the page is ``gallery_path``)."""
    gallery_path: str | None = None
    gallery_images: list[str] = field(default_factory=list)
    """The gallery's first dozen images (paths relative to its folder), for reports."""

    @property
    def failures(self) -> dict[str, list[str]]:
        found = {report.format: report.reasons for report in self.formats if report.reasons}
        if self.value_range_problem:
            found = {"model.keras": [self.value_range_problem], **found}
        return found

    def raise_for_failures(self) -> None:
        failures = self.failures
        if failures:
            lines = [f"{name}: {'; '.join(reasons)}" for name, reasons in failures.items()]
            failed = len(failures) - bool(self.value_range_problem)
            head = f"{failed} of {len(self.formats)} exports of {self.artifact} failed parity"
            if self.value_range_problem:
                head = f"{self.artifact}: the value range in its contract looks wrong; {head}"
            raise ParityError(head + ":\n" + "\n".join(lines), failures)


def verify_artifact(root: str | Path, options: VerifyOptions,
                    on_progress: Callable[[str], None] | None = None) -> VerifyReport:
    artifact = open_artifact(root)
    contract = artifact.contract
    formats = _selected_formats(artifact.root, options)
    images = _eval_images(contract, options)
    reference = keras_probabilities(artifact.model_path, contract, images.images)
    truth = images.labels
    keras_accuracy = 100.0 * float((reference.argmax(axis=1) == truth).mean())
    # hand-landmark features have no pixel value range to get wrong
    value_range_problem = (_value_range_problem(artifact, images, keras_accuracy) if contract.input_kind == "image"
                           else None)
    source_sha = sha256_of(artifact.model_path)
    reports, versions, tflite_inputs, outputs = [], {}, {}, {}
    for fmt in formats:
        if on_progress:
            on_progress(fmt.name)
        report, prepared, probabilities = _verify_one(fmt, artifact.root, images, reference, source_sha, options,
                                                      versions)
        if options.repair is not None and fmt.remedies and report.parity is not None and not report.parity.passed:
            repaired = _repair(fmt, artifact, images, reference, source_sha, options, versions, report, on_progress)
            report, prepared, probabilities = repaired or (report, prepared, probabilities)
        if prepared is not None:
            tflite_inputs[fmt.name] = prepared
        if probabilities is not None:
            outputs[fmt.name] = probabilities
        reports.append(report)
    fill_tflite214(reports, tflite_inputs, reference, truth, options.tflite214_python, versions)
    for report in reports:
        _require_expected_interpreters(report)
        if report.reasons and report.parity is not None:
            report.diagnosis = _diagnose(report, contract, artifact.root)
            report.diagnosis += _int8_hotspots(report, contract, artifact.model_path, images.images)
    result = VerifyReport(str(artifact.root), images.origin, len(truth), keras_accuracy, reports,
                          [reason for _, reason in images.skipped], versions, value_range_problem)
    if options.gallery is not None and contract.input_kind == "image":
        from edgecnn.convert.gallery import gallery_summary, write_gallery

        page, written = write_gallery(options.gallery, images.images, truth, contract.labels, reference, outputs,
                                      contract.channel_order)
        result.gallery_path, result.gallery_images = str(page), written[:12]
        result.gallery = gallery_summary(reference, outputs)
    return result


def _value_range_problem(artifact, images: LabelledImages, keras_accuracy: float) -> str | None:
    """The value-range check (convert/value_range.py); it loads the model again only when accuracy is not good."""
    from edgecnn.convert.value_range import check_value_range

    contract = artifact.contract
    loaded = {}

    def predict(inputs: np.ndarray) -> np.ndarray:
        if "model" not in loaded:
            loaded["model"] = load_keras_model(artifact.model_path)
        return loaded["model"].predict(inputs, batch_size=256, verbose=0)

    check = check_value_range(predict, contract.value_range, images.images, images.labels, len(contract.labels),
                              keras_accuracy)
    if not check.wrong:
        return None
    fix = (f"re-import the model with --value-range {check.best[0]} (edgecnn import MODEL --out {artifact.root} "
           f"--value-range {check.best[0]} --force)")
    return check.message(fix)


def _selected_formats(root: Path, options: VerifyOptions) -> list[ExportFormat]:
    if options.formats is not None:
        return [get_format(name) for name in options.formats]
    present = [get_format(name) for name in format_names() if (root / get_format(name).file_name).is_file()]
    if not present:
        raise ParityError(f"{root}: no exports to verify (expected files like model_tflite_float32.tflite); "
                          f"run 'edgecnn convert {root}' first")
    return present


def _eval_images(contract: ModelContract, options: VerifyOptions) -> LabelledImages:
    selection = held_out_selection(contract.extra, options.data, contract.model_name)
    return load_labelled(selection.root, contract, selection.split, options.limit, keep=selection.keep)


def keras_probabilities(model_path: Path, contract: ModelContract, pixels: np.ndarray) -> np.ndarray:
    """The Keras model's probabilities ``(N, len(labels))`` on uint8 pixels (sigmoid expanded to ``[1-p, p]``)."""
    from edgecnn.runtime.preprocess import to_value_range

    model = load_keras_model(model_path)
    raw = np.asarray(model.predict(to_value_range(pixels, contract.value_range), batch_size=256, verbose=0),
                     dtype=np.float32)
    raw = raw.reshape(len(pixels), -1)
    if contract.output_activation == "sigmoid":
        return np.concatenate([1.0 - raw[:, :1], raw[:, :1]], axis=1)
    return raw


def effective_tolerance(fmt: ExportFormat, options: VerifyOptions) -> Tolerance:
    tolerance = fmt.tolerance
    if options.min_agreement is not None:
        tolerance = replace(tolerance, min_agreement=options.min_agreement)
    if options.max_accuracy_drop is not None:
        tolerance = replace(tolerance, max_accuracy_drop=options.max_accuracy_drop)
    if options.max_abs_diff is not None and tolerance.max_abs_diff is not None:
        tolerance = replace(tolerance, max_abs_diff=options.max_abs_diff)
    return tolerance


def _verify_one(fmt: ExportFormat, root: Path, images: LabelledImages, reference: np.ndarray, source_sha: str,
                options: VerifyOptions, versions: dict[str, str]) -> tuple[FormatReport, tuple | None,
                                                                          np.ndarray | None]:
    """Checks one export in its primary interpreter.

    Returns its report, for TFLite ``(input tensors, output spec, contract)`` for the tflite-runtime 2.14 run, and its
    probabilities (None when it did not run).
    """
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.preprocess import pixels_to_tensor

    path = root / fmt.file_name
    report = FormatReport(fmt.name, str(path), tolerance=effective_tolerance(fmt, options))
    report.matrix = {name: "n/a" for name in INTERPRETERS}
    if not path.is_file():
        report.reasons.append(f"{path.name} not found (run 'edgecnn convert {root} --formats {fmt.name}')")
        return report, None, None
    report.size_bytes = path.stat().st_size
    primary = PRIMARY[fmt.suffix]
    start = time.perf_counter()
    try:
        classifier = Classifier.open(path, backend=primary, threads=2)
        probabilities = predict_batched(classifier, images.images)
    except EdgecnnError as err:
        report.reasons.append(f"{primary} cannot run it: {err}")
        report.matrix[primary] = f"FAIL: {err}"
        return report, None, None
    report.seconds = time.perf_counter() - start
    versions[primary] = classifier.backend.info.version
    report.io = {"input": _describe(classifier.backend.input), "output": _describe(classifier.backend.output)}
    report.reasons += _contract_problems(classifier.contract, fmt, source_sha)
    report.parity = compare(reference, probabilities, images.labels, classifier.labels, report.tolerance)
    report.reasons += report.parity.reasons
    report.matrix[primary] = "ok" if report.parity.passed else f"FAIL: {'; '.join(report.parity.reasons)}"
    if fmt.suffix == ".tflite":
        from edgecnn.convert.tflite214 import find_python

        # The whole batch as one tensor, kept until the tflite-runtime 2.14 run: only when that environment exists.
        tensor = (pixels_to_tensor(images.images, classifier.contract, classifier.backend.input)
                  if find_python(options.tflite214_python) is not None else None)
        return report, (tensor, classifier.backend.output, classifier.contract), probabilities
    return report, None, probabilities


def _repair(fmt: ExportFormat, artifact, images: LabelledImages, reference: np.ndarray, source_sha: str,
            options: VerifyOptions, versions: dict[str, str], failed: FormatReport, on_progress) -> tuple | None:
    """Tries ``fmt``'s remedies (:mod:`edgecnn.convert.repair`); the re-verified winner's ``_verify_one`` result, or
    None when the original stays (its report then lists what was tried)."""
    import tempfile

    from edgecnn.convert.calibration import CalibrationOptions, load_calibration
    from edgecnn.convert.repair import install, repair
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.contract import read_sidecar

    exported = (read_sidecar(failed.file) or artifact.contract).extra.get("export", {})
    # The model's own training split first: the export's --calib-data may be a handful of unrepresentative frames.
    source = None if (artifact.contract.extra.get("data") or {}).get("root") else exported.get("calibration_data")
    calibration = load_calibration(artifact.contract, CalibrationOptions(data=Path(source) if source else None,
                                                                         count=options.repair.calibration_count))
    counts = calibration.per_class(len(artifact.contract.labels))
    info = {"calibration_classes": dict(zip(artifact.contract.labels, counts)), "calibration_data": source}
    before = {"agreement": failed.parity.agreement, "accuracy": failed.parity.accuracy,
              "size_bytes": failed.size_bytes, "calibration_images": exported.get("calibration_images"),
              "reasons": list(failed.reasons)}

    def measure(path: Path) -> tuple[bool, dict]:
        classifier = Classifier.open(path, backend=PRIMARY[fmt.suffix], threads=2)
        parity = compare(reference, predict_batched(classifier, images.images), images.labels, classifier.labels,
                         failed.tolerance)
        return parity.passed, {"agreement": parity.agreement, "accuracy": parity.accuracy, "reasons": parity.reasons}

    with tempfile.TemporaryDirectory(prefix=f"edgecnn-repair-{fmt.name}-") as scratch:
        winner, attempts = repair(fmt, artifact.root, calibration.images, info, measure, options.repair, before,
                                  Path(scratch), on_progress)
        record = {"remedy": winner.remedy if winner else None, "before": before,
                  "attempts": [attempt.summary() for attempt in attempts]}
        if winner is None:
            failed.repair = record
            return None
        install(winner, Path(failed.file))
    result = _verify_one(fmt, artifact.root, images, reference, source_sha, options, versions)
    result[0].repair = record
    return result


def predict_batched(classifier, pixels: np.ndarray, batch: int = 256) -> np.ndarray:
    """The classifier's probabilities, ``batch`` images at a time: the interpreter allocates every layer's activations
    for the whole batch, so 10,000 images at once cost gigabytes for a small CNN."""
    return np.concatenate([classifier.predict(pixels[start:start + batch])
                           for start in range(0, len(pixels), batch)])


def _describe(spec) -> str:
    shape = "(" + ", ".join("N" if d is None else str(d) for d in spec.shape) + ")"
    return f"{spec.name} {shape} {np.dtype(spec.dtype).name}"


def _contract_problems(contract: ModelContract, fmt: ExportFormat, source_sha: str) -> list[str]:
    problems = []
    if contract.format != fmt.name:
        problems.append(f"its contract says format {contract.format!r}, expected {fmt.name!r}")
    if contract.source_sha256 != source_sha:
        problems.append(f"it was exported from a different model.keras (sha256 {str(contract.source_sha256)[:12]}... "
                        f"!= {source_sha[:12]}...); re-run 'edgecnn convert'")
    return problems


def _require_expected_interpreters(report: FormatReport) -> None:
    fmt = get_format(report.format)
    for name in fmt.runs_on:
        key = TFLITE214 if name == "tflite_runtime" else name
        cell = report.matrix.get(key, "")
        if cell.startswith("FAIL") and key != PRIMARY[fmt.suffix]:
            report.reasons.append(f"{key}: {cell[len('FAIL: '):]}")


def _diagnose(report: FormatReport, contract: ModelContract, root: Path) -> list[str]:
    """Why a quantized export lost accuracy, as far as the tools allow."""
    notes = []
    worst = worst_classes(report.parity)
    if worst:
        notes.append("classes that lost most: " + ", ".join(f"{label} {change:+.1f} pts" for label, change in worst))
    from edgecnn.runtime.contract import read_sidecar

    exported = read_sidecar(report.file) if Path(report.file).is_file() else None
    coverage = (exported.extra.get("export", {}) if exported else {}).get("calibration_classes")
    if coverage:
        missing = [label for label in contract.labels if not coverage.get(label)]
        notes.append("calibration covered every class " + str(coverage) if not missing
                     else f"calibration had no images of {missing}: re-convert with --calib-data covering them")
    return notes


def _int8_hotspots(report: FormatReport, contract: ModelContract, keras_path: Path, pixels: np.ndarray) -> list[str]:
    """For a failing int8 TFLite export: the layers with the largest quantization error (TF's debugger)."""
    fmt = get_format(report.format)
    if fmt.suffix != ".tflite" or fmt.quantization.mode != "int8":
        return []
    from edgecnn.convert.calibration import CalibrationOptions, load_calibration
    from edgecnn.convert.diagnose import quantization_hotspots
    from edgecnn.runtime.contract import read_sidecar

    try:
        export = (read_sidecar(report.file) or contract).extra.get("export", {})
        source = export.get("calibration_data")
        options = CalibrationOptions(data=Path(source) if source else None,
                                     count=export.get("calibration_images", 100))
        from edgecnn.runtime.preprocess import to_value_range

        calibration = to_value_range(load_calibration(contract, options).images, contract.value_range)
        sample = to_value_range(pixels[:: max(1, len(pixels) // 50)], contract.value_range)
        hotspots = quantization_hotspots(keras_path, calibration, sample)
    except EdgecnnError as err:
        return [f"quantization debugger not run: {err}"]
    except Exception as err:  # noqa: BLE001 - TF's debugger raises many types; the parity report must still print
        return [f"quantization debugger failed ({type(err).__name__}: {str(err)[:200]})"]
    return ["layers with the largest quantization error (RMSE in quantization steps): "
            + ", ".join(f"{name} {score:.2f}" for name, score in hotspots)]
