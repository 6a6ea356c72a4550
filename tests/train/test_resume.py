"""Resumable training: a real run killed with SIGKILL mid-epoch continues from its backup with the same command.

The kill test runs ``edgecnn train`` twice (about a minute on 2 cores): with EDGECNN_SLOW=1. The in-process test of
the same backup (save, restore, continue, merged history) runs always.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from edgecnn.train.errors import ResumeError
from edgecnn.train.resume import Backup, BackupCallback, backup_dir, merge_history

from cli_helpers import error_lines


@pytest.mark.skipif(os.environ.get("EDGECNN_SLOW") != "1", reason="two real training runs; EDGECNN_SLOW=1")
def test_a_killed_run_continues_from_its_last_epoch(tmp_path, fashion_mnist_dir):
    out = tmp_path / "fashion_cnn"
    out.mkdir()
    (out / "previous.txt").write_text("the artifact of an earlier run")
    command = [sys.executable, "-m", "edgecnn", "train", "fashion_cnn", "--data", str(fashion_mnist_dir),
               "--limit", "100", "--epochs", "4", "--batch-size", "16", "--out", str(out)]
    backup = backup_dir(out)
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not list(backup.glob("epoch-*/state.json")):
            assert run.poll() is None, run.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "no epoch backed up in 300 s"
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)  # mid-epoch 2: epoch 1 is backed up
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == -signal.SIGKILL
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt"]  # the previous artifact is untouched
    saved = sorted(int(p.parent.name.split("-")[1]) for p in backup.glob("epoch-*/state.json"))
    assert saved and saved[-1] < 4
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"resuming after epoch {saved[-1]} of 4" in again.stdout
    history = json.loads((out / "history.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(history["loss"]) == 4 and len(history["val_accuracy"]) == 4 and metrics["epochs_run"] == 4
    assert metrics["resumed_from_epoch"] == saved[-1]
    assert not backup.exists() and not (out / "previous.txt").exists()


def _tiny_model():
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_backup_restores_weights_epoch_and_history(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1)
    backup = Backup(backup_dir(tmp_path / "out"), {"model": "tiny", "epochs": 5})
    first = _tiny_model()
    restored = backup.restore(None)
    assert restored.epoch == 0 and restored.weights is None
    part = first.fit(x, y, epochs=2, verbose=0, callbacks=[BackupCallback(backup, restored)])
    assert [p.name for p in backup.folder.iterdir()] == ["epoch-0002"]  # older epochs are dropped

    second = _tiny_model()  # a new process would start here
    restored = backup.restore(None)
    assert restored.epoch == 2 and restored.history["loss"] == pytest.approx(part.history["loss"])
    second.optimizer.build(second.trainable_variables)
    second.load_weights(restored.weights)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(second.optimizer.iterations.numpy()) == int(first.optimizer.iterations.numpy())  # optimizer state too
    rest = second.fit(x, y, epochs=5, initial_epoch=restored.epoch, verbose=0,
                      callbacks=[BackupCallback(backup, restored)])
    assert len(rest.history["loss"]) == 3
    merged = merge_history(restored.history, rest.history)
    assert len(merged["loss"]) == 5 and merged["loss"][:2] == pytest.approx(part.history["loss"])
    backup.remove()
    assert not backup.folder.exists()


def test_a_backup_of_another_run_is_not_continued(tmp_path):
    folder = backup_dir(tmp_path / "out")
    (folder / "epoch-0001").mkdir(parents=True)
    (folder / "epoch-0001" / "state.json").write_text(json.dumps({"epoch": 1, "fingerprint": {"epochs": 3}}))
    with pytest.raises(ResumeError, match="different run \\(differs in epochs\\).*--no-resume"):
        Backup(folder, {"epochs": 5}).restore(None)
    assert folder.exists()  # not deleted unless asked
    assert Backup(folder, {"epochs": 5}).restore(False).epoch == 0 and not folder.exists()
    with pytest.raises(ResumeError, match="--resume: no backup"):
        Backup(folder, {"epochs": 5}).restore(True)


def test_resume_without_a_backup_is_a_one_line_cli_error(edgecnn_cli, tmp_path):
    result = edgecnn_cli("train", "fashion_cnn", "--limit", "1", "--epochs", "1", "--resume",
                         "--out", tmp_path / "none", timeout=300)
    lines = error_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1 and "--resume: no backup in" in lines[0], result.stderr
