"""Fashion-MNIST deep DNN with Dropout(0.2) after each hidden Dense layer (the chapter's dropout example)."""

from edgecnn.train.spec import ModelSpec


def build():
    from edgecnn.train.models._dnn import build_dnn

    return build_dnn("fashion_dnn_dropout", dropout=0.2)


SPEC = ModelSpec(
    name="fashion_dnn_dropout",
    summary="Fashion-MNIST deep DNN 256-128-64-10 with Dropout(0.2) (242,762 params)",
    input_shape=(28, 28, 1),
    dataset="fashion_mnist",
    output_activation="softmax",
    num_classes=10,
    build=build,
    expected_params=242_762,
    epochs=20,
    batch_size=64,
    light_on_dark=True,
    source="Chapter 3, 'Dropout regularization'",
)
