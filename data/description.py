"""The typed, versioned description of the data a model was trained on, kept in its contract's ``extra["data"]``.

It says which kind of data (``image_folder``, ``fashion_mnist_idx`` or ``hand_landmarks``), where (the roots, in
order), which split folders were trained and evaluated on, and the hold-out rule for a source without a held-out
split. Every later stage
asks it where the held-out images are (:meth:`DataDescription.held_out`) and where the training images are
(:meth:`DataDescription.training`) instead of reading the dict.

The dict it writes is the one artifacts always carried (``kind``, ``root``, ``roots``, ``train_split``,
``eval_split``, ``hash_held_out``) plus ``version``, so older artifacts (no ``version``, perhaps no ``roots``) still
read and older readers still find ``root``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgecnn.data.datasets import DatasetSpec
from edgecnn.data.errors import DataError
from edgecnn.data.splits import (
    CLIP_RULE,
    HOLDOUT_EVERY,
    HOLDOUT_RULE,
    held_out_by_name,
    held_out_clip,
    held_out_split_of,
)

VERSION = 1
"""The description format written now; 0 is the unversioned dict of artifacts written before."""
KINDS = ("image_folder", "fashion_mnist_idx", "hand_landmarks")
RULES = (HOLDOUT_RULE, CLIP_RULE)


@dataclass(frozen=True)
class HashHoldOut:
    """Sources without their own held-out split: one file (or, with :data:`CLIP_RULE`, one source clip) in
    ``every`` of ``split`` is held out by name hash."""

    roots: tuple[str, ...]
    """The roots the rule applies to."""
    split: str
    """The split folder the held-out files are taken from (the training split)."""
    every: int = HOLDOUT_EVERY
    """One file in this many is held out."""
    rule: str = HOLDOUT_RULE
    """The rule, as text: :data:`~edgecnn.data.splits.HOLDOUT_RULE` (files) or :data:`CLIP_RULE` (whole clips)."""

    def is_held_out(self, path: Path) -> bool:
        if self.rule == CLIP_RULE:
            return held_out_clip(Path(path).name, 1.0 / self.every)
        return held_out_by_name(Path(path).name, self.every)


@dataclass(frozen=True)
class Selection:
    """Some labelled images of one root: its ``split`` folder (None: the root itself), filtered by ``keep``."""

    root: Path
    """The data root (image folders or the idx files)."""
    split: str | None
    """Split folder under ``root``; None when ``root`` holds the class folders or idx files itself."""
    keep: Callable[[Path], bool] | None = None
    """Which image files take part (the hash hold-out rule); None: all."""


@dataclass(frozen=True)
class DataDescription:
    """What a model was trained on."""

    kind: str
    """``"image_folder"``, ``"fashion_mnist_idx"`` or ``"hand_landmarks"`` (image folders read through the hand
    finder)."""
    roots: tuple[str, ...]
    """Data roots, resolved, in the order given; the first is the primary source (calibration, verify)."""
    train_split: str
    """The split folder trained on."""
    eval_split: str | None
    """The primary root's held-out split folder; None when it has none (then ``hash_held_out`` covers it)."""
    hash_held_out: HashHoldOut | None = None
    """The hold-out rule for roots without a held-out split; None when every root has one."""
    version: int = VERSION
    """Format version of this description."""

    @property
    def root(self) -> Path:
        return Path(self.roots[0])

    def training(self) -> Selection:
        """The primary root's training images (calibration): the train split, less any hash-held-out files."""
        rule = self._hash_rule_for(self.root)
        return Selection(self.root, self.train_split, None if rule is None else (lambda p: not rule.is_held_out(p)))

    def held_out(self) -> Selection:
        """The primary root's held-out images (verify, bench, smoke): its held-out split folder, or the hash-chosen
        files of its training split."""
        if self.eval_split is not None:
            return Selection(self.root, self.eval_split)
        rule = self._hash_rule_for(self.root)
        if rule is not None:
            return Selection(self.root, rule.split, rule.is_held_out)
        return Selection(self.root, None)

    def _hash_rule_for(self, root: Path) -> HashHoldOut | None:
        rule = self.hash_held_out
        return rule if rule is not None and str(root) in rule.roots else None

    def to_dict(self) -> dict:
        data = {"version": self.version, "kind": self.kind, "root": self.roots[0], "roots": list(self.roots),
                "train_split": self.train_split, "eval_split": self.eval_split}
        if self.hash_held_out is not None:
            rule = self.hash_held_out
            data["hash_held_out"] = {"roots": list(rule.roots), "split": rule.split, "every": rule.every,
                                     "rule": rule.rule}
        return data

    @classmethod
    def from_dict(cls, data: dict, where: str = "extra['data']") -> DataDescription:
        """Reads a description (any version up to :data:`VERSION`); :class:`DataError` names what is wrong."""
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected a data description (a JSON object), got {type(data).__name__}")
        version = data.get("version", 0)
        if not isinstance(version, int) or not 0 <= version <= VERSION:
            raise DataError(f"{where}: data description version {version!r} is not one this edgecnn reads "
                            f"(0..{VERSION}); upgrade edgecnn")
        kind = data.get("kind", "image_folder")
        if kind not in KINDS:
            raise DataError(f"{where}: unknown data kind {kind!r}; expected one of {', '.join(KINDS)}")
        roots = data.get("roots") or ([data["root"]] if data.get("root") else [])
        if not roots or not all(isinstance(r, str) and r for r in roots):
            raise DataError(f"{where}: the data description names no root folder (expected 'roots': [PATH, ...])")
        rule = data.get("hash_held_out")
        return cls(kind, tuple(roots), str(data.get("train_split") or "train"), data.get("eval_split"),
                   None if rule is None else _hash_rule(rule, where), VERSION)

    @classmethod
    def from_extra(cls, extra: dict) -> DataDescription | None:
        """The description in a contract's ``extra``; None when the contract names no data."""
        data = (extra or {}).get("data")
        return None if not data else cls.from_dict(data)


def _hash_rule(data: dict, where: str) -> HashHoldOut:
    every, rule = data.get("every", HOLDOUT_EVERY), data.get("rule", HOLDOUT_RULE)
    if rule not in RULES or not isinstance(every, int) or every < 2:
        raise DataError(f"{where}: unknown hold-out rule {rule!r} every {every!r}; this edgecnn knows "
                        f"{' or '.join(map(repr, RULES))} with every >= 2")
    return HashHoldOut(tuple(data.get("roots") or ()), str(data.get("split") or "train"), every, rule)


def describe(dataset: DatasetSpec, roots: list[Path]) -> DataDescription:
    """The description of training ``dataset`` on ``roots``, with the split rules of :mod:`edgecnn.data.splits`."""
    resolved = [Path(r).resolve() for r in roots]
    if dataset.kind == "fashion_mnist_idx":
        return DataDescription(dataset.kind, (str(resolved[0]),), dataset.train_split, dataset.eval_split)
    held = {root: held_out_split_of(root, dataset.eval_split) for root in resolved}
    no_eval = tuple(str(root) for root, split in held.items() if split is None)
    rule = HashHoldOut(no_eval, dataset.train_split) if no_eval else None
    return DataDescription(dataset.kind, tuple(map(str, resolved)), dataset.train_split, held[resolved[0]], rule)


def held_out_selection(extra: dict, data: Path | None = None, model_name: str = "the model") -> Selection:
    """Where a model's held-out images are (verify, bench, smoke): ``data`` when given (a root with split folders:
    the model's evaluation split, else validation/ or test/; or a folder of class folders), else what its contract's
    ``extra["data"]`` describes. :class:`DataError` when neither names any."""
    description = DataDescription.from_extra(extra)
    if data is not None:
        # rps-cgi-28px has test/ where the model's own data had validation/.
        root = Path(data)
        named = (description.eval_split if description else None) or "validation"
        return Selection(root, held_out_split_of(root, named) if root.is_dir() else named)
    if description is None:
        raise DataError(f"the model contract of {model_name!r} does not name its data (extra['data']); "
                        f"pass --data PATH")
    return description.held_out()
