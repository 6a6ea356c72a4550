"""Horses-or-Humans CNN at 300x300: Conv16/32/64/64/64 with pools, Dense512, sigmoid; RMSprop 1e-3."""

from edgecnn.train.spec import ModelSpec


def build(learning_rate: float = 1e-3):
    import keras
    from keras import layers

    from edgecnn.train.models._layers import image_input

    inputs, x = image_input((300, 300, 3))
    for filters in (16, 32, 64, 64, 64):
        x = layers.Conv2D(filters, (3, 3), activation="relu")(x)
        x = layers.MaxPooling2D(2, 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="probability", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="horses_humans_cnn")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="horses_humans_cnn",
    summary="Horses-or-Humans CNN, 300x300 RGB, sigmoid (1,704,097 params)",
    input_shape=(300, 300, 3),
    dataset="horses_or_humans",
    output_activation="sigmoid",
    num_classes=2,
    build=build,
    expected_params=1_704_097,
    epochs=15,
    batch_size=32,
    augment=True,
    source="Chapter 3, 'Building a CNN to distinguish between horses and humans' (+ 'Image augmentation')",
)
