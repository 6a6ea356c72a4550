"""Temporal smoothing of probabilities: an exponential moving average, so the label does not flicker between frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgecnn.runtime.errors import OptionError


@dataclass
class ProbabilitySmoother:
    """``average = weight * average + (1 - weight) * new``; weight 0 turns smoothing off."""

    weight: float = 0.0
    """Share of the previous average kept at each frame, in [0, 1); 0.6 settles in about 5 frames."""
    average: np.ndarray | None = field(default=None, init=False)
    """The current average, None before the first frame."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight < 1.0:
            raise OptionError(f"--smooth must be in [0, 1) (0 = off), got {self.weight}")

    def update(self, probabilities: np.ndarray) -> np.ndarray:
        if self.average is None or self.weight == 0.0:
            self.average = probabilities.astype(np.float32, copy=True)
        else:
            self.average = self.weight * self.average + (1.0 - self.weight) * probabilities
        return self.average

    def reset(self) -> None:
        self.average = None
