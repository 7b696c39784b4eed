"""A pretraining run's callbacks, each with its one concern, on a model of one
weight trained one step per epoch: where checkpoints are written and pruned,
the stop at the last step, the deadline, and NaN losses and weights."""

import os
import time

import keras
import numpy as np
import pytest

from albert_mlm.training.checkpoints import (
    CheckpointWriter,
    Deadline,
    NotFinite,
    StepCounter,
    StopOnNotFinite,
    latest_checkpoint,
)


class _OnEpochEnd(keras.callbacks.Callback):
    def __init__(self, action):
        super().__init__()
        self.action = action

    def on_epoch_end(self, epoch, logs=None):
        self.action(self.model, epoch)


def _fit(callbacks, inputs=(1.0,) * 8, epochs=8):
    """Trains one step per epoch on `inputs`, one a step; the steps trained."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def batches():
        for value in inputs:
            yield np.full((1, 1), value, "float32"), np.ones((1, 1), "float32")

    history = model.fit(
        batches(),
        epochs=epochs,
        steps_per_epoch=1,
        callbacks=callbacks,
        shuffle=False,
        verbose=0,
    )
    return len(history.history["loss"])


def _step_names(directory):
    return sorted(os.listdir(directory))


def test_the_writer_keeps_only_the_newest_checkpoint_and_the_last_step(tmp_path):
    steps = StepCounter(0, 5)
    seen = []
    record = _OnEpochEnd(lambda model, epoch: seen.append(_step_names(tmp_path)))
    writer = CheckpointWriter(str(tmp_path), steps, checkpoint_every=2)
    assert _fit([steps, writer, record]) == 5  # Stopped at `total_steps`.
    assert steps.step == 5 and steps.finished
    assert seen == [
        [],
        ["step-000000002.weights.h5"],
        ["step-000000002.weights.h5"],
        ["step-000000004.weights.h5"],
        ["step-000000005.weights.h5"],  # The last step, between intervals.
    ]


def test_a_resumed_count_starts_at_its_step(tmp_path):
    steps = StepCounter(4, 7)
    writer = CheckpointWriter(str(tmp_path), steps, checkpoint_every=2)
    assert _fit([steps, writer]) == 3
    assert latest_checkpoint(str(tmp_path)) == (
        7,
        str(tmp_path / "step-000000007.weights.h5"),
    )
    assert _step_names(tmp_path) == ["step-000000007.weights.h5"]


def test_a_passed_deadline_stops_at_the_epoch_end_and_checkpoints_there(tmp_path):
    steps = StepCounter(0, 8)
    deadline = Deadline(steps, time.monotonic())  # Already passed.
    writer = CheckpointWriter(str(tmp_path), steps, checkpoint_every=4)
    assert _fit([steps, deadline, writer]) == 1
    assert deadline.out_of_time
    assert _step_names(tmp_path) == ["step-000000001.weights.h5"]


def test_no_deadline_or_one_passed_at_the_last_step_is_not_out_of_time(tmp_path):
    steps = StepCounter(0, 3)
    never = Deadline(steps)
    assert _fit([steps, never]) == 3 and not never.out_of_time
    steps = StepCounter(0, 1)
    passed = Deadline(steps, time.monotonic())
    assert _fit([steps, passed]) == 1 and not passed.out_of_time


def test_a_nan_loss_stops_at_its_step_and_keeps_the_last_checkpoint(tmp_path):
    steps = StepCounter(0, 8)
    writer = CheckpointWriter(str(tmp_path), steps, checkpoint_every=1)
    inputs = (1.0, 1.0, np.nan, 1.0)
    with pytest.raises(NotFinite) as raised:
        _fit([steps, StopOnNotFinite(steps), writer], inputs)
    assert (raised.value.step, raised.value.what) == (3, "loss")
    assert _step_names(tmp_path) == ["step-000000002.weights.h5"]


def test_a_nan_weight_is_never_written(tmp_path):
    def break_a_weight(model, epoch):
        if epoch == 1:
            kernel = model.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.inf, "float32"))

    steps = StepCounter(0, 8)
    writer = CheckpointWriter(str(tmp_path), steps, checkpoint_every=1)
    with pytest.raises(NotFinite) as raised:
        _fit([steps, _OnEpochEnd(break_a_weight), writer])
    assert raised.value.step == 2
    assert raised.value.what.startswith("weight ") and "kernel" in raised.value.what
    assert _step_names(tmp_path) == ["step-000000001.weights.h5"]
