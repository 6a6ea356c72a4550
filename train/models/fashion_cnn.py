"""Fashion-MNIST CNN: Conv64-Pool-Conv64-Pool-Dense128-Dense10 (the chapter's first convolutional network)."""

from edgecnn.train.spec import ModelSpec


def build():
    import keras
    from keras import layers

    from edgecnn.train.models._layers import image_input

    inputs, x = image_input((28, 28, 1))
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D(2, 2)(x)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D(2, 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="fashion_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="fashion_cnn",
    summary="Fashion-MNIST CNN, 28x28 gray, 10 classes (243,786 params)",
    input_shape=(28, 28, 1),
    dataset="fashion_mnist",
    output_activation="softmax",
    num_classes=10,
    build=build,
    expected_params=243_786,
    epochs=3,
    # Keras's default batch of 32, as the chapter's fit() used. With a constant rate 3 epochs gave 89.2% test
    # accuracy here; decaying it to 0 over the run lands the last epoch in a better minimum.
    batch_size=32,
    lr_schedule="cosine",
    light_on_dark=True,
    source="Chapter 3, 'Convolutional neural networks' on Fashion-MNIST",
)
