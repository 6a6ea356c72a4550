"""tf.data input pipelines for training: batches, sharding, augmentation, label encoding and the learning-rate
schedule (the strategy is chosen in :mod:`edgecnn.train.strategy`)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.train.augment import AugmentOptions, build_augmenter
from edgecnn.train.spec import ModelSpec


def CosineDecay(epochs: int, steps_per_epoch: int, base: float):  # noqa: N802 - a Keras callback built lazily
    """A callback that sets the optimizer's learning rate to ``base * (1 + cos(pi * step / total)) / 2`` per batch.

    Works with the float learning rate the chapter's ``compile`` gives, which a Keras schedule object cannot replace
    after the optimizer is built. The step counts from the epoch ``fit`` starts at, so a resumed run continues the
    same curve; ``base`` is the starting rate (a restored optimizer holds the decayed one).
    """
    import math

    import keras

    total_steps = max(1, epochs * steps_per_epoch)

    class _CosineDecay(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.step = epoch * steps_per_epoch

        def on_train_batch_begin(self, batch, logs=None):
            fraction = min(1.0, self.step / total_steps)
            self.model.optimizer.learning_rate.assign(base * 0.5 * (1.0 + math.cos(math.pi * fraction)))
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


@dataclass(frozen=True)
class Shard:
    """Which part of the examples one input pipeline (one worker) reads."""

    count: int = 1
    """How many pipelines share the data."""
    index: int = 0
    """This pipeline's number, 0..count-1."""

    @classmethod
    def of(cls, context) -> Shard:
        """The shard a ``tf.distribute.InputContext`` assigns (None: the whole data)."""
        return cls() if context is None else cls(context.num_input_pipelines, context.input_pipeline_id)

    def size(self, total: int) -> int:
        """Examples per pipeline: equal on every worker, so every worker runs the same number of steps (the
        collectives of a step wait for all of them); the last ``total % count`` examples are left out."""
        return total if self.count == 1 else total // self.count


def steps_per_epoch(total: int, batch_size: int, shard: Shard = Shard()) -> int:
    return int(np.ceil(shard.size(total) / batch_size))


def make_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool = False,
                 augment: AugmentOptions | None = None, seed: int = 0, shard: Shard = Shard(),
                 fetch: Callable[[int], np.ndarray] | None = None, example_log: Path | None = None):
    """Batches of ``(float32 pixels 0-255, labels)`` for this pipeline's ``shard``.

    The pipeline runs over example indices: shard (each worker reads only its own examples), fetch the pixels in
    parallel (default ``images[i]``: pixels the loader already decoded with the runtime's OpenCV loader; or
    ``fetch(i)``, e.g. decoding the i-th file with :func:`edgecnn.runtime.images.load_for_model`, then cached so
    each file is decoded once), shuffle, batch, augment (training only, inside tf.data) and prefetch, so a GPU
    never waits on Python. ``images`` gives the shape (and, without ``fetch``, the pixels).
    ``example_log``: append ``<index> <sha1 of the pixels>`` per fetched example (shows which examples a worker
    read).
    """
    import tensorflow as tf

    decodes = fetch is not None
    fetch = fetch or images.__getitem__
    log = _ExampleLog(example_log) if example_log is not None else None
    shape = images.shape[1:]

    def fetch_one(index):
        pixels = np.asarray(fetch(int(index)), dtype=np.uint8)
        if log is not None:
            log.write(int(index), pixels)
        return pixels, labels[int(index)]

    def load(index):
        pixels, label = tf.numpy_function(fetch_one, [index], (tf.uint8, tf.as_dtype(labels.dtype)), stateful=False)
        return tf.ensure_shape(pixels, shape), tf.ensure_shape(label, labels.shape[1:])

    dataset = tf.data.Dataset.range(len(labels))
    if shard.count > 1:
        dataset = dataset.shard(shard.count, shard.index).take(shard.size(len(labels)))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if decodes:
        dataset = dataset.cache()  # decode each file once; in-memory pixels need no second copy
    if shuffle:
        dataset = dataset.shuffle(shard.size(len(labels)), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y),
                                            num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        augmenter = build_augmenter(augment, seed)
        dataset = dataset.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    # The shard above is explicit; TensorFlow's auto-sharding would shard a second time.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


class _ExampleLog:
    """Appends one line per example to a file (tf.data fetches from several threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()

    def write(self, index: int, pixels: np.ndarray) -> None:
        line = f"{index} {hashlib.sha1(pixels.tobytes()).hexdigest()[:16]}\n"
        with self.lock, open(self.path, "a") as handle:
            handle.write(line)
