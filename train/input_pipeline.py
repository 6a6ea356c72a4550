"""tf.data input pipelines (batches, augmentation, label encoding), the learning-rate schedule and the tf.distribute
strategy for training."""

from __future__ import annotations

import numpy as np

from edgecnn.train.augment import AugmentOptions, build_augmenter
from edgecnn.train.spec import ModelSpec


def pick_strategy():
    """MirroredStrategy across several visible GPUs, the default strategy otherwise.

    For a cluster, set ``TF_CONFIG`` and use ``tf.distribute.MultiWorkerMirroredStrategy`` the same way (see
    README, "Training on several machines"); nothing here is home-made distribution.
    """
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def CosineDecay(total_steps: int):  # noqa: N802 - builds a Keras callback class lazily (Keras imports late)
    """A callback that sets the optimizer's learning rate to ``base * (1 + cos(pi * step / total)) / 2`` per batch.

    Works with the float learning rate the chapter's ``compile`` gives, which a Keras schedule object cannot replace
    after the optimizer is built.
    """
    import math

    import keras

    class _CosineDecay(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.base = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self.step = 0

        def on_train_batch_begin(self, batch, logs=None):
            fraction = min(1.0, self.step / max(1, total_steps))
            self.model.optimizer.learning_rate.assign(self.base * 0.5 * (1.0 + math.cos(math.pi * fraction)))
            self.step += 1

    return _CosineDecay()


def prepare_labels(labels: np.ndarray, model, spec: ModelSpec) -> np.ndarray:
    """Integer labels in the form the model's loss wants: one-hot for categorical CE, float for binary CE."""
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", "")
    if spec.output_activation == "sigmoid":
        return labels.astype(np.float32)
    if loss_name == "categorical_crossentropy":
        return np.eye(spec.num_classes, dtype=np.float32)[labels]
    return labels


def make_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool = False,
                 augment: AugmentOptions | None = None, seed: int = 0):
    """Batches of ``(float32 pixels 0-255, labels)``; augmentation (training only) runs inside tf.data."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y),
                                            num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        augmenter = build_augmenter(augment, seed)
        dataset = dataset.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
