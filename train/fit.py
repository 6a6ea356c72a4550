"""``edgecnn train MODEL``: fit a registered model on real data and write its artifact folder atomically."""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from edgecnn.data import artifact as layout
from edgecnn.data.datasets import find_roots, get_dataset
from edgecnn.data.errors import DataError
from edgecnn.data.splits import TrainingData, load_training_data
from edgecnn.errors import EdgecnnError
from edgecnn.runtime.atomic import atomic_directory
from edgecnn.runtime.contract import HAND_FEATURE_SHAPES, read_sidecar, write_sidecar
from edgecnn.train import precision
from edgecnn.train import resume as backups
from edgecnn.train import strategy as strategies
from edgecnn.train.augment import AugmentOptions
from edgecnn.train.errors import ResumeError, StrategyError, WeightsError
from edgecnn.train.input_pipeline import CosineDecay, Shard, make_dataset, prepare_labels, steps_per_epoch
from edgecnn.train.plots import confusion_matrix, plot_confusion, plot_curves
from edgecnn.train.registry import get_spec
from edgecnn.train.spec import ModelSpec


@dataclass
class TrainOptions:
    """How to train one registered model. ``None`` means the model's own default (see its ``SPEC``)."""

    model: str
    """Registry name of the model."""
    out: Path
    """Artifact folder to write (replaced atomically when training succeeds)."""
    data: tuple[Path, ...] = ()
    """Data roots (``<root>/<split>/<class>/``, or Fashion-MNIST idx files); empty: the dataset's default places."""
    epochs: int | None = None
    """Training epochs."""
    batch_size: int | None = None
    """Batch size."""
    augment: bool | None = None
    """Augment training batches; None: the model's default, or yes when ``augmentation`` names a preset."""
    augmentation: str | None = None
    """Augmentation preset (:data:`~edgecnn.train.augment.PRESETS`); None: the model's own
    (``ModelSpec.augmentation``)."""
    seed: int = 42
    """Seed for sampling, shuffling, augmentation and weight initialisation."""
    limit: int | None = None
    """At most this many images per class and split (quick runs and tests)."""
    lr_schedule: str | None = None
    """``"constant"`` or ``"cosine"`` (decay to 0 over the run); None: the model's default."""
    early_stopping: int | None = None
    """Stop when validation loss has not improved for this many epochs (restores the best weights)."""
    init_from: Path | None = None
    """An artifact folder (or its ``model.keras``) of the same model whose weights training starts from: continue a
    run, or fine-tune on new images (your own hands in front of your own webcam)."""
    learning_rate: float | None = None
    """The optimizer's starting learning rate; None: the chapter's (e.g. lower it when continuing from
    ``init_from``)."""
    no_hand_data: tuple[Path, ...] = ()
    """Hand-landmark models: roots of photos without hands (``<root>/<split>/<class>/``) whose imagined hands train
    the ``none`` class; empty: the cats-vs-dogs set where ``--data`` would find it."""
    no_hand_stills: tuple[Path, ...] = ()
    """Hand-feature models: more roots of photos without hands, read only as they are (``no_hand_data`` is also
    read enlarged to a camera frame, where the finder searches tiles: several times the finding time)."""
    no_hand_frames: tuple[Path, ...] = ()
    """Hand-feature models: more roots of photos without hands, read only enlarged to a camera frame (a few hundred
    of them: the tiles and windows the finder searches there find hands a still does not)."""
    train_only_data: tuple[Path, ...] = ()
    """Hand-feature models: roots of ``data`` trained on whole, nothing of them held out (their file names tell no
    person or clip apart, so a per-file hold-out would score frames of videos it trained on)."""
    build_options: dict = field(default_factory=dict)
    """Extra keyword arguments for the model's ``build`` (e.g. ``weights`` for inception_transfer)."""
    verbose: int = 2
    """Keras progress: 0 silent, 1 progress bar, 2 one line per epoch."""
    strategy: str = "auto"
    """``tf.distribute`` strategy (:data:`~edgecnn.train.strategy.STRATEGIES`); ``multi-worker`` reads the cluster
    from ``TF_CONFIG``."""
    resume: bool | None = None
    """Continue from the backup beside ``out`` (:mod:`edgecnn.train.resume`): None when one exists, True: it must
    exist, False: delete it and start over."""
    mixed_precision: bool = False
    """Train under Keras' ``mixed_float16`` policy (float16 compute, float32 weights and output); the artifact is
    saved as a float32 model."""
    example_log: Path | None = None
    """Debugging: append the index and pixel hash of every training example this process's pipeline reads."""
    report: Callable[[str], None] | None = None
    """Receives progress lines (the strategy and devices in use); None: silent."""
    force: bool = False
    """Replace ``out`` even when it is not an edgecnn artifact folder (see
    :func:`~edgecnn.data.artifact.replacement_note`)."""


def train(options: TrainOptions, on_note: Callable[[str], None] | None = None) -> Path | None:
    """Trains ``options.model`` and writes the artifact folder; returns its path (None on a non-chief worker of a
    cluster, which writes no artifact).

    ``on_note`` gets notes for the user (the unreadable images that were skipped); ``options.report`` the progress
    lines. Keras's own progress goes to stdout as ``options.verbose`` says.
    """
    spec = get_spec(options.model)
    layout.replacement_note(options.out, options.force)  # refuses before hours of training, not after
    if options.strategy not in strategies.STRATEGIES:
        raise StrategyError(f"strategy {options.strategy!r}: choose one of {', '.join(strategies.STRATEGIES)}")
    # TF_CONFIG is checked before any data is loaded and before TensorFlow starts a server.
    cluster = strategies.cluster_from_env() if options.strategy in ("auto", "multi-worker") else None
    multi = strategies.resolve(options.strategy, cluster) == "multi-worker"
    folder = backups.backup_dir(options.out, cluster.rank if multi else None)
    if options.resume and not backups.Backup(folder, {}).epochs():
        raise ResumeError(f"--resume: no backup in {folder} (it is written after each epoch and removed when a run "
                          "finishes)")
    started = time.perf_counter()
    data = _load(spec, options)
    if spec.load_data is not None:  # classes from the user's folders: one output per label found
        spec = replace(spec, num_classes=len(data.labels))
        options = replace(options, build_options={**options.build_options, "num_classes": len(data.labels)})
    if on_note is not None and _skipped(data):
        on_note(_skipped_note(data))
    fitted = _fit(spec, data, options, cluster, folder)
    if not fitted.run.is_chief:
        fitted.backup.remove()
        return None
    model, history = fitted.model, fitted.history
    train_seconds = time.perf_counter() - started
    metrics = _evaluate(model, spec, data)
    metrics.update(model=spec.name, params=int(model.count_params()), epochs_run=len(history.get("loss", [])),
                   train_seconds=round(train_seconds, 1), seed=options.seed, command=" ".join(sys.argv),
                   augment=_augment(spec, options),
                   init_from=None if options.init_from is None else str(options.init_from),
                   learning_rate=options.learning_rate,
                   augmentation=_preset(spec, options) if _augment(spec, options) else None,
                   lr_schedule=options.lr_schedule or spec.lr_schedule,
                   skipped_images=[p for p, _ in _skipped(data)][:20],
                   strategy=fitted.run.name, workers=fitted.run.workers, replicas=fitted.run.replicas,
                   mixed_precision=options.mixed_precision, resumed_from_epoch=fitted.resumed_from)
    if spec.load_data is not None and options.report is not None:
        from edgecnn.train.gesture_report import class_report

        for line in class_report(metrics):
            options.report(line)
    contract = spec.contract(data.labels, data.description)
    layout.replacement_note(options.out, options.force)  # again: the folder may have changed while training ran
    with atomic_directory(options.out) as staging:
        model.save(staging / layout.MODEL_FILE)
        write_sidecar(staging / layout.MODEL_FILE, contract)
        (staging / layout.HISTORY_FILE).write_text(json.dumps(history, indent=2))
        (staging / layout.METRICS_FILE).write_text(json.dumps(metrics, indent=2))
        plot_curves(history, staging / layout.CURVES_FILE, f"{spec.name} training")
        matrix = np.array(metrics["confusion_matrix"])
        plot_confusion(matrix, data.labels, staging / layout.CONFUSION_FILE,
                       f"{spec.name} on {metrics['eval_split']} ({metrics['eval_accuracy']:.1%})")
    fitted.backup.remove()  # only now: a kill before this line resumes from the backup
    return Path(options.out)


def _load(spec: ModelSpec, options: TrainOptions) -> TrainingData:
    if spec.load_data is not None:
        return spec.load_data(options)
    dataset = get_dataset(spec.dataset)
    roots = [Path(p) for p in options.data] or find_roots(dataset)
    for root in roots:
        if not root.is_dir():
            raise DataError(f"--data {root}: no such folder")
    if spec.input_kind in HAND_FEATURE_SHAPES:
        from edgecnn.train.landmark_data import load_landmark_data

        stills, frames = [Path(p) for p in options.no_hand_stills], [Path(p) for p in options.no_hand_frames]
        no_hand = [Path(p) for p in options.no_hand_data] or (
            [] if stills or frames else find_roots(get_dataset("cats_vs_dogs")))
        data = load_landmark_data(dataset, roots, options.limit, options.seed, no_hand + stills + frames,
                                  kind=spec.input_kind, train_only_roots=[Path(p) for p in options.train_only_data],
                                  no_hand_stills=stills, no_hand_frames=frames)
    else:
        if options.train_only_data or options.no_hand_stills or options.no_hand_frames:
            raise DataError(f"--train-only-data, --no-hand-stills and --no-hand-frames apply to hand-feature models "
                            f"only, not {spec.name}")
        data = load_training_data(dataset, roots, spec.input_shape, options.limit, options.seed, spec.resize)
    if len(data.labels) != spec.num_classes:
        raise DataError(f"{spec.name} separates {spec.num_classes} classes but the data under "
                        f"{', '.join(map(str, roots))} has {len(data.labels)}: {list(data.labels)}")
    return data


def _augment(spec: ModelSpec, options: TrainOptions) -> bool:
    if options.augment is None:
        return spec.augment or options.augmentation is not None
    return options.augment


def _preset(spec: ModelSpec, options: TrainOptions) -> str:
    return options.augmentation or spec.augmentation


@dataclass
class _Fitted:
    model: object
    history: dict
    run: strategies.StrategyRun
    backup: backups.Backup
    resumed_from: int


def _fit(spec: ModelSpec, data: TrainingData, options: TrainOptions, cluster, folder: Path) -> _Fitted:
    run = strategies.start(options.strategy, cluster)  # first: collectives are configured before TF starts
    if options.report is not None:
        options.report(f"edgecnn train: {run.describe()}")
    import keras

    keras.utils.set_random_seed(options.seed)
    batch_size = options.batch_size or spec.batch_size
    epochs = options.epochs or spec.epochs
    multi = run.cluster is not None
    replica_batch = strategies.per_replica_batch(run, batch_size) if multi else batch_size
    with run.strategy.scope(), precision.dtype_policy("mixed_float16" if options.mixed_precision else None):
        model = spec.build(**options.build_options)
        if options.init_from is not None:
            _load_weights(model, spec, Path(options.init_from))
    precision.check_output_dtype(model, spec)
    if options.learning_rate is not None:
        model.optimizer.learning_rate.assign(options.learning_rate)
    base_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    augment = AugmentOptions.preset(_preset(spec, options)) if _augment(spec, options) else None
    y_train = prepare_labels(data.train.labels, model, spec)
    y_eval = None if data.eval is None else prepare_labels(data.eval.labels, model, spec)

    def train_input(context=None):
        return make_dataset(data.train.images, y_train, replica_batch, shuffle=True, augment=augment,
                            seed=options.seed, shard=Shard.of(context), example_log=options.example_log)

    def eval_input(context=None):
        # Every worker validates on all of the held-out data: the same figures on each, no shard left out.
        return make_dataset(data.eval.images, y_eval, replica_batch)

    if multi:
        train_ds = run.strategy.distribute_datasets_from_function(train_input)
        val_ds = None if data.eval is None else run.strategy.distribute_datasets_from_function(eval_input)
        strategies.multi_worker_compatible(model, run.strategy, (data.train.images[:1].astype(np.float32),
                                                                 y_train[:1]))
    else:
        train_ds, val_ds = train_input(), None if data.eval is None else eval_input()
    backup = backups.Backup(folder, _fingerprint(spec, options, data, run))
    restored = backup.restore(options.resume)
    if restored.weights is not None:
        model.optimizer.build(model.trainable_variables)
        model.load_weights(restored.weights)
        if options.report is not None:
            options.report(f"edgecnn train: resuming after epoch {restored.epoch} of {epochs} from {backup.folder}")
    callbacks = [backups.BackupCallback(backup, restored)]
    schedule = options.lr_schedule or spec.lr_schedule
    if schedule == "cosine":
        shard = Shard(run.workers, run.worker)
        callbacks.append(CosineDecay(epochs, steps_per_epoch(len(y_train), replica_batch, shard), base_rate))
    if options.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss" if val_ds is not None else "loss",
                                                       patience=options.early_stopping, restore_best_weights=True))
    with run.strategy.scope():
        result = model.fit(train_ds, validation_data=val_ds, epochs=epochs, initial_epoch=restored.epoch,
                           callbacks=callbacks, verbose=options.verbose, shuffle=False)  # tf.data shuffles
    history = backups.merge_history(restored.history,
                                    {key: [float(v) for v in values] for key, values in result.history.items()})
    if multi or options.mixed_precision:
        model = precision.plain_copy(spec, options.build_options, model)
    return _Fitted(model, history, run, backup, restored.epoch)


def _fingerprint(spec: ModelSpec, options: TrainOptions, data: TrainingData, run) -> dict:
    """What must match for a backup to be continued: everything that shapes the run."""
    return {"model": spec.name, "data": data.description.to_dict(), "train_count": len(data.train.labels),
            "epochs": options.epochs or spec.epochs, "batch_size": options.batch_size or spec.batch_size,
            "augment": _augment(spec, options), "augmentation": _preset(spec, options), "seed": options.seed,
            "limit": options.limit, "lr_schedule": options.lr_schedule or spec.lr_schedule,
            "learning_rate": options.learning_rate, "early_stopping": options.early_stopping,
            "init_from": None if options.init_from is None else str(options.init_from),
            "build_options": {k: str(v) for k, v in options.build_options.items()},
            "mixed_precision": options.mixed_precision, "workers": run.workers}


def _load_weights(model, spec: ModelSpec, source: Path) -> None:
    """Starts ``model`` from the weights of an earlier ``edgecnn train`` artifact of the same model."""
    model_file = source / layout.MODEL_FILE if source.is_dir() else source
    if not model_file.is_file():
        raise WeightsError(f"--init-from {source}: no {layout.MODEL_FILE} there (expected an 'edgecnn train' folder)")
    try:
        trained_as = read_sidecar(model_file).model_name
    except EdgecnnError:
        trained_as = None
    if trained_as is not None and trained_as != spec.name:
        raise WeightsError(f"--init-from {model_file}: it is a {trained_as}, not a {spec.name}")
    try:
        with warnings.catch_warnings():
            # The optimizer starts fresh on purpose (new data, new schedule); Keras warns that it skips its state.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(model_file)
    except (ValueError, OSError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WeightsError(f"--init-from {model_file}: its weights do not fit {spec.name} ({first_line})") from None


def _evaluate(model, spec: ModelSpec, data: TrainingData) -> dict:
    """Final loss/accuracy on train and held-out data, the confusion matrix, and accuracy per data source."""
    metrics: dict = {"labels": list(data.labels)}
    splits = {"train": data.train}
    if data.eval is not None:
        splits["eval"] = data.eval
    for name, split in splits.items():
        y = prepare_labels(split.labels, model, spec)
        loss, accuracy = model.evaluate(make_dataset(split.images, y, 64), verbose=0)[:2]
        metrics[f"{name}_loss"], metrics[f"{name}_accuracy"] = float(loss), float(accuracy)
        metrics[f"{name}_count"] = len(split.labels)
    held_out = data.eval if data.eval is not None else data.train
    metrics["eval_split"] = data.eval_split if data.eval is not None else "train"
    metrics.setdefault("eval_accuracy", metrics["train_accuracy"])
    predicted = predict_classes(model, held_out.images, spec.output_activation)
    metrics["confusion_matrix"] = confusion_matrix(held_out.labels, predicted, len(data.labels)).tolist()
    metrics["eval_accuracy_by_source"] = {
        source: float(np.mean(predicted[mask] == held_out.labels[mask]))
        for source in sorted(set(held_out.sources))
        for mask in [np.array(held_out.sources) == source]
    }
    return metrics


def predict_classes(model, images: np.ndarray, activation: str, batch_size: int = 64) -> np.ndarray:
    """Class indices for a batch of raw uint8 images."""
    outputs = model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
    if activation == "sigmoid":
        return (outputs[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(outputs, axis=1)


def _skipped(data: TrainingData) -> list[tuple[str, str]]:
    return data.train.skipped + (data.eval.skipped if data.eval is not None else [])


def _skipped_note(data: TrainingData) -> str:
    skipped = _skipped(data)
    shown = "; ".join(reason for _, reason in skipped[:3])
    return f"skipped {len(skipped)} unreadable image(s): {shown}" + (" ..." if len(skipped) > 3 else "")
