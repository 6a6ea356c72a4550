"""Pretrained weights: use Keras's download when online, a local file when given, and fail at once otherwise."""

from __future__ import annotations

from pathlib import Path

from edgecnn.train.errors import WeightsError

INCEPTION_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                 "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
# The hash Keras itself checks for this file (keras.applications.inception_v3, WEIGHTS_PATH_NO_TOP).
INCEPTION_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"


def resolve_inception_weights(weights: str, file_name: str) -> str | None:
    """A local path to the InceptionV3 no-top weights, or None for random weights.

    ``weights`` is ``"random"``, ``"imagenet"`` (cached or downloaded by Keras) or a path to the ``.h5`` file.
    """
    if weights == "random":
        return None
    if weights != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsError(f"weights file {path} does not exist; pass --weights imagenet (downloads, needs "
                               f"internet), --weights PATH to {file_name}, or --weights random")
        return str(path)
    import keras

    try:
        return keras.utils.get_file(file_name, INCEPTION_URL, cache_subdir="models", file_hash=INCEPTION_MD5)
    except Exception as err:  # noqa: BLE001 - Keras wraps network failures in several types
        raise WeightsError(
            f"cannot download the InceptionV3 ImageNet weights ({type(err).__name__}: {err}). Offline, download "
            f"{INCEPTION_URL} elsewhere and pass --weights PATH, or train from scratch with --weights random"
        ) from None
