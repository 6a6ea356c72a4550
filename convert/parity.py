"""Comparing an export's probabilities with the Keras model's on the same real images, against a tolerance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgecnn.convert.class_gate import class_figures, class_reasons, confusion_delta
from edgecnn.convert.formats import Tolerance


@dataclass
class Parity:
    """How one export's outputs compare with Keras's on the same images."""

    max_abs_diff: float
    """Largest absolute difference of any probability."""
    mean_abs_diff: float
    """Mean absolute difference over every probability."""
    agreement: float
    """Fraction of images whose top-1 class equals Keras's."""
    accuracy: float
    """Accuracy against the true labels, in percent."""
    keras_accuracy: float
    """Keras's accuracy on the same images, in percent."""
    class_accuracy_change: dict[str, float] = field(default_factory=dict)
    """Per label: export accuracy minus Keras accuracy, in percentage points."""
    classes: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per label (its true-class images): ``images``, ``agreement``, ``accuracy``, ``keras_accuracy``,
    ``accuracy_change`` (:func:`edgecnn.convert.class_gate.class_figures`)."""
    confusion_delta: list[list[int]] = field(default_factory=list)
    """Export confusion matrix minus Keras's, ``[true][predicted]`` image counts, in label order."""
    reasons: list[str] = field(default_factory=list)
    """Why it fails its tolerance; empty when it passes."""

    @property
    def accuracy_drop(self) -> float:
        return self.keras_accuracy - self.accuracy

    @property
    def passed(self) -> bool:
        return not self.reasons


def compare(reference: np.ndarray, probabilities: np.ndarray, truth: np.ndarray, labels: tuple[str, ...],
            tolerance: Tolerance) -> Parity:
    """``reference`` and ``probabilities`` are ``(N, K)`` float arrays; ``truth`` the ``(N,)`` true indices."""
    diff = np.abs(probabilities.astype(np.float64) - reference.astype(np.float64))
    keras_top, export_top = reference.argmax(axis=1), probabilities.argmax(axis=1)
    parity = Parity(
        max_abs_diff=float(diff.max()), mean_abs_diff=float(diff.mean()),
        agreement=float((keras_top == export_top).mean()),
        accuracy=100.0 * float((export_top == truth).mean()), keras_accuracy=100.0 * float((keras_top == truth).mean()),
        classes=class_figures(keras_top, export_top, truth, labels),
        confusion_delta=confusion_delta(keras_top, export_top, truth, len(labels)))
    parity.class_accuracy_change = {label: figure["accuracy_change"] for label, figure in parity.classes.items()}
    parity.reasons = _reasons(parity, tolerance) + class_reasons(parity.classes, tolerance)
    return parity


def _reasons(parity: Parity, tolerance: Tolerance) -> list[str]:
    reasons = []
    if tolerance.max_abs_diff is not None and parity.max_abs_diff > tolerance.max_abs_diff:
        reasons.append(f"max abs diff {parity.max_abs_diff:.3g} > {tolerance.max_abs_diff:.3g}")
    if parity.agreement < tolerance.min_agreement:
        reasons.append(f"top-1 agreement {100 * parity.agreement:.2f}% < {100 * tolerance.min_agreement:.2f}%")
    if parity.accuracy_drop > tolerance.max_accuracy_drop + 1e-9:
        reasons.append(f"accuracy drop {parity.accuracy_drop:.2f} points > {tolerance.max_accuracy_drop:.2f}")
    return reasons


def worst_classes(parity: Parity, count: int = 3) -> list[tuple[str, float]]:
    """The labels that lost the most accuracy (negative change), worst first."""
    losses = sorted(parity.class_accuracy_change.items(), key=lambda item: item[1])
    return [(label, change) for label, change in losses[:count] if change < 0]
