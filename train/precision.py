"""Mixed precision for training: the dtype policy while a model is built, the float32 output check, and the plain
float32 copy the artifact holds.

Under Keras' ``mixed_float16`` policy layers compute in float16 and keep float32 weights; the output layer of every
registered model is built with ``dtype="float32"`` so softmax/sigmoid and the loss stay float32 (float16 rounds
probabilities near 0 and 1). ``compile`` then wraps the optimizer in a ``LossScaleOptimizer`` by itself.
"""

from __future__ import annotations

from edgecnn.train.errors import StrategyError
from edgecnn.train.spec import ModelSpec


class dtype_policy:  # noqa: N801 - used as a context manager
    """Sets Keras' global dtype policy while the model is built (layers take it when created), then restores it."""

    def __init__(self, name: str | None):
        self.name = name

    def __enter__(self):
        import keras

        self.previous = keras.config.dtype_policy()
        if self.name is not None:
            keras.config.set_dtype_policy(self.name)

    def __exit__(self, *exc):
        import keras

        keras.config.set_dtype_policy(self.previous)


def check_output_dtype(model, spec: ModelSpec) -> None:
    """Under mixed precision the output (softmax/sigmoid and the loss) must stay float32, or probabilities near 0
    and 1 round off in float16; every model file gives its output layer ``dtype="float32"``."""
    dtype = str(getattr(model.outputs[0], "dtype", "float32"))
    if "float32" not in dtype:
        raise StrategyError(f"{spec.name}: its output is {dtype} under mixed precision; give its output layer "
                            f"dtype='float32' in train/models/{spec.name}.py")


def plain_copy(spec: ModelSpec, build_options: dict, trained):
    """The trained weights in a float32 model outside any strategy: what the artifact holds and what the final
    evaluation runs on (one machine, the same code as a plain run). Mixed precision keeps float32 weights, so
    nothing is lost."""
    model = spec.build(**build_options)
    model.set_weights(trained.get_weights())
    return model
