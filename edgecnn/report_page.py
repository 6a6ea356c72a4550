"""The pipeline's report: one Markdown and one HTML page in the artifact folder, from the files the stages wrote."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from edgecnn.runtime.atomic import write_text_atomic
from edgecnn.runtime.units import format_size

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


def model_summary(model) -> str:
    """The model's layers as a Markdown table (name and type, output shape, parameters) and its totals.

    Written here rather than captured from ``model.summary()``: Keras draws that with rich at the console's width
    (80 columns when not on a terminal), which cut off the "Param #" column.
    """
    lines = ["| layer (type) | output shape | params |", "|---|---|---:|"]
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        lines.append(f"| {layer.name} ({type(layer).__name__}) | {_shape(shape)} | {layer.count_params():,} |")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    total = int(model.count_params())
    lines += ["", f"Total params: {total:,}; trainable: {trainable:,}; non-trainable: {total - trainable:,}."]
    return "\n".join(lines)


def _shape(shape) -> str:
    return "?" if shape is None else "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def write_report(root: Path, summary: str, convert_rows: list[dict], verify_markdown: str, bench_table: str,
                 commands: dict[str, str]) -> tuple[Path, Path]:
    """Writes ``report.md`` and ``report.html`` into the artifact folder ``root``; returns both paths."""
    metrics = json.loads((root / "metrics.json").read_text())
    contract = json.loads((root / "model.keras.contract.json").read_text())
    sections = [
        f"# edgecnn report: {metrics['model']}",
        "## Training",
        f"{metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s; "
        f"train accuracy {metrics['train_accuracy']:.2%}, {metrics['eval_split']} accuracy "
        f"{metrics['eval_accuracy']:.2%} on {metrics.get('eval_count', '?')} held-out images; "
        f"{metrics['params']:,} parameters. Labels: {', '.join(contract['labels'])}.",
        "![training curves](curves.png)\n\n![confusion matrix](confusion.png)",
        "## Model summary",
        summary,
        "## Exports",
        _convert_table(convert_rows),
        "## Verify (Keras vs each export, through the runtime's own preprocessing and interpreter)",
        verify_markdown,
        "## Benchmark (runtime-only process per row, batch 1)",
        bench_table,
        "## Run it",
        "\n".join(f"- {name}: `{command}`" for name, command in commands.items()),
    ]
    markdown = "\n\n".join(sections) + "\n"
    md_path = write_text_atomic(root / REPORT_MD, markdown)
    html_path = write_text_atomic(root / REPORT_HTML, _to_html(markdown, metrics["model"]))
    return md_path, html_path


def _convert_table(rows: list[dict]) -> str:
    lines = ["| format | file | size | seconds |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['format']} | {Path(row['path']).name} | {format_size(row['size_bytes'])} | "
                     f"{row['seconds']:.1f} |")
    return "\n".join(lines)


def _to_html(markdown: str, title: str) -> str:
    """The report as one HTML page, rendered by markdown-it-py (CommonMark plus tables); raw HTML is escaped."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:100%}"
             "pre{background:#f5f5f5;padding:8px;overflow:auto;font-size:12px}code{background:#f5f5f5}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n{body}</body></html>\n")
