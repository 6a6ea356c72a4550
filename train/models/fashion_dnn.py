"""Fashion-MNIST deep DNN without dropout: Flatten-256-128-64-10 (overfits: compare with fashion_dnn_dropout)."""

from edgecnn.train.spec import ModelSpec


def build():
    from edgecnn.train.models._dnn import build_dnn

    return build_dnn("fashion_dnn", dropout=None)


SPEC = ModelSpec(
    name="fashion_dnn",
    summary="Fashion-MNIST deep DNN 256-128-64-10, no dropout (242,762 params)",
    input_shape=(28, 28, 1),
    dataset="fashion_mnist",
    output_activation="softmax",
    num_classes=10,
    build=build,
    expected_params=242_762,
    epochs=20,
    batch_size=64,
    light_on_dark=True,
    source="Chapter 3, 'Dropout regularization' (the network before dropout)",
)
