"""Rock-Paper-Scissors from what the hand landmark model itself sees: its 672-value embedding of the hand + 21 points.

The landmark model's three heads (points, hand presence, handedness) all read one global-average-pooled feature
vector; a classifier on that vector reuses the whole network pretrained on hands, not only the 21 points it ends
in (transfer learning, as the chapter does with InceptionV3's ``mixed7``). Measured on clip-held-out people
(docs/results/hand-features.md), the embedding tells a hand from fur and textures far better than the points do,
and with the points beside it reads the gesture a little better too. The input is the embedding then the 63
:func:`edgecnn.runtime.hand_features.landmark_features`, as one row
(:func:`edgecnn.runtime.hand_features.hand_features`).
"""

from edgecnn.train.spec import ModelSpec

FEATURES = 672 + 63


def build(num_classes: int = 5, name: str = "rps_hand_embedding"):
    """The head on the landmark model's features; ``hand_gestures`` builds the same one with the user's classes."""
    import keras
    from keras import layers

    inputs = keras.Input((1, FEATURES), name="hand_features")
    x = layers.Flatten()(inputs)
    # the embedding (ReLU means, 0 to ~5) and the points (about -2 to 2) on one scale, learned from the data
    x = layers.BatchNormalization()(x)
    x = layers.GaussianNoise(0.1)(x)  # the embedding's jitter between neighbouring frames, seen in training
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="rps_hand_embedding",
    summary="Rock-Paper-Scissors from the hand landmark model's embedding + 21 points, MLP 128-5 with 'none' and "
            "'no_gesture' classes (97,793 params)",
    input_shape=(1, FEATURES),
    dataset="rps",
    output_activation="softmax",
    num_classes=5,  # no_gesture, none, paper, rock, scissors: 'none' is learned from hand-free photos,
    # 'no_gesture' from hands showing another sign or none (other_gesture and no_gesture folders)
    build=build,
    expected_params=97_793,
    epochs=40,
    batch_size=64,
    augment=False,
    lr_schedule="cosine",
    input_kind="hand_embedding",
    source="Chapter 3's Rock, Paper, Scissors with the chapter's transfer-learning idea on the hand network's features",
)
