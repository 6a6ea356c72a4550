"""Rock-Paper-Scissors CNN at 150x150: Conv64/64/128/128 with pools, Dropout 0.5, Dense512, Dense3 softmax."""

from edgecnn.train.spec import ModelSpec


def build():
    import keras
    from keras import layers

    from edgecnn.train.models._layers import image_input

    inputs, x = image_input((150, 150, 3))
    for filters in (64, 64, 128, 128):
        x = layers.Conv2D(filters, (3, 3), activation="relu")(x)
        x = layers.MaxPooling2D(2, 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(512, activation="relu")(x)
    outputs = layers.Dense(3, activation="softmax", name="probabilities", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="rps_cnn")
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="rps_cnn",
    summary="Rock-Paper-Scissors CNN, 150x150 RGB, 3-way softmax (3,473,475 params)",
    input_shape=(150, 150, 3),
    dataset="rps",
    output_activation="softmax",
    num_classes=3,
    build=build,
    expected_params=3_473_475,
    epochs=25,
    batch_size=32,
    augment=True,
    augmentation="real_hands",  # chapter geometry + colour jitter: webcam light and white balance must not matter
    source="Chapter 3, 'The Rock, Paper, Scissors dataset' (multiclass classification)",
)
