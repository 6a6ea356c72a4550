"""The Fashion-MNIST deep DNN shared by ``fashion_dnn`` and ``fashion_dnn_dropout``: Flatten-256-128-64-10."""

from __future__ import annotations


def build_dnn(name: str, dropout: float | None):
    import keras
    from keras import layers

    from edgecnn.train.models._layers import image_input

    inputs, x = image_input((28, 28, 1))
    x = layers.Flatten()(x)
    for units in (256, 128, 64):
        x = layers.Dense(units, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
