"""One of our variables and where a checkpoint format keeps its values.

Format modules (`keras_hub_weights`, `transformers_checkpoint`) list entries
(`dense_entries` and `layer_norm_entries` for the common layers);
`stage_entries` reads and checks them all (shapes, finite values) before
anything is assigned, so a checkpoint that does not fit leaves the model
unchanged.

>>> import keras
>>> dense = keras.layers.Dense(3)
>>> dense.build((None, 2))
>>> [entry.keys for entry in dense_entries(dense, "w", "b", transpose=True)]
[('w',), ('b',)]
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WeightEntry:
    """The checkpoint keys that together hold one of our variables.

    `to_ours` turns the arrays stored under `keys` into the variable's value;
    `to_theirs` turns the value back into those arrays.
    """

    keys: tuple
    variable: object
    to_ours: Callable = lambda arrays: arrays[0]
    to_theirs: Callable = lambda array: [array]


def transposed(key, variable):
    """An entry for a kernel stored `(out, in)`, as torch's `Linear` does."""
    return WeightEntry((key,), variable, lambda a: a[0].T, lambda a: [a.T])


def dense_entries(dense, kernel_key, bias_key, transpose=False):
    """A dense layer's kernel (stored `(out, in)` when `transpose`) and bias."""
    kernel = (
        transposed(kernel_key, dense.kernel)
        if transpose
        else WeightEntry((kernel_key,), dense.kernel)
    )
    return [kernel, WeightEntry((bias_key,), dense.bias)]


def layer_norm_entries(layer_norm, gamma_key, beta_key):
    """A layer norm's scale and offset."""
    return [
        WeightEntry((gamma_key,), layer_norm.gamma),
        WeightEntry((beta_key,), layer_norm.beta),
    ]


def stage_entries(entries, read, source):
    """`[(variable, value)]` for `entries`: every key present, shapes and
    finiteness checked.

    Args:
        entries: `WeightEntry` list.
        read: `read(key)` returns the stored array, or `None` when missing.
        source: the file or directory named in error messages.
    """
    staged = []
    for entry in entries:
        arrays = [read(key) for key in entry.keys]
        missing = [key for key, array in zip(entry.keys, arrays) if array is None]
        if missing:
            raise ValueError(
                f"{source} has no weight {missing[0]!r}: it does not hold this "
                "ALBERT architecture."
            )
        value = np.asarray(entry.to_ours([np.asarray(a) for a in arrays]))
        expected = tuple(entry.variable.shape)
        if tuple(value.shape) != expected:
            raise ValueError(
                f"Shape mismatch for variable {entry.variable.path!r}: the model "
                f"expects {expected}, {source} holds {tuple(value.shape)} "
                f"(from {', '.join(entry.keys)})."
            )
        # A NaN or infinity would silently poison every output downstream.
        if (
            value.dtype.kind not in "biu"
            and not np.isfinite(value.astype("float32")).all()
        ):
            raise ValueError(
                f"Non-finite values (NaN or infinity) for variable "
                f"{entry.variable.path!r}: {source} holds them in "
                f"{', '.join(entry.keys)}; weights must be finite numbers."
            )
        staged.append((entry.variable, value))
    return staged


def assign_staged(staged):
    """Assign values returned by `stage_entries`."""
    for variable, value in staged:
        variable.assign(value.astype(variable.dtype))


def refuse_extra_blocks(stored_keys, entries, is_block_key, source):
    """Refuse a checkpoint holding encoder blocks its configuration lacks.

    Loaded with them ignored, a checkpoint of 6 blocks under a config of 4
    would silently compute something else than it was trained to.

    Args:
        stored_keys: every key the checkpoint holds.
        entries: the `WeightEntry` list being loaded.
        is_block_key: tells a key of an encoder block.
        source: the file or directory named in the message.
    """
    used = {key for entry in entries for key in entry.keys}
    extra = sorted(k for k in stored_keys if k not in used and is_block_key(k))
    if extra:
        raise ValueError(
            f"{source} holds {len(extra)} weights of encoder blocks its "
            f"configuration does not describe (e.g. {extra[0]!r}); its "
            "config.json must give the number of groups and blocks per group "
            "the weights were saved with."
        )
