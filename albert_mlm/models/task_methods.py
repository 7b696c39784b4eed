"""What every KerasHub task has beyond its backbone: the head's own weights
(`save_task_weights`, `load_task_weights`, `has_task_weights`) and the
preprocessing `fit` applies (`preprocess_samples`).

A task's head weights are those of its variables the backbone does not
hold (for `AlbertMaskedLM`, the masked-LM head; for `AlbertPreTrainer`, the
sentence-order head too). They travel in a Keras `.weights.h5` file without
the backbone, as KerasHub's `Task.save_task_weights` writes them, so a
fine-tuned head can be shipped apart from the backbone it was trained on.
"""

import os
import tempfile

import h5py
import keras

_SUFFIX = ".weights.h5"


class TaskMethods:
    """Mixin for tasks with a `backbone` and a `preprocessor`.

    Example:
    >>> import os, tempfile
    >>> from albert_mlm import AlbertMaskedLM
    >>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
    >>> masked_lm.has_task_weights()
    True
    >>> path = os.path.join(tempfile.mkdtemp(), "head.weights.h5")
    >>> masked_lm.save_task_weights(path)
    >>> masked_lm.load_task_weights(path)
    """

    def has_task_weights(self):
        """True when the task has variables the backbone does not hold."""
        return bool(_task_variables(self))

    def save_task_weights(self, filepath):
        """Write the head's weights (not the backbone's) to a `.weights.h5`
        file; the file is replaced whole or left as it was."""
        _require_suffix(filepath)
        if not self.has_task_weights():
            raise ValueError(
                f"{type(self).__name__} has no weights outside its backbone; "
                "`save_task_weights` has nothing to save."
            )
        path = os.fspath(filepath)
        directory = os.path.dirname(os.path.abspath(path))
        handle, staging = tempfile.mkstemp(suffix=_SUFFIX, dir=directory)
        os.close(handle)
        try:
            keras.saving.save_weights(self, staging, objects_to_skip=_skipped(self))
            os.replace(staging, path)
        finally:
            if os.path.exists(staging):
                os.remove(staging)

    def load_task_weights(self, filepath):
        """Load head weights written by `save_task_weights`. A file made for
        another head (other shapes or layers) is refused by name before any
        weight changes."""
        _require_suffix(filepath)
        path = os.fspath(filepath)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No task weights file at {path!r}.")
        with tempfile.TemporaryDirectory() as scratch:
            own = os.path.join(scratch, "own" + _SUFFIX)
            keras.saving.save_weights(self, own, objects_to_skip=_skipped(self))
            _require_same_layout(path, own, type(self).__name__)
        keras.saving.load_weights(self, path, objects_to_skip=_skipped(self))

    def preprocess_samples(self, x, y=None, sample_weight=None):
        """What `fit` does to a batch before the model sees it: the
        preprocessor's output, or `(x, y, sample_weight)` packed as Keras
        packs them when there is no preprocessor."""
        if self.preprocessor is None:
            return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
        return self.preprocessor(x, y=y, sample_weight=sample_weight)


def _task_variables(task):
    backbone_ids = {id(variable) for variable in task.backbone.weights}
    return [variable for variable in task.weights if id(variable) not in backbone_ids]


def _skipped(task):
    return list(task.backbone._flatten_layers())


def _require_suffix(filepath):
    if not os.fspath(filepath).endswith(_SUFFIX):
        raise ValueError(
            f"The task weights file must end in `{_SUFFIX}`. Received: "
            f"filepath={os.fspath(filepath)!r}"
        )


def _require_same_layout(path, own, task_name):
    """Refuse `path` unless it holds the same weights, by name and shape,
    as `own` (this task's head, just saved)."""
    try:
        theirs = _dataset_shapes(path)
    except OSError as error:
        raise ValueError(f"{path!r} is not a Keras weights file ({error}).") from None
    ours = _dataset_shapes(own)
    if theirs == ours:
        return
    differences = [
        f"{name}: file {theirs.get(name, 'absent')}, model {ours.get(name, 'absent')}"
        for name in sorted(set(theirs) | set(ours))
        if theirs.get(name) != ours.get(name)
    ]
    raise ValueError(
        f"The task weights in {path!r} do not fit this {task_name}'s head "
        f"(another architecture or task): {'; '.join(differences[:4])}"
        + (f"; and {len(differences) - 4} more" if len(differences) > 4 else "")
    )


def _dataset_shapes(path):
    """`{dataset path: shape}` of an HDF5 file."""
    shapes = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                shapes.__setitem__(name, tuple(item.shape))
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return shapes
