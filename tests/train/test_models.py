"""Every registered model builds with the chapter's exact parameter count and takes raw 0-255 pixels."""

import pytest

from edgecnn.train.registry import build_model, get_spec, model_names


def test_registry_lists_the_chapters_models():
    assert {"fashion_cnn", "fashion_dnn", "fashion_dnn_dropout", "horses_humans_cnn", "inception_transfer",
            "rps_cnn", "cats_dogs_cnn"} <= set(model_names())


@pytest.mark.parametrize("name", model_names())
def test_model_builds_with_documented_parameter_count(name):
    spec = get_spec(name)
    options = {"weights": "random"} if name == "inception_transfer" else {}
    model = build_model(name, **options)
    assert model.count_params() == spec.expected_params
    assert tuple(model.input_shape[1:]) == spec.input_shape
    units = 1 if spec.output_activation == "sigmoid" else spec.num_classes
    assert model.output_shape[-1] == units
    # Scaling is inside the graph, so exports take the camera's 0-255 pixels as they are (image models; a hand
    # landmark model reads the finder's features, already free of position and size).
    if spec.input_kind == "image":
        assert model.layers[1].__class__.__name__ == "Rescaling"
    assert model.optimizer is not None and model.loss


def test_chapter_numbers_in_the_issue():
    assert get_spec("fashion_cnn").expected_params == 243_786
    assert get_spec("horses_humans_cnn").expected_params == 1_704_097


def test_inception_freezes_all_but_the_last_ten_base_layers():
    model = build_model("inception_transfer", weights="random")
    names = [layer.name for layer in model.layers]
    base = model.layers[names.index("rescale") + 1: names.index("mixed7") + 1]
    trainable = [layer.name for layer in base if layer.trainable]
    assert len(trainable) == 10 and trainable[-1] == "mixed7"


def test_unknown_model_lists_the_valid_names():
    from edgecnn.train.errors import UnknownModelError

    with pytest.raises(UnknownModelError, match="fashion_cnn"):
        get_spec("lenet")
