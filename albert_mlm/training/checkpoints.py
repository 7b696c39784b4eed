"""The callbacks of a pretraining run: steps, checkpoints, a deadline, Ctrl-C.

A run composes one callback per concern: `StepCounter` counts the steps and
stops at the last; `StopOnNotFinite` stops at a NaN or infinite loss;
`Deadline` stops at the first epoch end past a time; `CheckpointWriter`
writes the weights and optimizer state (at the epochs that `pretrain` makes
end on `checkpoint_every` steps, and where the run stops) to a temporary name
and renames it, so a crash never leaves a torn one. `latest_checkpoint` finds
the newest; `StopOnInterrupt` turns Ctrl-C into a stop between steps.

>>> latest_checkpoint("a/run/that/never/started")
(0, None)
"""

import contextlib
import math
import os
import re
import signal
import threading
import time

import keras
import numpy as np

from albert_mlm.presets.atomic_directory import require_free_space

_CHECKPOINT_NAME = re.compile(r"^step-(\d+)\.weights\.h5$")


class Interrupted(Exception):
    """Raised between training steps after Ctrl-C."""


class CheckpointError(RuntimeError):
    """A checkpoint could not be written (a full disk, a lost directory)."""


class NotFinite(Exception):
    """Raised between training steps once the loss or a weight is NaN/inf."""

    def __init__(self, step, what):
        super().__init__(step, what)
        self.step, self.what = step, what


def checkpoint_path(directory, step, prefix="step"):
    # Keras insists on the `.weights.h5` suffix, partial files included.
    return os.path.join(directory, f"{prefix}-{step:09d}.weights.h5")


def latest_checkpoint(directory):
    """`(step, path)` of the newest complete checkpoint, or `(0, None)`."""
    found = [
        (int(match.group(1)), os.path.join(directory, name))
        for name in (os.listdir(directory) if os.path.isdir(directory) else [])
        if (match := _CHECKPOINT_NAME.match(name))
    ]
    return max(found) if found else (0, None)


class StepCounter(keras.callbacks.Callback):
    """Counts the steps trained, from `start_step` on, and stops the run at
    `total_steps`; the other callbacks of a run read its `step`."""

    def __init__(self, start_step, total_steps):
        super().__init__()
        self.step = start_step
        self.total_steps = total_steps

    @property
    def finished(self):
        return self.step >= self.total_steps

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.finished:
            self.model.stop_training = True


class StopOnNotFinite(keras.callbacks.Callback):
    """Raises `NotFinite` at the first step whose loss is NaN or infinite."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps  # A `StepCounter`, placed before this callback.

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise NotFinite(self.steps.step, "loss")


class Deadline(keras.callbacks.Callback):
    """Stops the run at the end of the first epoch past `deadline` (a
    `time.monotonic()` value, or None for no deadline), unless that epoch
    ends the run anyway; `out_of_time` then tells the run it stopped early.

    In a run of several processes, `gather` (`DeviceLayout.gather`) makes
    them all stop at the epoch where the first of them ran out of time.
    """

    def __init__(self, steps, deadline=None, gather=None):
        super().__init__()
        self.steps = steps  # A `StepCounter`.
        self.deadline = deadline
        self.gather = gather
        self.out_of_time = False

    def on_epoch_end(self, epoch, logs=None):
        if self.deadline is not None and not self.steps.finished:
            self.out_of_time = time.monotonic() >= self.deadline
            if self.gather is not None:
                self.out_of_time = any(self.gather(int(self.out_of_time)))
        if self.out_of_time:
            self.model.stop_training = True


class CheckpointWriter(keras.callbacks.Callback):
    """Checkpoints at the end of each epoch that reaches a multiple of
    `checkpoint_every` steps or ends the run (its last step, or a `Deadline`
    placed before this callback), then deletes the older checkpoints.

    Non-finite weights raise `NotFinite` instead of being written, so the
    newest checkpoint is always a usable one.
    """

    def __init__(self, directory, steps, checkpoint_every):
        super().__init__()
        self.directory = directory
        self.steps = steps  # A `StepCounter`.
        self.checkpoint_every = checkpoint_every

    def on_epoch_end(self, epoch, logs=None):
        step = self.steps.step
        # `stop_training` here: the run ends with this epoch, so keep it.
        if step % self.checkpoint_every and not self.model.stop_training:
            return
        self._require_finite_weights(step)
        self._write(step)
        self._delete_older(step)

    def _require_finite_weights(self, step):
        for variable in self.model.trainable_variables:
            if not np.isfinite(keras.ops.convert_to_numpy(variable)).all():
                raise NotFinite(step, f"weight {variable.path!r}")

    def _write(self, step):
        """Weights and optimizer state under a temporary name, then renamed."""
        os.makedirs(self.directory, exist_ok=True)
        partial = checkpoint_path(self.directory, step, prefix="partial")
        # Weights and optimizer state, with room to spare: HDF5 writing onto
        # a full disk can crash the process instead of raising.
        needed = 2 * sum(v.numpy().nbytes for v in self.model.variables)
        needed += sum(v.numpy().nbytes for v in self.model.optimizer.variables)
        try:
            require_free_space(self.directory, needed, f"the step-{step} checkpoint")
            with _outside_distribution():
                self.model.save_weights(partial, overwrite=True)
            os.replace(partial, checkpoint_path(self.directory, step))
        except OSError as error:
            if os.path.exists(partial):
                os.remove(partial)
            raise CheckpointError(
                f"Could not write the step-{step} checkpoint in "
                f"{self.directory!r}: {error.strerror or error}. The previous "
                "checkpoint is kept; free some space and rerun with --resume."
            ) from None

    def _delete_older(self, step):
        for name in os.listdir(self.directory):
            match = _CHECKPOINT_NAME.match(name)
            if match and int(match.group(1)) != step:
                os.remove(os.path.join(self.directory, name))


@contextlib.contextmanager
def _outside_distribution():
    """No Keras distribution within: what saving creates (the optimizer's
    variables it rebuilds) then lives on this process alone, which is how
    process 0 of several writes a checkpoint without the others."""
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


class StepProgress(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, each interval headed by the steps it covers
    ("Steps 201-400 of 1000") rather than Keras' "Epoch 2/5"."""

    def __init__(self, steps_per_interval, total_steps):
        super().__init__()
        self.steps_per_interval = steps_per_interval
        self.total_steps = total_steps

    def on_epoch_begin(self, epoch, logs=None):
        epochs, self.epochs = self.epochs, 1  # Keras prints no epoch line then.
        super().on_epoch_begin(epoch, logs)
        self.epochs = epochs
        first = epoch * self.steps_per_interval + 1
        last = min(first + self.steps_per_interval - 1, self.total_steps)
        if self.verbose:
            print(f"Steps {first}-{last} of {self.total_steps}")


class StopOnInterrupt(keras.callbacks.Callback):
    """Turns Ctrl-C into a clean stop at the next safe point.

    Used as a context manager around a run. A KeyboardInterrupt raised at an
    arbitrary moment could land inside a checkpoint write, or be swallowed by
    library code during setup; instead the signal only sets a flag, which
    `check()` (called between setup stages and after every training step)
    turns into `Interrupted`, with the last completed checkpoint intact. No
    validation runs on a half-finished epoch. A second Ctrl-C interrupts at
    once.
    """

    def __init__(self):
        super().__init__()
        self.interrupted = False
        self._previous_handler = None

    def _handle(self, signal_number, frame):
        self.interrupted = True
        signal.signal(
            signal.SIGINT, self._previous_handler or signal.default_int_handler
        )

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exception):
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None

    def check(self):
        if self.interrupted:
            raise Interrupted()

    def on_train_batch_end(self, batch, logs=None):
        self.check()
