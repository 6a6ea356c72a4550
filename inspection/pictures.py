"""The two pictures of ``edgecnn inspect``: filter -> pool side by side, and the feature-map grid.

Both are drawn from the arrays the library returns (:class:`FilterResult`, :class:`FeatureMapReport`), with OpenCV
only, so they render on a Pi without matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecnn.inspect import render
from edgecnn.inspect.feature_maps import FeatureMap, FeatureMapReport
from edgecnn.inspect.filters import FilterResult


@dataclass(frozen=True)
class FilterPictureOptions:
    """How the filter picture is drawn."""

    display_px: int = 280
    """Displayed size of the original's longer side; filtered and pooled use the same scale, so halving shows."""


@dataclass(frozen=True)
class GridOptions:
    """How the feature-map grid is drawn."""

    max_channels: int = 8
    """Channels shown per layer (the first ones); the caption says how many the layer has."""
    max_layers: int = 24
    """Layers shown (the first ones; 0 = all); InceptionV3 has about 100, the caption says when some are left out."""
    tile_px: int = 72
    """Displayed size of each channel's map."""

    @classmethod
    def everything(cls) -> GridOptions:
        """Every layer and up to 64 channels each: large pictures for deep models."""
        return cls(max_channels=64, max_layers=0)


def size_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape[:2]) + " (h x w)"


def filter_picture(result: FilterResult, options: FilterPictureOptions = FilterPictureOptions()) -> np.ndarray:
    """Original, filtered and pooled, at one scale, each captioned with its size."""
    scale = options.display_px / max(result.original.shape)
    stages = (
        (result.original, f"original {size_text(result.original.shape)}"),
        (result.filtered, f"filtered '{result.kernel.name}' {size_text(result.filtered.shape)}"),
        (result.pooled, f"2x2 max pooled {size_text(result.pooled.shape)}"),
    )
    panels = []
    for pixels, text in stages:
        # filtered and pooled are already clamped to 0..255: shown as they are, not stretched.
        image = render.to_bgr(render.scale_image(np.round(pixels).astype(np.uint8), scale))
        panels.append(render.caption(render.border(image), [text]))
    kernel_rows = ["kernel " + result.kernel.name + ":"] + [
        "  " + " ".join(f"{value:g}".rjust(4) for value in row) for row in result.kernel.weights]
    return render.vstack([render.hstack(panels), render.caption(np.zeros((0, 1, 3), np.uint8), kernel_rows)])


def feature_map_picture(report: FeatureMapReport, options: GridOptions = GridOptions()) -> np.ndarray:
    """Input and probabilities on top, then one row of channel tiles per convolution / pooling layer."""
    shown = report.maps if options.max_layers <= 0 else report.maps[: options.max_layers]
    header = _header(report, len(shown))
    rows = [_layer_row(feature_map, options) for feature_map in shown]
    return render.vstack([header] + rows, gap=render.GAP_PX * 2)


def _header(report: FeatureMapReport, shown: int) -> np.ndarray:
    pixels = report.pixels
    scale = 140 / max(pixels.shape[:2])
    image = render.border(render.to_bgr(render.scale_image(pixels, scale)))
    untrained = " - UNTRAINED, random weights" if report.contract.extra.get("untrained") else ""
    total = len(report.maps)
    lines = [f"model {report.model}{untrained}", f"image {report.image}",
             f"input {'x'.join(map(str, pixels.shape))} ({report.contract.channel_order}, {report.contract.resize})",
             f"conv/pool layers: {total}" + ("" if shown == total else f", first {shown} shown")]
    text = render.caption(np.zeros((0, 1, 3), np.uint8), lines)
    return render.hstack([image, render.vstack([text, render.probability_bars(report.probabilities)])], gap=16)


def _layer_row(feature_map: FeatureMap, options: GridOptions) -> np.ndarray:
    height, width, channels = feature_map.shape
    shown = min(channels, options.max_channels)
    scale = options.tile_px / max(height, width)
    tiles = [render.border(render.to_bgr(render.scale_image(render.normalize(feature_map.values[..., c]), scale)))
             for c in range(shown)]
    text = (f"{feature_map.layer} ({feature_map.op}) -> {feature_map.shape}, "
            f"channels 1-{shown} of {channels}")
    return render.caption(render.hstack(tiles, gap=4), [text])
