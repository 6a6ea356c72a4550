"""InceptionV3 transfer learning: 150x150, cut at ``mixed7``, Flatten, Dense1024 relu, Dense1 sigmoid; RMSprop 1e-4.

The base is frozen except its last 10 layers. Inputs are raw 0-255 pixels; the graph maps them to InceptionV3's
[-1, 1] (``x / 127.5 - 1``, what ``inception_v3.preprocess_input`` does) so ImageNet weights see what they expect.
"""

from __future__ import annotations

from edgecnn.train.spec import ModelSpec

WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
TRAINABLE_TAIL = 10


def build(weights: str = "imagenet", learning_rate: float = 1e-4):
    """``weights``: ``"imagenet"`` (Keras downloads and caches them), a path to the no-top ``.h5``, or ``"random"``."""
    import keras
    from keras import layers

    from edgecnn.train.models._layers import image_input
    from edgecnn.train.weights import resolve_inception_weights

    weights_path = resolve_inception_weights(weights, WEIGHTS_FILE)
    inputs, x = image_input((150, 150, 3), scale=1.0 / 127.5, offset=-1.0)
    base = keras.applications.InceptionV3(input_tensor=x, include_top=False, weights=None)
    if weights_path is not None:
        base.load_weights(weights_path)
    cut = base.get_layer("mixed7").output
    base_layers = [layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)]
    last_index = base_layers.index(base.get_layer("mixed7"))
    for index, layer in enumerate(base_layers[: last_index + 1]):
        layer.trainable = index > last_index - TRAINABLE_TAIL
    x = layers.Flatten()(cut)
    x = layers.Dense(1024, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="probability", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="inception_transfer")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


SPEC = ModelSpec(
    name="inception_transfer",
    summary="InceptionV3 cut at mixed7 + Dense1024 + sigmoid, 150x150 RGB (horses or humans)",
    input_shape=(150, 150, 3),
    dataset="horses_or_humans",
    output_activation="sigmoid",
    num_classes=2,
    build=build,
    expected_params=47_512_481,
    epochs=5,
    batch_size=32,
    augment=True,
    source="Chapter 3, 'Transfer learning' (InceptionV3, layer mixed7)",
    build_options={"weights": "'imagenet' (download), a path to the no-top .h5, or 'random'"},
    untrained_options={"weights": "random"},
)
