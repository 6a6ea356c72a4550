"""``--mixed-precision`` (every model keeps a float32 output; a tiny run trains and exports) and the tf.data pipeline
(shards, decoding files through the runtime's loader)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.train.input_pipeline import Shard, make_dataset
from edgecnn.train.precision import dtype_policy
from edgecnn.train.registry import get_spec, model_names


@pytest.mark.parametrize("name", model_names())
def test_every_model_keeps_a_float32_output_under_mixed_precision(name):
    options = {"weights": "random"} if name == "inception_transfer" else {}
    with dtype_policy("mixed_float16"):
        model = get_spec(name).build(**options)
    assert str(model.outputs[0].dtype) == "float32"
    hidden = [layer for layer in model.layers if layer.__class__.__name__ in ("Dense", "Conv2D")][0]
    assert hidden.compute_dtype == "float16" and hidden.variable_dtype == "float32"
    assert model.optimizer.__class__.__name__ == "LossScaleOptimizer"  # compile wraps it under the policy


def test_mixed_precision_run_trains_and_its_artifact_exports_to_tflite(tmp_path, fashion_mnist_dir):
    import json

    import keras
    import tensorflow as tf

    from edgecnn.convert.quantization import Quantization
    from edgecnn.convert.tflite_export import export_tflite
    from edgecnn.train.fit import TrainOptions, train

    lines = []
    out = train(TrainOptions(model="fashion_dnn", out=tmp_path / "run", data=(fashion_mnist_dir,), epochs=1,
                             batch_size=32, limit=3, mixed_precision=True, verbose=0, strategy="one-device",
                             report=lines.append))
    assert any("strategy one-device" in line and "devices here" in line for line in lines)
    assert json.loads((out / "metrics.json").read_text())["mixed_precision"] is True
    model = keras.models.load_model(out / "model.keras")
    assert all(layer.compute_dtype == "float32" for layer in model.layers[1:])  # the artifact is plain float32
    export_tflite(model, tmp_path / "model.tflite", Quantization.float32())
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "model.tflite"))
    interpreter.allocate_tensors()
    image = np.random.default_rng(0).integers(0, 256, (1, 28, 28, 1)).astype(np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    lite = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(lite, model.predict(image, verbose=0), atol=1e-5)


def test_shards_split_the_examples_and_every_worker_takes_the_same_number():
    images = np.arange(11 * 2 * 2, dtype=np.uint8).reshape(11, 2, 2, 1)
    labels = np.arange(11, dtype=np.int64)
    seen = []
    for index in range(2):
        batches = list(make_dataset(images, labels, 2, shuffle=True, shard=Shard(2, index)))
        seen.append(np.concatenate([y.numpy() for _, y in batches]))
    assert [len(s) for s in seen] == [5, 5] and not set(seen[0]) & set(seen[1])


def test_pipeline_decodes_files_with_the_runtime_loader(shared_data):
    from edgecnn.runtime.images import load_for_model

    files = sorted((shared_data / "cats-vs-dogs" / "validation" / "cats").glob("*.jpg"))[:5]
    expected = np.stack([load_for_model(p, (64, 64)) for p in files])
    dataset = make_dataset(np.empty((len(files), 64, 64, 3), np.uint8), np.zeros(len(files), np.int64), 5,
                           fetch=lambda i: load_for_model(files[i], (64, 64)))
    for _ in range(2):  # the second pass comes from the cache
        (pixels, _), = list(dataset)
        np.testing.assert_array_equal(pixels.numpy(), expected.astype(np.float32))
