"""Per-class parity: each class's agreement with Keras, its accuracy change, the confusion delta, and the class gate.

An int8 export can collapse one class onto another while the overall agreement still reads 98-99%: the overall gate
averages that class away. These figures are computed per *true* class (the images whose label is that class), so a
class the export no longer predicts shows as low agreement and a large accuracy drop, named in the failure.
"""

from __future__ import annotations

import numpy as np


def class_figures(keras_top: np.ndarray, export_top: np.ndarray, truth: np.ndarray,
                  labels: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per label with images: ``images``, ``agreement`` (fraction agreeing with Keras), ``accuracy`` and
    ``keras_accuracy`` (percent), ``accuracy_change`` (export minus Keras, percentage points)."""
    figures = {}
    for index, label in enumerate(labels):
        mask = truth == index
        if not mask.any():
            continue
        accuracy = 100.0 * float((export_top[mask] == index).mean())
        keras_accuracy = 100.0 * float((keras_top[mask] == index).mean())
        figures[label] = {"images": int(mask.sum()), "agreement": float((export_top[mask] == keras_top[mask]).mean()),
                          "accuracy": accuracy, "keras_accuracy": keras_accuracy,
                          "accuracy_change": accuracy - keras_accuracy}
    return figures


def confusion_delta(keras_top: np.ndarray, export_top: np.ndarray, truth: np.ndarray, classes: int) -> list[list[int]]:
    """Export confusion matrix minus Keras's, ``[true][predicted]`` image counts (positive: predicted more)."""
    delta = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(delta, (truth, export_top), 1)
    np.add.at(delta, (truth, keras_top), -1)
    return delta.tolist()


def confusion_changes(delta: list[list[int]], labels: tuple[str, ...], top: int = 5) -> list[str]:
    """The largest off-diagonal increases of the delta, as ``"Shirt->T-shirt/top +12"``, largest first."""
    moves = [(count, labels[t], labels[p]) for t, row in enumerate(delta) for p, count in enumerate(row)
             if t != p and count > 0]
    return [f"{true}->{predicted} +{count}" for count, true, predicted in sorted(moves, key=lambda m: -m[0])[:top]]


def failing_classes(figures: dict[str, dict[str, float]], tolerance) -> dict[str, list[str]]:
    """Per class that breaks ``tolerance``'s class gate: its reasons, each naming the class and the figure."""
    failing: dict[str, list[str]] = {}
    for label, figure in figures.items():
        if figure["images"] < tolerance.min_class_images:
            continue
        reasons = []
        drop = -figure["accuracy_change"]
        if tolerance.max_class_accuracy_drop is not None and drop > tolerance.max_class_accuracy_drop + 1e-9:
            reasons.append(f"class {label!r} accuracy drop {drop:.2f} points > {tolerance.max_class_accuracy_drop:.2f}"
                           f" ({figure['keras_accuracy']:.1f}% -> {figure['accuracy']:.1f}%)")
        if tolerance.min_class_agreement is not None and figure["agreement"] < tolerance.min_class_agreement:
            reasons.append(f"class {label!r} agreement {100 * figure['agreement']:.2f}% < "
                           f"{100 * tolerance.min_class_agreement:.2f}% ({figure['images']} images)")
        if reasons:
            failing[label] = reasons
    return failing


def class_reasons(figures: dict[str, dict[str, float]], tolerance) -> list[str]:
    return [reason for reasons in failing_classes(figures, tolerance).values() for reason in reasons]


def class_table(report) -> str:
    """Per format (rows) x class (columns): top-1 agreement with Keras in percent, ``*`` where the class gate fails."""
    from edgecnn.convert.outputs import _table

    labels = next((tuple(item.parity.classes) for item in report.formats if item.parity and item.parity.classes), ())
    if not labels:
        return ""
    rows = [("agreement per class", *labels)]
    for item in report.formats:
        if item.parity is None:
            continue
        failing = failing_classes(item.parity.classes, item.tolerance) if item.tolerance else {}
        cells = []
        for label in labels:
            figure = item.parity.classes.get(label)
            cells.append("-" if figure is None else f"{100 * figure['agreement']:.1f}{'*' if label in failing else ''}")
        rows.append((item.format, *cells))
    return _table(rows)
