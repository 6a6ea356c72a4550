"""What a model file declares: :class:`ModelSpec`. Pure data; building needs Keras and happens in ``build``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from edgecnn.data.description import DataDescription
    from edgecnn.runtime.contract import ModelContract


@dataclass(frozen=True)
class ModelSpec:
    """One registered architecture from the chapter, with the defaults its training recipe uses."""

    name: str
    """Registry key, equal to the model file's name (``train/models/<name>.py``)."""
    summary: str
    """One line for ``--help`` and reports."""
    input_shape: tuple[int, ...]
    """``(height, width, channels)`` of the raw 0-255 input the model takes; ``(21, 3)`` for hand landmarks."""
    dataset: str
    """Key of the default dataset in :mod:`edgecnn.data.datasets`."""
    output_activation: str
    """``"softmax"`` (one unit per class) or ``"sigmoid"`` (one unit: the probability of the second label)."""
    num_classes: int
    """Number of classes the model separates (2 for a sigmoid model)."""
    build: Callable[..., Any]
    """``build(**options) -> keras.Model``: the compiled model with the chapter's optimizer and loss; its output layer
    takes ``dtype="float32"`` so it stays float32 under ``--mixed-precision`` (a test checks every model)."""
    expected_params: int
    """Total parameter count the chapter / notebook prints; a test checks the built model against it."""
    epochs: int = 10
    """Default number of epochs."""
    batch_size: int = 32
    """Default batch size."""
    augment: bool = False
    """Whether training uses augmentation by default."""
    augmentation: str = "chapter"
    """Which :class:`~edgecnn.train.augment.AugmentOptions` preset augmentation uses (``chapter``, ``real_hands``)."""
    lr_schedule: str = "constant"
    """``"constant"`` (the chapter's) or ``"cosine"``: decay the optimizer's learning rate to 0 over the run."""
    resize: str = "bilinear"
    """How images and camera frames are resized to the input (the contract's ``resize``): ``"bilinear"``, or
    ``"area"`` for a large shrink, where bilinear reads only a few source pixels per output pixel and aliases."""
    light_on_dark: bool = False
    """True when the training images are light objects on black (Fashion-MNIST): ordinary photos need inverting,
    which the runtime does only when asked (``--invert``); recorded in the contract's ``extra``."""
    input_kind: str = "image"
    """``"image"`` (pixels), ``"hand_landmarks"`` (the hand finder's 21 points) or ``"hand_embedding"`` (the landmark
    model's embedding of the hand, then its points); the hand kinds' contracts get a hand crop."""
    source: str = ""
    """Where in the chapter / notebook the architecture comes from."""
    build_options: dict[str, str] = field(default_factory=dict)
    """``build`` keyword arguments a user may set from the command line (``--weights`` for inception_transfer), each
    with its help text; a CLI flag that is not listed here is refused for this model."""
    untrained_options: dict[str, Any] = field(default_factory=dict)
    """``build`` keyword arguments for an untrained copy (benchmarks): e.g. ``weights="random"`` so nothing is
    downloaded for a model whose timings do not depend on its weights."""
    load_data: Callable[[Any], Any] | None = None
    """``load_data(train_options) -> TrainingData`` for a model whose classes come from the user's folders
    (``hand_gestures``): training reads the data through it and builds the model with ``num_classes`` = the labels
    it found (``num_classes`` above is then the example build's). None: the registry dataset and its loaders."""

    @property
    def channel_order(self) -> str:
        return "GRAY" if len(self.input_shape) == 3 and self.input_shape[2] == 1 else "RGB"

    def contract(self, labels: tuple[str, ...], data: DataDescription | None) -> ModelContract:
        """The Keras model's contract: the one place a :class:`ModelContract` is made from a spec."""
        from edgecnn.runtime.contract import ModelContract

        extra: dict[str, Any] = {"light_on_dark": self.light_on_dark}
        if data is not None:
            extra = {"data": data.to_dict(), **extra}
        return ModelContract(model_name=self.name, labels=tuple(labels), input_size=self.input_shape[:2],
                             channel_order=self.channel_order, resize=self.resize,
                             output_activation=self.output_activation, format="keras", dataset=self.dataset,
                             input_kind=self.input_kind, hand_crop=self._hand_crop(labels), extra=extra)

    def _hand_crop(self, labels: tuple[str, ...]):
        """Hand-feature models read the hand finder's crop; a ``none`` label (hand-free photos) means no hand, a
        ``no_gesture`` label (hands showing other signs or none) means no gesture."""
        from edgecnn.runtime.contract import HAND_FEATURE_SHAPES

        if self.input_kind not in HAND_FEATURE_SHAPES:
            return None
        from edgecnn.runtime.contract import HandCrop

        return HandCrop(no_hand_label="none" if "none" in labels else None,
                        no_gesture_label="no_gesture" if "no_gesture" in labels else None)
