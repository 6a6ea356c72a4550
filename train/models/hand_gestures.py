"""Your own gestures (``edgecnn record``), read from the hand landmark model's embedding + 21 points.

The same input and head as ``rps_hand_embedding``, with the classes read from ``--data DIR/train/<class>/`` folders
(any names, two or more) and two outcomes of its own: ``no_gesture`` (trained on the shipped sets' hands showing
other signs or none, :mod:`edgecnn.train.gesture_data`) and ``none`` (the hands the finder imagines in hand-free
photos). The embedding is the landmark model's own view of the hand, pretrained on many hands: a few hundred frames
of yours are enough for the small head on top (transfer learning, as the chapter does with InceptionV3).
"""

from edgecnn.train.models import rps_hand_embedding
from edgecnn.train.spec import ModelSpec

FEATURES = rps_hand_embedding.FEATURES
EXAMPLE_CLASSES = 5
"""The class count of the registry's example build (three gestures, ``no_gesture``, ``none``); training builds one
output per class found in the data."""


def build(num_classes: int = EXAMPLE_CLASSES):
    return rps_hand_embedding.build(num_classes, name="hand_gestures")


def load_data(options):
    """The frames of ``options.data`` (your recordings) with the shipped negatives and hand-free photos."""
    from pathlib import Path

    from edgecnn.train.gesture_data import GestureSources, load_gesture_data

    return load_gesture_data(GestureSources(tuple(Path(p) for p in options.data),
                                            no_hand_roots=tuple(Path(p) for p in options.no_hand_data),
                                            limit=options.limit, seed=options.seed))


SPEC = ModelSpec(
    name="hand_gestures",
    summary="your own gestures (edgecnn record DIR --label NAME; --data DIR) from the hand landmark model's "
            "embedding + 21 points, MLP 128-N with 'no_gesture' and 'none' (97,148 + 129 per output)",
    input_shape=(1, FEATURES),
    dataset="rps",  # unused: load_data reads --data
    output_activation="softmax",
    num_classes=EXAMPLE_CLASSES,
    build=build,
    expected_params=97_793,
    epochs=40,
    batch_size=64,
    augment=False,
    lr_schedule="cosine",
    input_kind="hand_embedding",
    source="the chapter's transfer learning, on the hand landmark model's features, with classes you record",
    load_data=load_data,
)
