"""What ``edgecnn train hand_gestures`` says about the held-out frames: accuracy per class and the confusions."""

from __future__ import annotations

import numpy as np

MAX_CONFUSIONS = 5
"""At most this many "A taken for B" pairs are listed, the most frequent first."""


def per_class(metrics: dict) -> dict[str, tuple[int, int]]:
    """``label -> (right, held-out frames)`` from metrics.json's confusion matrix (rows: true class)."""
    matrix = np.asarray(metrics["confusion_matrix"])
    return {label: (int(matrix[i, i]), int(matrix[i].sum())) for i, label in enumerate(metrics["labels"])}


def confusions(metrics: dict) -> list[tuple[str, str, int, int]]:
    """``(true, predicted, count, held-out frames of true)`` for every off-diagonal cell, most frequent first."""
    matrix = np.asarray(metrics["confusion_matrix"])
    labels = metrics["labels"]
    cells = [(labels[i], labels[j], int(matrix[i, j]), int(matrix[i].sum()))
             for i in range(len(labels)) for j in range(len(labels)) if i != j and matrix[i, j]]
    return sorted(cells, key=lambda cell: (-cell[2], cell[0], cell[1]))


def class_report(metrics: dict) -> list[str]:
    """Two lines (or three): per-class held-out accuracy, the confusions, and a hint when a class has none held
    out."""
    scores = per_class(metrics)
    shown = ", ".join(f"{label} {right}/{total}" + (f" ({right / total:.0%})" if total else "")
                      for label, (right, total) in scores.items())
    lines = [f"edgecnn train: held-out frames per class (right/all): {shown}"]
    pairs = confusions(metrics)
    if pairs:
        lines.append("edgecnn train: confused: " + "; ".join(
            f"{true} taken for {predicted} {count}/{total}" for true, predicted, count, total in
            pairs[:MAX_CONFUSIONS]))
    else:
        lines.append("edgecnn train: confused: none on the held-out frames")
    if any({true, predicted} == {"none", "no_gesture"} for true, predicted, _, _ in pairs):
        lines.append("edgecnn train: (none and no_gesture are both 'no class' at run time: a hand the finder "
                     "imagines taken for no gesture claims nothing)")
    empty = [label for label, (_, total) in scores.items() if total == 0]
    if empty:
        lines.append(f"edgecnn train: no held-out frames of {', '.join(empty)}: record another session of each "
                     f"(or add DIR/validation/) to measure it")
    return lines
