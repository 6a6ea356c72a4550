"""Rock-Paper-Scissors from the hand landmark model's 21 points: a small MLP on top of a network pretrained on hands.

The chapter's answer to too little data is transfer learning; MediaPipe's hand landmark model is a network trained
on hands of many people in many rooms, and its 21 points carry the gesture without the face, the shirt or the wall.
The features (:func:`edgecnn.runtime.hand_features.landmark_features`) are position-, size- and roll-free; the model
sees ``(21, 3)`` of them and learns the rest.
"""

from edgecnn.train.spec import ModelSpec


def build():
    import keras
    from keras import layers

    inputs = keras.Input((21, 3), name="landmarks")
    x = layers.Flatten()(inputs)
    x = layers.GaussianNoise(0.03)(x)  # the landmark model's jitter between frames, seen in training
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(5, activation="softmax", name="probabilities", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="rps_landmarks")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="rps_landmarks",
    summary="Rock-Paper-Scissors from MediaPipe's 21 hand landmarks, MLP 128-64-5 with 'none' and 'no_gesture' "
            "classes (16,773 params)",
    input_shape=(21, 3),
    dataset="rps",
    output_activation="softmax",
    num_classes=5,  # no_gesture, none, paper, rock, scissors: 'none' is learned from hand-free photos,
    # 'no_gesture' from hands showing another sign or none (other_gesture and no_gesture folders)
    build=build,
    expected_params=16_773,
    epochs=60,
    batch_size=64,
    augment=False,
    lr_schedule="cosine",
    input_kind="hand_landmarks",
    source="Chapter 3's Rock, Paper, Scissors with the chapter's transfer-learning idea on a hand network",
)
