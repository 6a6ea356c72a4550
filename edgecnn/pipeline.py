"""``edgecnn pipeline MODEL``: train -> convert (every format) -> verify -> bench -> one report.

Each stage is the same library call its own command makes; this module only strings them together and writes
the report. A stage that fails stops the pipeline with its own typed error; what was written before stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edgecnn.bench import BenchOptions, bench, format_table, rows_to_json
from edgecnn.data.artifact import GALLERY_DIR, SMOKE_IMAGES_DIR, Artifact
from edgecnn.report_page import model_summary, write_report
from edgecnn.runtime.atomic import write_text_atomic


@dataclass
class PipelineOptions:
    """One end-to-end run."""

    model: str
    """Registry name of the model."""
    out: Path
    """Artifact folder."""
    data: tuple[Path, ...] = ()
    """Data roots; empty: the model's dataset in its default places."""
    epochs: int | None = None
    """Training epochs (None: the model's default)."""
    limit: int | None = None
    """At most this many images per class and split for training (quick runs)."""
    formats: tuple[str, ...] = ()
    """Export formats; empty: all registered."""
    verify_limit: int | None = 100
    """Held-out images per class for verify and bench accuracy."""
    threads: int = 1
    """Interpreter threads for bench."""
    bench_runs: int = 50
    """Timed invocations per bench row."""
    build_options: dict = field(default_factory=dict)
    """Extra ``build`` arguments (e.g. ``weights`` for inception_transfer)."""
    force: bool = False
    """Replace ``out`` even when it is not an edgecnn artifact folder."""


@dataclass
class PipelineResult:
    """What one pipeline run wrote and found."""

    out: Path
    """The artifact folder."""
    report_md: Path
    """``report.md``."""
    report_html: Path
    """``report.html``."""
    verify: dict
    """The ``verify.json`` document (:func:`edgecnn.convert.outputs.to_json`)."""
    bench_rows: list = field(default_factory=list)
    """One :class:`~edgecnn.bench.BenchRow` per format x interpreter."""

    @property
    def passed(self) -> bool:
        """Whether every export passed verification."""
        return bool(self.verify.get("passed"))


STAGES = 5


def run_pipeline(options: PipelineOptions, on_stage: Callable[[int, int, str], None] | None = None,
                 on_note: Callable[[str], None] | None = None) -> PipelineResult:
    """Runs every stage for ``options.model`` and writes the report.

    ``on_stage(number, total, name)`` is called as each stage starts; ``on_note`` gets what a user watching wants to
    read (each export written, the verify and bench tables, skipped images).
    """
    from edgecnn.convert.formats import format_names
    from edgecnn.convert.runner import ConvertOptions, convert_artifact
    from edgecnn.train.fit import TrainOptions, train

    stage = on_stage or (lambda number, total, name: None)
    note = on_note or (lambda text: None)
    stage(1, STAGES, f"train {options.model}")
    out = train(TrainOptions(model=options.model, out=options.out, data=options.data, epochs=options.epochs,
                             limit=options.limit, build_options=options.build_options, verbose=2,
                             force=options.force), on_note=note)
    artifact = Artifact(out)
    stage(2, STAGES, "convert")
    formats = options.formats or tuple(format_names())
    records = convert_artifact(out, ConvertOptions(formats=formats), on_note=note,
                               on_done=lambda record: note(_export_line(record)))
    convert_rows = [record.__dict__ for record in records]
    stage(3, STAGES, "verify")
    verify, verify_text, verify_markdown = _verify(out, options)
    note(verify_text)
    stage(4, STAGES, "bench")
    rows = bench(out, BenchOptions(threads=options.threads, runs=options.bench_runs,
                                   limit_per_class=options.verify_limit), on_note=note)
    write_text_atomic(artifact.bench_path, rows_to_json(rows))
    table = format_table(rows)
    note(table)
    stage(5, STAGES, "report")
    import keras

    summary = model_summary(keras.saving.load_model(artifact.model_path, compile=False))
    md, html = write_report(out, summary, convert_rows, verify_markdown, table, _commands(out))
    return PipelineResult(out, md, html, verify, rows)


def _verify(out: Path, options: PipelineOptions) -> tuple[dict, str, str]:
    """Runs verify; returns ``verify.json``'s content, the tables for the terminal and for the report (fenced).
    Drift is reported, not fatal here."""
    from edgecnn.convert.class_gate import class_table
    from edgecnn.convert.outputs import details_lines, dumps_json, matrix_table, parity_table, to_json
    from edgecnn.convert.verify import VerifyOptions, verify_artifact

    report = verify_artifact(out, VerifyOptions(limit=options.verify_limit, gallery=out / GALLERY))
    data = to_json(report)
    write_text_atomic(Artifact(out).verify_path, dumps_json(report))
    tables = f"{parity_table(report)}\n\n{class_table(report)}\n\n{matrix_table(report)}"
    details = "\n".join(f"- {line}" for line in details_lines(report))
    terminal = f"{tables}\n\n{details}"  # the terminal gets the tables as text; the report gets them fenced
    markdown = f"```\n{tables}\n```\n\n{details}\n\n{gallery_markdown(report)}"
    return data, terminal, markdown


GALLERY = GALLERY_DIR
"""The disagreement gallery's folder in the artifact (``gallery/index.html``); the artifact module lists it among
what edgecnn writes, so a second run replaces it without ``--force``."""


def gallery_markdown(report) -> str:
    """The report's section on images where exports and Keras disagree: counts, the first thumbnails, the page."""
    lines = ["### Where exports and Keras disagree", ""]
    lines += [f"- {name}: {count} of {report.images} images" for name, count in (report.gallery or {}).items()]
    if report.gallery_images:
        lines += ["", " ".join(f"![{Path(p).stem}]({GALLERY}/{p})" for p in report.gallery_images)]
    lines += ["", f"Every one, as the model saw it, with both top-3s and the true label: {GALLERY}/index.html"]
    return "\n".join(lines)


def _commands(out: Path) -> dict[str, str]:
    int8 = Artifact(out).export_path("tflite_int8_uint8io")
    smoke = _smoke_images(out)
    return {
        "live camera": f"edgecnn run --model {int8}",
        "a video or folder, headless": f"edgecnn run --model {int8} --source {smoke or 'VIDEO_OR_FOLDER'} --headless",
        "re-check parity": f"edgecnn verify {out}",
        "benchmark": f"edgecnn bench {out} --threads 4",
        "deploy to a Pi 5": f"edgecnn deploy {out} --profile rpi5 --host pi@raspberrypi"
                            + (f" --smoke-images {smoke}" if smoke else ""),
    }


SMOKE_PER_CLASS = 2


def _smoke_images(out: Path) -> Path | None:
    """For a model trained on idx files (Fashion-MNIST), a few of its held-out images as PNG files.

    ``edgecnn deploy`` takes its smoke-test images from an image-folder data set; idx files are not one, so the
    report's deploy command would fail without ``--smoke-images``. These are :data:`SMOKE_PER_CLASS` images of each
    class of the held-out split (the data stage's sampling rule), written into ``<out>/smoke-images/``. None for
    image-folder models (deploy finds theirs).
    """
    import cv2

    from edgecnn.data.description import DataDescription
    from edgecnn.data.idx import load_fashion_split
    from edgecnn.data.loader import sample_per_class
    from edgecnn.errors import EdgecnnError
    from edgecnn.runtime.atomic import write_bytes_atomic

    description = DataDescription.from_extra(Artifact(out).contract.extra)
    if description is None or description.kind != "fashion_mnist_idx":
        return None
    held_out = description.held_out()
    images, labels = load_fashion_split(held_out.root, held_out.split or "test")
    folder = out / SMOKE_IMAGES_DIR
    picked = sample_per_class(labels, SMOKE_PER_CLASS, seed=0)
    for label in sorted(set(labels[picked].tolist())):
        for number, index in enumerate(picked[labels[picked] == label]):
            ok, png = cv2.imencode(".png", images[index])
            if not ok:
                raise EdgecnnError(f"cannot encode Fashion-MNIST test image {index} as PNG for {folder}")
            write_bytes_atomic(folder / f"class{label}-{number}.png", png.tobytes())
    return folder


def _export_line(record) -> str:
    return f"  {Path(record.path).name}: {record.size_bytes / 1e3:.1f} kB in {record.seconds:.1f} s"
