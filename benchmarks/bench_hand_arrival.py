"""How long a hard-to-find hand waits to be found in a stream, now that an empty stream runs one look per frame.

    .venv/bin/python benchmarks/bench_hand_arrival.py [--scenes 120]

The hands: rps-real-kaust photos from held-out clips placed into hand-free room photos at 25-55% of a 640x480
frame's height, some cut by its edge (the "scenes" of scripts/measure_hands.py, built the same way: hands the
whole-frame detector often misses). For each scene the finder first sees an empty room (a stream's first frame: the
full search): either the scene's own room held still for 5 frames (a camera on a room; what changes when the hand
comes in is looked at first) or another room (all of the picture changes); then the scene on every frame, as a hand
held still in front of the camera. Each row gives the frame on which the hand is first found. The full search of a
still picture is the reference: a stream finds the same hands, only later (every look runs within
``2 * (looks - 1)`` frames, runtime/hand_search.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FRAME = (480, 640)


def scenes(count: int, seed: int = 7) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(room, the room with a hand in it)`` pairs."""
    from edgecnn.data.composite import CompositeOptions, place_hand
    from edgecnn.data.splits import held_out_clip
    from edgecnn.runtime.images import read_image_rgb

    hands = [p for p in sorted((DATA / "rps-real-kaust" / "train").glob("*/*.jpg")) if held_out_clip(p.name)]
    hands = hands[:: max(1, len(hands) // count)][:count]
    rooms = sorted((DATA / "cats-vs-dogs" / "validation").glob("*/*.jpg"))[::37]
    rng, options = np.random.default_rng(seed), CompositeOptions(frame_size=FRAME)
    pairs = []
    for i, hand in enumerate(hands):
        room = cv2.resize(read_image_rgb(rooms[i % len(rooms)]), FRAME[::-1])
        pairs.append((room, place_hand(room, read_image_rgb(hand), rng, options)))
    return pairs


def frames_to_find(finder, before: list[np.ndarray], scene: np.ndarray, limit: int) -> int | None:
    """The frame (1 = the first) of a stream showing ``scene`` after the ``before`` frames on which the finder first
    finds a hand."""
    finder.reset()
    for frame in before:
        finder.find(frame)
    for frame in range(1, limit + 1):
        if finder.find(scene) is not None:
            return frame
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=120, help="how many composited scenes")
    args = parser.parse_args()
    from edgecnn.runtime.hands import HandFinder
    from edgecnn.runtime.images import read_image_rgb

    finder = HandFinder.open(threads=1)
    other_room = cv2.resize(read_image_rgb(sorted((DATA / "cats-vs-dogs" / "validation").glob("*/*.jpg"))[5]),
                            FRAME[::-1])
    limit = 2 * len(finder.looks(other_room.shape))
    items = scenes(args.scenes)
    stills = [finder.find(scene, track=False) is not None for _, scene in items]
    print(f"{len(items)} scenes (held-out rps-real-kaust hands placed in room photos, 640x480), one thread; a still's "
          f"full search finds a hand in {np.mean(stills):.1%}")
    # a camera on a still room (the scene's own room on 5 frames, then the hand), and every frame another picture
    for name, before in (("the same room, still, then the hand", lambda room: [room] * 5),
                         ("another room, then the scene (all of the picture changes)", lambda room: [other_room])):
        waits = [frames_to_find(finder, before(room), scene, limit) for room, scene in items]
        found = np.array([w for w in waits if w is not None])
        missed = sum(1 for still, wait in zip(stills, waits) if still and wait is None)
        print(f"- {name}: found in {len(found) / len(items):.1%} within {limit} frames"
              + (f"; frames until found p50 {np.median(found):.0f}, p90 {np.percentile(found, 90):.0f}, worst "
                 f"{found.max()}; within 2 frames {np.mean(found <= 2):.0%}, within 10 {np.mean(found <= 10):.0%} of "
                 f"those found" if len(found) else "")
              + f"; found by a still's search but not here: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
