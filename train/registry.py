"""The model registry: every ``train/models/<name>.py`` that defines ``SPEC`` is a model named ``<name>``.

Adding a model is one file; the CLI's choices and the tests that parametrize over :func:`model_names` pick it up.
Listing names reads the folder only; importing a model file does not import TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil

from edgecnn.train import models as _models_package
from edgecnn.train.errors import UnknownModelError
from edgecnn.train.spec import ModelSpec


def model_names() -> list[str]:
    """Registered model names, sorted."""
    return sorted(
        info.name for info in pkgutil.iter_modules(_models_package.__path__)
        if not info.name.startswith("_")
    )


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name``; :class:`UnknownModelError` lists the valid names."""
    if name not in model_names():
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {', '.join(model_names())}")
    module = importlib.import_module(f"{_models_package.__name__}.{name}")
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ModelSpec) or spec.name != name:
        raise UnknownModelError(f"train/models/{name}.py must define SPEC = ModelSpec(name={name!r}, ...)")
    return spec


def build_model(name: str, **options):
    """Builds and compiles the registered model ``name`` (imports Keras)."""
    return get_spec(name).build(**options)
