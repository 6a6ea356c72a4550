"""``edgecnn verify --gallery DIR``: one HTML page of every image where an export and Keras disagree.

Each image is shown as the model saw it: decoded, put in the contract's channel order and resized by the runtime's own
loader (:func:`edgecnn.runtime.images.load_for_model`) - the uint8 pixels that the runtime then scales or quantizes
into the input tensor. Beside it: the true label, Keras's top-3 and the export's top-3. Files are written atomically
(``DIR/index.html`` last); nothing else in DIR is touched.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.runtime.atomic import write_bytes_atomic, write_text_atomic

INDEX = "index.html"
IMAGES = "images"


@dataclass(frozen=True)
class Disagreement:
    """One image on which one export's top-1 differs from Keras's."""

    index: int
    """Position of the image in verify's image list."""
    image: str
    """Path of its PNG, relative to the gallery folder."""
    truth: str
    """True label."""
    keras_top3: list[tuple[str, float]]
    """Keras's three most probable labels with their probabilities."""
    export_top3: list[tuple[str, float]]
    """The export's three most probable labels with their probabilities."""


def disagreements(reference: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Indices of the images whose top-1 class differs between ``reference`` and ``probabilities``."""
    return np.flatnonzero(reference.argmax(axis=1) != probabilities.argmax(axis=1))


def write_gallery(folder: Path, pixels: np.ndarray, truth: np.ndarray, labels: tuple[str, ...],
                  reference: np.ndarray, outputs: dict[str, np.ndarray],
                  channel_order: str = "RGB") -> tuple[Path, list[str]]:
    """Writes ``folder/index.html`` and one PNG per disagreeing image; ``outputs``: format -> probabilities.

    Returns the page and the images written (paths relative to ``folder``), in image order.
    """
    folder = Path(folder)
    by_format = {name: disagreements(reference, probabilities) for name, probabilities in outputs.items()}
    written: dict[int, str] = {}
    for index in sorted({int(i) for indices in by_format.values() for i in indices}):
        written[index] = _write_image(folder, index, pixels[index], channel_order)
    sections = []
    for name, indices in by_format.items():
        rows = [Disagreement(int(i), written[int(i)], labels[int(truth[i])], _top3(reference[i], labels),
                             _top3(outputs[name][i], labels)) for i in indices]
        sections.append(_section(name, rows, len(reference)))
    return write_text_atomic(folder / INDEX, _page(sections, len(reference))), list(written.values())


def gallery_summary(reference: np.ndarray, outputs: dict[str, np.ndarray]) -> dict[str, int]:
    """Per format: how many images disagree with Keras (what the pipeline's report lists)."""
    return {name: int(len(disagreements(reference, probabilities))) for name, probabilities in outputs.items()}


def _write_image(folder: Path, index: int, pixels: np.ndarray, channel_order: str) -> str:
    import cv2

    image = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    if channel_order == "RGB" and image.ndim == 3:
        image = image[..., ::-1]  # OpenCV writes BGR
    _, encoded = cv2.imencode(".png", np.ascontiguousarray(image))  # PNG takes every uint8 1- or 3-channel image
    relative = f"{IMAGES}/{index:06d}.png"
    write_bytes_atomic(folder / relative, encoded.tobytes())
    return relative


def _top3(probabilities: np.ndarray, labels: tuple[str, ...]) -> list[tuple[str, float]]:
    order = np.argsort(-probabilities)[:3]
    return [(labels[int(i)], float(probabilities[int(i)])) for i in order]


def _ranking(top3: list[tuple[str, float]], css: str) -> str:
    items = "".join(f"<li>{html.escape(label)} <span>{100 * p:.1f}%</span></li>" for label, p in top3)
    return f"<ol class='{css}'>{items}</ol>"


def _section(name: str, rows: list[Disagreement], total: int) -> str:
    head = (f"<h2 id='{html.escape(name)}'>{html.escape(name)}: {len(rows)} of {total} images disagree with "
            f"Keras</h2>")
    if not rows:
        return head
    cells = "".join(
        f"<tr class='disagreement'><td><img src='{html.escape(row.image)}' alt='image {row.index}'></td>"
        f"<td>#{row.index}</td><td class='truth'>{html.escape(row.truth)}</td>"
        f"<td>{_ranking(row.keras_top3, 'keras')}</td><td>{_ranking(row.export_top3, 'export')}</td></tr>"
        for row in rows)
    return (f"{head}<table><tr><th>as the model saw it</th><th>image</th><th>true label</th><th>Keras top-3</th>"
            f"<th>{html.escape(name)} top-3</th></tr>{cells}</table>")


def _page(sections: list[str], total: int) -> str:
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:4px 8px;vertical-align:top;font-size:13px}img{width:112px;image-rendering:pixelated}"
             "ol{margin:0;padding-left:1.4em}span{color:#666}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>edgecnn verify: disagreements</title>"
            f"<style>{style}</style></head><body><h1>Exports vs Keras: where they disagree</h1>"
            f"<p>{total} images verified; each shown as the model saw it (decoded and resized by the runtime).</p>"
            + "\n".join(sections) + "</body></html>\n")
