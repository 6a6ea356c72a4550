"""``edgecnn verify --baseline FILE``: fail when an export got worse than the last accepted verify run.

The baseline is the verify document ``--json`` writes (:func:`edgecnn.convert.outputs.to_json`, one schema everywhere).
Compared per format: overall top-1 agreement and accuracy, then every class's agreement and accuracy. A figure may
fall below the baseline's by at most the format's ``Tolerance.max_regression`` (overall) and
``Tolerance.max_class_regression`` (per class), in percentage points; rising is always fine. Both runs must be on the
same number of images (same ``--data`` and ``--limit``), or the figures are not comparable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgecnn.convert.errors import BaselineError
from edgecnn.convert.outputs import VERIFY_JSON_VERSION, dumps_json


def load_baseline(path: Path) -> dict[str, Any]:
    """The baseline document; :class:`BaselineError` naming the file when it is missing or not a verify document."""
    path = Path(path)
    if not path.is_file():
        raise BaselineError(f"{path}: no such baseline file; write one with 'edgecnn verify ART --baseline {path} "
                            f"--update-baseline' on an accepted run")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BaselineError(f"{path}: not a readable verify JSON document ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("formats"), list):
        raise BaselineError(f"{path}: not a verify document (expected the JSON 'edgecnn verify --json' writes, "
                            f"with a 'formats' list)")
    if data.get("version", VERIFY_JSON_VERSION) > VERIFY_JSON_VERSION:
        raise BaselineError(f"{path}: verify document version {data['version']} is newer than this edgecnn reads "
                            f"({VERIFY_JSON_VERSION}); upgrade edgecnn or rewrite the baseline")
    return data


def regressions(report, baseline: dict[str, Any], source: str = "baseline") -> dict[str, list[str]]:
    """Per format name: one line per figure worse than the baseline's beyond the format's tolerance."""
    if baseline.get("images") != report.images:
        raise BaselineError(f"{source}: measured on {baseline.get('images')} images, this run on {report.images}: "
                            f"not comparable (run verify with the baseline's --data and --limit)")
    current = {item.format: item for item in report.formats}
    found: dict[str, list[str]] = {}
    for entry in baseline["formats"]:
        name = entry.get("format")
        item = current.get(name)
        old = entry.get("parity")
        if old is None:
            continue
        if item is None:
            found.setdefault(name, []).append(f"in the {source} but not verified in this run")
        elif item.parity is None:
            found.setdefault(name, []).append(f"ran in the {source} but no longer runs: {'; '.join(item.reasons)}")
        else:
            lines = _figure_regressions(item, old, source)
            if lines:
                found[name] = lines
    return found


def _figure_regressions(item, old: dict[str, Any], source: str) -> list[str]:
    tolerance, parity = item.tolerance, item.parity
    lines = []
    overall = [("top-1 agreement", 100 * parity.agreement, 100 * old["agreement"]),
               ("accuracy", parity.accuracy, old["accuracy"])]
    for figure, now, then in overall:
        if then - now > tolerance.max_regression + 1e-9:
            lines.append(f"{figure} {now:.2f}% < {source} {then:.2f}% by {then - now:.2f} points "
                         f"(allowed {tolerance.max_regression:.2f})")
    for label, before in (old.get("classes") or {}).items():
        figure = parity.classes.get(label)
        if figure is None:
            lines.append(f"class {label!r}: in the {source} but has no images in this run")
            continue
        for key, name, scale in (("agreement", "agreement", 100.0), ("accuracy", "accuracy", 1.0)):
            now, then = scale * figure[key], scale * before[key]
            if then - now > tolerance.max_class_regression + 1e-9:
                lines.append(f"class {label!r} {name} {now:.2f}% < {source} {then:.2f}% by {then - now:.2f} "
                             f"points (allowed {tolerance.max_class_regression:.2f})")
    return [f"regression: {line}" for line in lines]


def apply_regressions(report, found: dict[str, list[str]]) -> None:
    """Adds each regression to its format's reasons, so the exit code, JSON and JUnit carry it."""
    for item in report.formats:
        item.reasons += found.get(item.format, [])


def write_baseline(path: Path, report) -> Path:
    """Writes ``report`` as the new baseline, atomically; refuses a run that fails its own format gates."""
    from edgecnn.runtime.atomic import write_text_atomic

    if report.failures:
        raise BaselineError(f"{path}: not updated: {len(report.failures)} export(s) fail their gate "
                            f"({', '.join(report.failures)}); a baseline records an accepted run")
    return write_text_atomic(path, dumps_json(report))


def check_baseline(report, path: Path, baseline: dict[str, Any] | None, update: bool) -> list[str]:
    """The ``--baseline``/``--update-baseline`` step of ``edgecnn verify``; returns notes for the user.

    Without ``update``, regressions become failures of their formats. With it, they are accepted (listed as notes)
    and ``report`` becomes the new baseline at ``path``.
    """
    found = regressions(report, baseline, str(path)) if baseline is not None else {}
    if not update:
        apply_regressions(report, found)
        return [f"compared with the baseline {path}: " + (f"{sum(map(len, found.values()))} regression(s)" if found
                                                           else "no regression")]
    notes = [f"{name}: {line} (accepted by --update-baseline)" for name, lines in found.items() for line in lines]
    if report.failures:
        return notes + [f"baseline {path} not updated: {', '.join(report.failures)} fail their gate; a baseline "
                        f"records an accepted run"]
    write_baseline(path, report)
    return notes + [f"baseline written: {path}"]
