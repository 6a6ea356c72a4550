"""Is the contract's value range the one the model was trained on? A check on real labelled images.

The model file does not say whether it takes 0-255, 0-1 or -1-1 pixels (the book's ImageDataGenerator(rescale=1/255)
does the scaling outside the model). Fed the wrong range, a CNN loses most of its skill (measured: a small RPS CNN
trained on 0-1 scores 82% on 0-1 and 52% on -1-1, chance 33%), so: when the Keras model's accuracy under the
contract's range is not clearly good, the other usual ranges are tried on the same images; one under which the model
is good and that wins back most of the lost skill means the contract's range is probably wrong. A ReLU network
without normalisation may score the same on 0-1 and 0-255 (it is nearly scale-invariant); then nothing is reported,
because the labels it gives are right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from edgecnn.runtime.preprocess import to_value_range

CANDIDATES = ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0))
"""The value ranges Keras image models are commonly trained on: 1/255 scaling, MobileNet-style, raw pixels."""
CHECK_BELOW = 0.5
"""The other ranges are tried when the accuracy is at most chance + this fraction of the way to 100%."""
FAR_BETTER = 0.5
"""Another range must reach chance + this fraction of the way to 100%,..."""
LOST_SHARE = 0.5
"""...the contract's range must lose at least this share of that range's skill above chance,..."""
MIN_GAIN_POINTS = 15.0
"""...and that range must beat it by at least this many percentage points (not noise on a few images)."""


def range_text(value_range: tuple[float, float]) -> str:
    """``(0.0, 1.0)`` -> ``"0,1"``, as ``--value-range`` takes it."""
    return ",".join(f"{v:g}" for v in value_range)


@dataclass(frozen=True)
class RangeCheck:
    """Accuracy of the Keras model under its contract's value range and under the other candidates."""

    value_range: tuple[float, float]
    """The contract's range."""
    accuracy: float
    """Top-1 accuracy (%) under it."""
    chance: float
    """100 / number of classes."""
    others: dict[str, float]
    """``range_text`` -> accuracy (%) under that range; empty when the accuracy was clearly good."""

    @property
    def best(self) -> tuple[str, float] | None:
        return max(self.others.items(), key=lambda item: item[1]) if self.others else None

    @property
    def wrong(self) -> bool:
        best = self.best
        if best is None:
            return False
        gain = best[1] - self.accuracy
        return (best[1] >= self.chance + FAR_BETTER * (100.0 - self.chance) and gain >= MIN_GAIN_POINTS
                and gain >= LOST_SHARE * (best[1] - self.chance))

    def message(self, fix: str) -> str:
        """The one-line report; ``fix`` says what to do, e.g. ``"pass --value-range 0,1"``."""
        name, accuracy = self.best or ("?", 0.0)
        return (f"probably the wrong value range: the Keras model scores {self.accuracy:.1f}% (chance "
                f"{self.chance:.1f}%) with pixels scaled to {range_text(self.value_range)}, but {accuracy:.1f}% with "
                f"{name}; {fix}")


def check_value_range(predict: Callable[[np.ndarray], np.ndarray], value_range: tuple[float, float],
                      pixels: np.ndarray, truth: np.ndarray, classes: int, accuracy: float) -> RangeCheck:
    """``predict`` maps float inputs to ``(N, classes)`` probabilities; ``accuracy`` (%) is its score under
    ``value_range``. The other candidates are tried only when that score is not clearly good."""
    chance = 100.0 / classes
    others = {}
    if accuracy <= chance + CHECK_BELOW * (100.0 - chance):
        for candidate in CANDIDATES:
            if tuple(candidate) == tuple(float(v) for v in value_range):
                continue
            scores = np.asarray(predict(to_value_range(pixels, candidate)))
            predicted = top1(scores, classes)
            others[range_text(candidate)] = 100.0 * float((predicted == truth).mean())
    return RangeCheck(tuple(value_range), accuracy, chance, others)


def top1(scores: np.ndarray, classes: int) -> np.ndarray:
    scores = scores.reshape(len(scores), -1)
    if scores.shape[1] == 1 and classes == 2:  # one sigmoid unit: the probability of labels[1]
        return (scores[:, 0] >= 0.5).astype(np.int64)
    return scores.argmax(axis=1)
