"""Cats-vs-dogs CNN at 64x64: 4 x [Conv32 3x3 'same' relu + MaxPool 2/2 'valid'], Dense128, sigmoid; adam."""

from edgecnn.train.spec import ModelSpec


def build():
    import keras
    from keras import layers

    from edgecnn.train.models._layers import image_input

    inputs, x = image_input((64, 64, 3))
    for _ in range(4):
        x = layers.Conv2D(32, (3, 3), padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(pool_size=2, strides=2, padding="valid")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="probability", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="cats_dogs_cnn")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="cats_dogs_cnn",
    summary="Cats-vs-dogs CNN, 64x64 RGB, sigmoid (94,433 params)",
    input_shape=(64, 64, 3),
    dataset="cats_vs_dogs",
    output_activation="sigmoid",
    num_classes=2,
    build=build,
    expected_params=94_433,
    epochs=25,
    batch_size=32,
    augment=True,
    source="The chapter's cats-vs-dogs notebook (64x64 CNN)",
)
