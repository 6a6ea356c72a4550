"""The pipeline's report: one Markdown and one HTML page in the artifact folder, from the files the stages wrote."""

from __future__ import annotations

import html
import json
from pathlib import Path

from edgecnn.runtime.atomic import write_text_atomic
from edgecnn.runtime.units import format_size

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


def model_summary(model) -> str:
    """Keras's layer table as text."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "\n".join(lines)


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
        f"```\n{summary}\n```",
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
    """A small, dependency-free Markdown subset to HTML: headings, tables, images, code blocks, lists."""
    out, in_code, in_table = [], False, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if in_table and not line.startswith("|"):
            out.append("</table>")
            in_table = False
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            tag = "td" if in_table else "th"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("!["):
            for part in line.split("!["):
                if "](" in part:
                    alt, src = part.split("](", 1)
                    out.append(f'<img alt="{html.escape(alt)}" src="{html.escape(src.split(")")[0])}">')
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:100%}"
             "pre{background:#f5f5f5;padding:8px;overflow:auto;font-size:12px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")
