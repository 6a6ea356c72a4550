"""The outputs of convert and verify: terminal tables, the one verify.json document, and JUnit XML (one test case per
format) for any CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict
from typing import Any

from edgecnn.convert.class_gate import confusion_changes
from edgecnn.convert.matrix import INTERPRETERS
from edgecnn.convert.runner import ExportRecord


def export_table(records: list[ExportRecord]) -> str:
    """``edgecnn convert``'s final table: file, size, time, peak RSS."""
    rows = [("file", "size", "time", "peak RSS")]
    for record in records:
        rss = "-" if record.peak_rss_mb is None else f"{record.peak_rss_mb:,.0f} MB"
        rows.append((record.path.rsplit("/", 1)[-1], _size(record.size_bytes), f"{record.seconds:.1f} s", rss))
    return _table(rows)


def parity_table(report) -> str:
    """Per format: size, max/mean abs diff, top-1 agreement, accuracy (Keras's in the header), verdict."""
    rows = [("format", "size", "max diff", "mean diff", "agree",
             f"acc on {report.images} (keras {report.keras_accuracy:.2f}%)", "result")]
    for item in report.formats:
        parity = item.parity
        if parity is None:
            rows.append((item.format, _size(item.size_bytes), "-", "-", "-", "-", "FAIL"))
            continue
        rows.append((item.format, _size(item.size_bytes), f"{parity.max_abs_diff:.2e}",
                     f"{parity.mean_abs_diff:.2e}", f"{100 * parity.agreement:.2f}%", f"{parity.accuracy:.2f}%",
                     "ok" if item.passed else "FAIL"))
    return _table(rows)


def matrix_table(report) -> str:
    """Every export x every interpreter: ok / FAIL / n/a / not checked (the reason follows in the notes)."""
    rows = [("format", *INTERPRETERS)]
    notes = []
    for item in report.formats:
        cells = []
        for name in INTERPRETERS:
            cell = item.matrix.get(name, "n/a")
            short = cell.split(":", 1)[0].split(" (", 1)[0]
            if short != cell and cell not in notes:
                notes.append(cell)
            cells.append(short if short == cell else f"{short} [{notes.index(cell) + 1}]")
        rows.append((item.format, *cells))
    lines = [_table(rows)] + [f"[{number}] {note}" for number, note in enumerate(notes, 1)]
    return "\n".join(lines)


def details_lines(report) -> list[str]:
    lines = [f"verified on {report.images} images from {report.data_source}"]
    if report.skipped_images:
        lines.append(f"skipped {len(report.skipped_images)} unreadable images: {report.skipped_images[0]} ...")
    if report.gallery_path:
        counts = ", ".join(f"{name} {count}" for name, count in (report.gallery or {}).items())
        lines.append(f"disagreement gallery: {report.gallery_path} (images that disagree with Keras: {counts})")
    if getattr(report, "value_range_problem", None):
        lines.append(f"model.keras: FAIL {report.value_range_problem}")
    for item in report.formats:
        for reason in item.reasons:
            lines.append(f"{item.format}: FAIL {reason}")
        for note in item.diagnosis:
            lines.append(f"{item.format}: {note}")
        if item.repair is not None:
            lines.append(f"{item.format}: {repair_line(item.repair)}")
        if item.parity is not None and item.parity.confusion_delta:
            moves = confusion_changes(item.parity.confusion_delta, tuple(item.parity.classes))
            if moves:
                lines.append(f"{item.format}: confusion vs Keras (true->predicted, images): {', '.join(moves)}")
    return lines


VERIFY_JSON_VERSION = 1
"""Version of the one ``verify.json`` document (``edgecnn verify --json``, the pipeline, ``--baseline``, read by
``edgecnn bench``)."""


def repair_line(repair: dict) -> str:
    """``repaired by float_hotspots: agreement 98.40% -> 99.12%, 255 KB -> 262 KB; tried: ...``."""
    before = repair["before"]
    tried = "; ".join(f"{a['remedy']} " + (f"export failed ({a['error']})" if a.get("error") else
                                            f"{'ok' if a['passed'] else 'FAIL'} {100 * a['agreement']:.2f}% "
                                            f"{_size(a['size_bytes'])}") for a in repair["attempts"])
    if repair["remedy"] is None:
        return f"repair tried, none passed (the export is unchanged); tried: {tried or 'no remedy applies'}"
    kept = next(a for a in repair["attempts"] if a["remedy"] == repair["remedy"])
    return (f"repaired by {repair['remedy']}: agreement {100 * before['agreement']:.2f}% -> "
            f"{100 * kept['agreement']:.2f}%, {_size(before['size_bytes'])} -> {_size(kept['size_bytes'])}; "
            f"tried: {tried}")


def to_json(report) -> dict[str, Any]:
    """The verify document: the full report (``formats``) and, per export file name, its status (``exports``)."""
    data = {"version": VERIFY_JSON_VERSION, **asdict(report)}
    data["passed"] = not report.failures
    for item, entry in zip(report.formats, data["formats"]):
        entry["passed"] = item.passed
        if item.parity is not None:
            entry["parity"]["accuracy_drop"] = item.parity.accuracy_drop
    data["exports"] = export_statuses(report)
    return data


def export_statuses(report) -> dict[str, dict[str, Any]]:
    """Per export file name: ``status`` (``passed``, ``export ok but validation failed``, ``export failed``), its
    reasons, agreement, accuracy and Keras's accuracy as fractions, max abs diff (what ``edgecnn bench`` reads)."""
    exports = {}
    for item in report.formats:
        parity = item.parity
        exports[item.file.rsplit("/", 1)[-1]] = {
            "format": item.format,
            "status": "passed" if item.passed else ("export ok but validation failed" if parity is not None
                                                    else "export failed"),
            "reasons": item.reasons,
            "agreement": None if parity is None else parity.agreement,
            "accuracy": None if parity is None else parity.accuracy / 100.0,
            "keras_accuracy": report.keras_accuracy / 100.0,
            "max_abs_diff": None if parity is None else parity.max_abs_diff,
        }
    return exports


def to_junit(report) -> str:
    """JUnit XML: a ``testsuite`` ``edgecnn-verify`` with one ``testcase`` per format, failures with their reasons."""
    suite = ET.Element("testsuite", name="edgecnn-verify", tests=str(len(report.formats)),
                       failures=str(len(report.failures)), errors="0")
    for item in report.formats:
        case = ET.SubElement(suite, "testcase", classname=f"edgecnn.verify.{_artifact_name(report)}",
                             name=item.format)
        if item.parity is not None:
            properties = ET.SubElement(case, "properties")
            for key in ("max_abs_diff", "mean_abs_diff", "agreement", "accuracy", "keras_accuracy"):
                ET.SubElement(properties, "property", name=key, value=repr(getattr(item.parity, key)))
            for label, figure in item.parity.classes.items():
                for key in ("agreement", "accuracy_change"):
                    ET.SubElement(properties, "property", name=f"class.{label}.{key}", value=repr(figure[key]))
        if item.reasons:
            failure = ET.SubElement(case, "failure", message="; ".join(item.reasons))
            failure.text = "\n".join(item.reasons + item.diagnosis)
        case.set("time", f"{item.seconds:.3f}")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def dumps_json(report) -> str:
    return json.dumps(to_json(report), indent=2, default=str) + "\n"


def _artifact_name(report) -> str:
    return report.artifact.rstrip("/").rsplit("/", 1)[-1] or "artifact"


def _size(num_bytes: int) -> str:
    from edgecnn.runtime.units import format_size

    return format_size(num_bytes)


def _table(rows: list[tuple]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
