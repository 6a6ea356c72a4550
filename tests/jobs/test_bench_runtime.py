"""benchmarks/bench_runtime.py, run once as a user runs it (a check of this project reads its rows (f) and (h), the
hand-arrival line and the peak-RSS line): every row and line it promises is printed, with numbers that can be read."""

from __future__ import annotations

import re
import subprocess
import sys

from cli_helpers import REPO


def test_bench_runtime_prints_every_row_and_line(shared_data):
    for name in ("rps-real-pi", "cats-vs-dogs", "rps-webcam-subhih"):  # the bench reads them from ../shared/data
        assert (shared_data / name).is_dir()
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_runtime.py"), "--frames", "10",
                             "--rounds", "1", "--skip-keras", "--arrivals", "3"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {name: numbers for name, *numbers in re.findall(
        r"^\| \((\w'?)\) .*?\| ([\d.]+) \| ([\d.]+) \| \d+ \| (\d+) \|$", result.stdout, re.MULTILINE)}
    assert {"a", "b", "c", "e", "f", "g", "h"} <= set(rows), result.stdout
    for name, (p50, p90, frames) in rows.items():
        assert 0 < float(p50) <= float(p90) and int(frames) == 9, (name, result.stdout)  # the first frame is left out
    ratio = re.search(r"^\(h\)/\(f\) per frame: p50 ([\d.]+)x .* p90 ([\d.]+)x", result.stdout, re.MULTILINE)
    assert ratio and float(ratio[1]) > 0 and float(ratio[2]) > 0, result.stdout
    arrival = re.search(r"^\(i\) a hand coming into view .*\(3 webcam videos.*p50 (\d+), worst (\d+) ", result.stdout,
                        re.MULTILINE)
    assert arrival and 1 <= int(arrival[1]) <= int(arrival[2]) <= 12, result.stdout
    rss = re.search(r"default model with both hand models .*: ([\d.]+) s .*peak RSS (\d+) MB", result.stdout)
    assert rss and 0 < float(rss[1]) and 20 < int(rss[2]) < 1000, result.stdout
