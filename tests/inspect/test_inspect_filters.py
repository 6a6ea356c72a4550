"""``edgecnn inspect filters``: hand-written kernels and 2x2 max pooling on real photos, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from inspect_fixtures import filter_by_hand, first_image, max_of_2x2

from edgecnn.inspect.errors import InspectError
from edgecnn.inspect.filters import filter_image_file
from edgecnn.inspect.kernels import get_kernel, kernel_names
from edgecnn.inspect.pictures import filter_picture
from edgecnn.inspect.render import write_png
from edgecnn.runtime.images import read_image_rgb


@pytest.fixture(scope="module")
def horse_photo(shared_data):
    return first_image(shared_data / "horses-or-humans" / "validation" / "horses")  # 300x300


@pytest.fixture(scope="module")
def pi_photo(shared_data):
    return first_image(shared_data / "rps-real-pi" / "validation")  # 150 high x 225 wide: odd after filtering


@pytest.mark.parametrize("kernel_name", kernel_names())
def test_filter_then_pool_sizes_and_values(kernel_name, horse_photo):
    result = filter_image_file(horse_photo, get_kernel(kernel_name))
    assert result.original.shape == (300, 300)
    assert result.filtered.shape == (298, 298)
    assert result.pooled.shape == (149, 149)
    gray = cv2.cvtColor(read_image_rgb(horse_photo), cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(result.original, gray)
    np.testing.assert_allclose(result.filtered, filter_by_hand(gray, get_kernel(kernel_name).array), atol=1e-3)
    np.testing.assert_array_equal(result.pooled, max_of_2x2(result.filtered))
    assert result.filtered.max() > 0, "a real photo must give some filter response"


def test_odd_sizes_drop_the_last_row_and_column_like_keras(pi_photo):
    result = filter_image_file(pi_photo, get_kernel("horizontal"))
    assert result.original.shape == (150, 225)
    assert result.filtered.shape == (148, 223)
    assert result.pooled.shape == (74, 111)
    np.testing.assert_array_equal(result.pooled, max_of_2x2(result.filtered))


def test_vertical_and_horizontal_kernels_see_different_lines(horse_photo):
    vertical = filter_image_file(horse_photo, get_kernel("vertical")).filtered
    horizontal = filter_image_file(horse_photo, get_kernel("horizontal")).filtered
    assert not np.allclose(vertical, horizontal)


@pytest.mark.parametrize("text", ["[[0, 1, 0], [1, -4, 1], [0, 1, 0]]", "0 1 0\n1 -4 1  # centre\n0, 1, 0\n"])
def test_kernel_file_json_or_text(tmp_path, text, horse_photo):
    path = tmp_path / "laplace.txt"
    path.write_text(text)
    kernel = get_kernel(str(path))
    assert kernel.weights == get_kernel("edge").weights
    np.testing.assert_array_equal(filter_image_file(horse_photo, kernel).filtered,
                                  filter_image_file(horse_photo, get_kernel("edge")).filtered)


@pytest.mark.parametrize("text, expected", [
    ("1 2 3\n4 5 6\n", "expected a 3x3 kernel"),
    ("[[1, 2, 3], [4, 5], [7, 8, 9]]", "expected a 3x3 kernel"),
    ("a b c\n1 2 3\n4 5 6", "could not parse"),
    ("1 2 3\n4 nan 6\n7 8 9", "non-finite"),
])
def test_bad_kernel_file_names_the_file(tmp_path, text, expected):
    path = tmp_path / "bad.kernel"
    path.write_text(text)
    with pytest.raises(InspectError, match=expected) as err:
        get_kernel(str(path))
    assert str(path) in str(err.value)


def test_unknown_kernel_lists_the_choices():
    with pytest.raises(InspectError, match="vertical, horizontal, sharpen"):
        get_kernel("diagonal")


def test_picture_is_written_as_png_with_all_three_stages(tmp_path, horse_photo):
    result = filter_image_file(horse_photo, get_kernel("vertical"))
    out = write_png(tmp_path / "filters.png", filter_picture(result))
    picture = cv2.imread(str(out))
    # Three panels at one scale (original 280 wide at the default) side by side, plus gaps and borders.
    assert picture.shape[1] >= 280 + 278 + 139
    assert out.stat().st_size < 300_000
    with pytest.raises(InspectError, match="ending in .png"):
        write_png(tmp_path / "filters.jpg", filter_picture(result))


def test_cli_writes_the_picture(edgecnn_cli, tmp_path, horse_photo):
    out = tmp_path / "f.png"
    done = edgecnn_cli("inspect", "filters", horse_photo, "--kernel", "sharpen", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "300x300 -> 298x298 -> 149x149" in done.stdout
    assert cv2.imread(str(out)) is not None


def test_cli_corrupt_image_is_one_line_error(edgecnn_cli, tmp_path, horse_photo):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(horse_photo.read_bytes()[:200])  # a real JPEG header cut short
    done = edgecnn_cli("inspect", "filters", corrupt, "--out", tmp_path / "x.png")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert str(corrupt) in lines[0] and "not a readable image" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_filters_need_no_tensorflow():
    code = ("import sys, json; import edgecnn.inspect.cli, edgecnn.inspect.filters, edgecnn.inspect.pictures; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
