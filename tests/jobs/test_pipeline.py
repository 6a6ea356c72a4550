"""``edgecnn pipeline`` end to end: one epoch on a slice of real data, and a report whose sections hold numbers."""

import json
import re
import shutil
from pathlib import Path

import cv2
import pytest
from jobs_helpers import edgecnn_in

from cli_helpers import error_lines, headless_chromium

FORMATS = ("tflite_float32", "tflite_int8_uint8io", "onnx_float32")
# The fixture's command, in a working directory of its own (nothing from the checkout's artifacts/ is seen).
COMMAND = ("pipeline", "fashion_cnn", "--epochs", "1", "--limit", "60", "--verify-limit", "20", "--formats", *FORMATS)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("pipeline") / "fashion_cnn"
    result = edgecnn_in(tmp_path_factory.mktemp("cwd"), *COMMAND, "--out", out, timeout=900)
    return out, result


def test_pipeline_runs_every_stage(pipeline_run):
    out, result = pipeline_run
    # Every export of this model passes verify (float32: bit-level parity; int8: within its tolerance), so the
    # pipeline exits 0; exit 1 means an export drifted, and that is a failure here, not a complete report.
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-2000:])
    assert "some exports failed verification" not in result.stdout
    for stage in ("[1/5] train", "[2/5] convert", "[3/5] verify", "[4/5] bench", "[5/5] report"):
        assert stage in result.stdout
    for name in ("model.keras", "report.md", "report.html", "verify.json", "bench.json", "curves.png",
                 "confusion.png", *(f"model_{f}.tflite" for f in FORMATS[:2]), "model_onnx_float32.onnx"):
        assert (out / name).is_file(), name


def test_report_sections_hold_real_numbers(pipeline_run):
    out, _ = pipeline_run
    report = (out / "report.md").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"{metrics['eval_accuracy']:.2%}" in report and metrics["eval_count"] == 600
    assert "243,786" in report  # the model summary's total
    bench = json.loads((out / "bench.json").read_text())
    verify = json.loads((out / "verify.json").read_text())
    assert set(verify["exports"]) == {p.name for p in out.glob("model_*.*") if p.suffix in (".tflite", ".onnx")}
    for row in bench:
        assert row["error"] is None and row["latency_p50_ms"] > 0
        # bench reads the same held-out images as verify (same split, same --verify-limit sample): its accuracy of
        # each export is verify's accuracy of that export, image for image
        assert row["images"] == verify["images"] == 200
        assert row["accuracy"] == pytest.approx(verify["exports"][row["file"]]["accuracy"]), row
        assert row["verify_status"] == verify["exports"][row["file"]]["status"] == "passed"
        assert f"| {row['file']} | {row['backend']}" in report
    tolerances = {entry["format"]: entry["tolerance"] for entry in verify["formats"]}
    for name, entry in verify["exports"].items():
        # top-1 agreement with Keras at least what the format's registered tolerance demands (1.0 for float32)
        assert entry["agreement"] >= tolerances[entry["format"]]["min_agreement"], (name, entry)
        if entry["format"].endswith("float32"):
            assert entry["agreement"] == 1.0 and entry["accuracy"] == entry["keras_accuracy"], (name, entry)
    # every table row of the exports section names a real file with a size
    exports = re.findall(r"\| (\w+) \| (model_\w+\.\w+) \| ([\d.]+) (?:kB|MB) \|", report)
    assert {row[1] for row in exports} == set(verify["exports"])
    assert "edgecnn run --model" in report and "edgecnn deploy" in report
    assert "### Where exports and Keras disagree" in report and (out / "gallery" / "index.html").is_file()
    assert all(f"- {name}: {count} of {verify['images']} images" in report for name, count in verify["gallery"].items())
    html = (out / "report.html").read_text()
    assert "<table>" in html and 'src="curves.png"' in html and 'src="confusion.png"' in html



def test_report_page_in_a_real_browser_shows_no_raw_markdown(pipeline_run):
    from selenium.webdriver.common.by import By

    out, _ = pipeline_run
    browser = headless_chromium()
    try:
        browser.get((out / "report.html").as_uri())
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "**" not in text and "`" not in text, [line for line in text.splitlines() if "`" in line or "**" in line]
        # the commands are code, the list items sit in a list, both pictures load
        commands = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "ul > li code")]
        assert any(command.startswith("edgecnn run --model") for command in commands), commands
        assert not browser.find_elements(By.XPATH, "//li[not(parent::ul) and not(parent::ol)]")
        for image in browser.find_elements(By.TAG_NAME, "img"):
            assert browser.execute_script("return arguments[0].naturalWidth", image) > 0, image.get_attribute("src")
        # the layer table keeps its parameter column, with the model's total
        headers = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "th")]
        assert "params" in headers and "Total params: 243,786" in text
    finally:
        browser.quit()

def test_results_page_is_built_from_the_files_the_commands_wrote(pipeline_run, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    out, _ = pipeline_run
    verify = edgecnn_in(tmp_path, "verify", out, "--limit", "10", "--json", out / "verify-heldout.json")
    assert verify.returncode == 0, verify.stderr  # 0: every export passed on these 100 images too
    assert json.loads((out / "verify-heldout.json").read_text())["passed"] is True
    page = tmp_path / "docs" / "results.md"
    script = Path(__file__).resolve().parents[2] / "scripts" / "results_page.py"
    result = subprocess.run([sys.executable, script, out, "--out", page], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    report = json.loads((out / "verify-heldout.json").read_text())
    assert f"| fashion_cnn | 1 | {100 * metrics['train_accuracy']:.2f}% | {100 * metrics['eval_accuracy']:.2f}%" in text
    int8 = next(e for e in report["formats"] if e["format"] == "tflite_int8_uint8io")
    assert (f"{int8['parity']['accuracy']:.2f}% (tflite_int8_uint8io on fashion-mnist (test)) | 91.50% | **no** |"
            in text.replace("datasets/fashion-mnist", "fashion-mnist"))
    assert f"| tflite_int8_uint8io | {int8['size_bytes'] / 1e6:.2f} MB |" in text
    assert (page.parent / "results" / "fashion_cnn-curves.png").is_file() and "results/fashion_cnn-curves.png" in text
    # the page rebuilds from the saved record alone, once the artifact folder is gone
    record = page.parent / "results" / "records" / f"{out.name}.json"
    assert json.loads(record.read_text())["metrics"] == metrics
    page.unlink()
    rebuilt = subprocess.run([sys.executable, script, "--out", page], capture_output=True, text=True)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert page.read_text() == text


def test_report_page_in_a_real_browser_shows_tables_not_markdown(pipeline_run):
    """The HTML report as a reader sees it (headless Chromium): the benchmark's peak-RSS column holds each row's own
    figure, and no Markdown syntax (fences, table pipes, image links, heading hashes) is left in the visible text.
    Checks visible text only, so it holds for whichever Markdown renderer writes the page."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    out, _ = pipeline_run
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        browser.get((out / "report.html").as_uri())
        text = browser.find_element(By.TAG_NAME, "body").text
        tables = browser.find_elements(By.TAG_NAME, "table")
        bench_table = next(t for t in tables if "peak RSS" in t.text)
        header = [cell.text for cell in bench_table.find_elements(By.CSS_SELECTOR, "tr:first-child > *")]
        rss_column = next(i for i, name in enumerate(header) if "peak RSS" in name)
        rows = bench_table.find_elements(By.CSS_SELECTOR, "tr")[1:]
        shown = [float(row.find_elements(By.CSS_SELECTOR, "td")[rss_column].text) for row in rows]
        images = {img.get_attribute("alt"): img.get_property("naturalWidth")
                  for img in browser.find_elements(By.TAG_NAME, "img")}
    finally:
        browser.quit()
    bench = json.loads((out / "bench.json").read_text())
    assert shown == [round(row["peak_rss_mb"]) for row in bench]
    # a runtime-only worker's own peak: far below the TensorFlow parent's (~1.3 GB before, ~100 MB now)
    assert all(5 < mb < 600 for mb in shown), shown
    for markdown in ("```", "|---", "| ", "![", "](", "\n#", "**"):
        assert markdown not in text, markdown
    assert all(width > 0 for width in images.values()) and len(images) >= 2  # curves and confusion matrix load


def test_report_commands_work_on_the_demo_model(pipeline_run, tmp_path):
    """The deploy command of a Fashion-MNIST report names real smoke images (idx files are no image folder), and
    they are what the bundle classifies: the bundle step of 'edgecnn deploy' accepts them."""
    import shlex

    from edgecnn.devices.smoke import pick_smoke_images

    out, _ = pipeline_run
    report = (out / "report.md").read_text()
    deploy = shlex.split(re.search(r"deploy to a Pi 5: `([^`]+)`", report).group(1))
    smoke = Path(deploy[deploy.index("--smoke-images") + 1])
    images = pick_smoke_images([smoke])
    assert len(images) == 20 and all(cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape == (28, 28) for p in images)
    headless = shlex.split(re.search(r"a video or folder, headless: `([^`]+)`", report).group(1))
    done = edgecnn_in(tmp_path, *headless[1:])
    assert done.returncode == 0, done.stderr
    assert len([line for line in done.stdout.splitlines() if line.startswith("{")]) == 20


def _demo_folder(pipeline_run, cwd: Path) -> Path:
    """A copy of the fixture's finished artifact folder where ``make demo`` keeps its own: ``artifacts/demo/...``
    under ``cwd``."""
    out, _ = pipeline_run
    demo = cwd / "artifacts" / "demo" / "fashion_cnn"
    shutil.copytree(out, demo)
    return demo


def test_the_pipeline_runs_twice_on_one_folder(pipeline_run, tmp_path):
    """``make demo`` twice in one clone: the second run replaces the first one's folder, gallery/ and smoke-images/
    included (edgecnn wrote them), with no --force; what it writes is all new (a stale file in gallery/ is gone)."""
    demo = _demo_folder(pipeline_run, tmp_path)
    assert (demo / "gallery" / "index.html").is_file() and any((demo / "smoke-images").iterdir())
    (demo / "gallery" / "stale.png").write_bytes(b"from the first run")
    before = (demo / "model.keras").read_bytes()
    again = edgecnn_in(tmp_path, "pipeline", "fashion_cnn", "--out", "artifacts/demo/fashion_cnn", "--epochs", "1",
                       "--limit", "20", "--verify-limit", "5", "--formats", "tflite_float32", timeout=900)
    assert again.returncode == 0, (again.stdout[-2000:], again.stderr[-2000:])
    assert "[5/5] report" in again.stdout and "--force" not in again.stderr
    assert not (demo / "gallery" / "stale.png").exists() and (demo / "gallery" / "index.html").is_file()
    assert len(list((demo / "smoke-images").glob("*.png"))) == 20
    assert (demo / "model.keras").read_bytes() != before  # trained again: 20 images per class, not 60
    assert json.loads((demo / "metrics.json").read_text())["eval_count"] == 200
    assert set(json.loads((demo / "verify.json").read_text())["exports"]) == {"model_tflite_float32.tflite"}


def test_a_users_file_in_the_folder_still_needs_force(pipeline_run, tmp_path):
    """A file of the user's beside edgecnn's stops the second run at once, names the file, and is kept."""
    demo = _demo_folder(pipeline_run, tmp_path)
    (demo / "notes.txt").write_text("my notes")
    model = (demo / "model.keras").read_bytes()
    again = edgecnn_in(tmp_path, "pipeline", "fashion_cnn", "--out", "artifacts/demo/fashion_cnn", "--epochs", "1",
                       "--limit", "20", "--formats", "tflite_float32", timeout=300)
    assert again.returncode == 2, again.stderr
    assert error_lines(again.stderr) == [
        "edgecnn pipeline: error: --out artifacts/demo/fashion_cnn: this artifact folder also holds files edgecnn "
        "did not write (notes.txt); training replaces the whole folder: move them, pick a new --out, or pass --force "
        "to delete them too"]
    assert "[2/5]" not in again.stdout  # refused before training, not after
    assert (demo / "notes.txt").read_text() == "my notes" and (demo / "model.keras").read_bytes() == model


def test_the_guard_tells_edgecnns_entries_from_the_users(tmp_path):
    """gallery/ and smoke-images/ are edgecnn's as folders only; a leftover of an interrupted atomic write of one of
    edgecnn's names is edgecnn's; anything else is the user's."""
    from edgecnn.data.artifact import written_by_edgecnn

    (tmp_path / "gallery").mkdir()
    (tmp_path / "smoke-images").write_text("a file the user named so")
    (tmp_path / "my-plots").mkdir()
    for name in ("report.md", "verify-heldout.json", "device-report-pi_raspberrypi.json", ".report.html.123.ab.tmp",
                 ".model.keras.old-77", "notes.txt", ".notes.txt.123.ab.tmp"):
        (tmp_path / name).write_text("x")
    owned = {p.name for p in tmp_path.iterdir() if written_by_edgecnn(p)}
    assert owned == {"gallery", "report.md", "verify-heldout.json", "device-report-pi_raspberrypi.json",
                     ".report.html.123.ab.tmp", ".model.keras.old-77"}
