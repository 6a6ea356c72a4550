"""The hand finder on paper: model calls and multiply-adds per frame in each state, and what that means on a Pi.

    .venv/bin/python benchmarks/hand_search_cost.py

Counts the multiply-adds of each model from its own graph (CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, the ops
that hold nearly all of them; TFLite's tensor shapes after ``allocate_tensors``), times one call of each here (one
thread, median of 30), and lists each state of ``edgecnn run``'s default (640x480 frames) with its calls:

- tracked: the landmark model on the tracked region, then the classifier;
- searching, which is also the empty room: a stream frame while no hand is tracked runs one look of the search
  (runtime/hand_search.py): one landmark call on most frames, one detector call on the rest (the whole frame on
  one frame in four, the tiles in their turn): both rows, and the mean over a whole turn of the looks;
- the frame a search finds a hand: the whole-frame look finds it, its landmarks read (one landmark call), then
  looked at once more where they say (a second), then the classifier;
- full search: a still picture, or a stream's first frame, with no hand: every look;
- and the empty room before this round (runtime/hands.py until commit 9703018): per frame the whole frame and the
  frame zoomed out, plus one costlier search in turn (4 tiles; 4 whole-frame views; 6 fine tiles; 12 windows at each
  of 3 turns), averaged over its 6-frame turn and at its worst.

The Pi figures divide multiply-adds by a per-core rate derived from a published figure: XNNPACK's README (google/
XNNPACK, "Raspberry Pi" table, benchmarked 2020-02-12) gives MobileNet v2 1.0X (300 M multiply-adds) in 44 ms on a
Raspberry Pi 4 with all four cores; one core at best does a quarter of that work in the same time, so at most
300 M / (4 x 44 ms) = 1.7 G multiply-adds/s per Cortex-A72 core. Raspberry Pi's Pi 5 announcement (2023-09-28) says
"a 2-3x increase in CPU performance relative to Raspberry Pi 4": 3.4-5.1 G/s per core. Those are model time only
(no camera, resize, crop or Python): expect a real frame to take somewhat more.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

PI4_MACS_PER_S = 300e6 / (4 * 0.044)  # XNNPACK README: MobileNet v2 1.0X, 44 ms, Raspberry Pi 4, 4 threads
PI5_SPEEDUP = (2.0, 3.0)  # Raspberry Pi 5 announcement: 2-3x the CPU performance of a Pi 4


def multiply_adds(path: Path) -> int:
    """Multiply-adds of one call of a .tflite model, from its convolution and fully connected ops."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # without the default delegate, every op is listed with its own tensors (XNNPACK folds them into one node)
    interpreter = Interpreter(model_path=str(path), experimental_op_resolver_type=(
        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    interpreter.allocate_tensors()
    shapes = {t["index"]: tuple(t["shape"]) for t in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():  # noqa: SLF001 - the only API that lists a model's ops
        inputs, outputs = op["inputs"], op["outputs"]
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        # each output position (batch x H x W, or batch for FULLY_CONNECTED) takes one multiply-add per weight:
        # CONV_2D weights (Cout, kh, kw, Cin), DEPTHWISE_CONV_2D (1, kh, kw, Cout), FULLY_CONNECTED (units, inputs)
        total += int(np.prod(shapes[outputs[0]][:-1])) * int(np.prod(shapes[inputs[1]]))
    return total


def ms_per_call(path: Path, calls: int = 30) -> float:
    from edgecnn.runtime.backends import open_backend

    backend = open_backend(path, "litert", 1)
    tensor = np.zeros(tuple(1 if d is None else d for d in backend.input.shape), np.float32)
    backend.invoke_all(tensor)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        backend.invoke_all(tensor)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000


def states(looks) -> list[tuple[str, float, float, int]]:
    """``(state, detector calls, landmark calls, classifier calls)`` per frame."""
    from edgecnn.runtime.hand_search import StreamSearch

    full = tuple(map(sum, zip(*(look.calls for look in looks))))
    stream = StreamSearch(looks, (480, 640, 3))
    still = np.zeros((480, 640, 3), np.uint8)
    turn = [stream.next_look(still).calls for _ in range(2 + 4 * ((len(looks) - 1) // 3))]
    mean = tuple(float(np.mean(column)) for column in zip(*turn))
    old_turns = [(4, 0), (0, 4), (6, 0), (0, 12), (0, 12), (0, 12)]  # the searches taking turns before this round
    old_mean = tuple(2 + np.mean([turn[0] for turn in old_turns]) if i == 0 else np.mean([turn[1] for turn in
                     old_turns]) for i in range(2))
    return [("tracked hand", 0, 1, 1),
            ("searching / empty room, most frames: a landmark look", 0, 1, 0),
            ("searching / empty room, the other frames: a detector look (the whole frame on one in four)", 1, 0, 0),
            (f"searching / empty room, mean over a whole turn of the looks ({len(turn)} frames)", *mean, 0),
            ("the frame a search finds a hand (whole-frame look, its landmarks, the second look)", 1, 2, 1),
            ("full search, nothing found (a still; a stream's first frame)", *full, 0),
            ("empty room before this round, mean of its 6-frame turn", *old_mean, 0),
            ("empty room before this round, worst frame (2 detector + 12 windows)", 2, 12, 0)]


def main() -> int:
    from edgecnn.runtime.cli import SHIPPED_MODEL
    from edgecnn.runtime.hand_search import search_looks
    from edgecnn.runtime.hands import LANDMARK_MODEL, PALM_MODEL

    models = {"palm detector": PALM_MODEL, "landmark model": LANDMARK_MODEL, "classifier": SHIPPED_MODEL}
    macs = {name: multiply_adds(path) for name, path in models.items()}
    here = {name: ms_per_call(path) for name, path in models.items()}
    print("| model | multiply-adds per call | ms per call here (1 thread) |\n|---|---|---|")
    for name, path in models.items():
        print(f"| {name} ({path.name}) | {macs[name] / 1e6:.1f} M | {here[name]:.2f} |")
    print("\n| state (640x480 frame, default model) | detector calls | landmark calls | multiply-adds | "
          "models here, ms | Pi 4 core, ms | Pi 5 core, ms |\n|---|---|---|---|---|---|---|")
    for state, palm, landmark, classifier in states(search_looks((480, 640, 3))):
        total = palm * macs["palm detector"] + landmark * macs["landmark model"] + classifier * macs["classifier"]
        local = palm * here["palm detector"] + landmark * here["landmark model"] + classifier * here["classifier"]
        pi4 = total / PI4_MACS_PER_S * 1000
        pi5 = " - ".join(f"{pi4 / speedup:.0f}" for speedup in PI5_SPEEDUP[::-1])
        print(f"| {state} | {palm:.3g} | {landmark:.3g} | {total / 1e6:.0f} M | {local:.1f} | {pi4:.0f} | {pi5} |")
    print(f"\nPi 4 core: {PI4_MACS_PER_S / 1e9:.2f} G multiply-adds/s (XNNPACK README, MobileNet v2 1.0X 44 ms on 4 "
          f"cores, as if one core did a quarter); Pi 5 core: {PI5_SPEEDUP[0]:g}-{PI5_SPEEDUP[1]:g}x that (Raspberry "
          f"Pi 5 announcement). Model time only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
