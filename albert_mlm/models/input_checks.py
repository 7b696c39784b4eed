"""Checks of the inputs of `AlbertBackbone` and `AlbertMaskedLM`.

They run in Python where an input enters (a model call, `fit`, `evaluate`,
`predict`) on concrete inputs (numpy arrays, lists, strings) before they
reach a backend, and look only at static shapes of backend tensors, so a
compiled training step carries no extra work. Errors name the input, what
was received and what is expected.

>>> from albert_mlm import ARCHITECTURES, AlbertBackbone
>>> backbone = AlbertBackbone(**ARCHITECTURES["albert_base_en_uncased"])
>>> check_model_inputs(backbone, {"token_ids": [[2, 30000]],
...     "segment_ids": [[0, 0]], "padding_mask": [[1, 1]]})
Traceback (most recent call last):
ValueError: `token_ids` must be in [0, 30000), ...
"""

from collections.abc import Mapping

import keras
import numpy as np

from albert_mlm.argument_checks import require_positive_int

BACKBONE_INPUTS = ("token_ids", "segment_ids", "padding_mask")
MASKED_LM_INPUTS = BACKBONE_INPUTS + ("mask_positions",)


def check_model_inputs(backbone, inputs, keys=BACKBONE_INPUTS):
    """Validate the input dict of an `AlbertBackbone` or `AlbertMaskedLM`.

    Checks the keys, that all arrays are `(batch, sequence)` with one batch
    size and one length, and that the length fits `max_sequence_length`. For
    numpy arrays and lists it also checks the values: integer ids within the
    vocabulary, segment ids below `num_segments`, mask positions inside the
    sequence (jax would clamp such indices silently).
    """
    if not isinstance(inputs, Mapping):
        raise TypeError(
            f"Expected a dict with keys {list(keys)}. Received: {_describe(inputs)}"
        )
    missing = [key for key in keys if key not in inputs]
    if missing:
        raise ValueError(
            f"The inputs lack the key(s) {missing}. Expected keys {list(keys)}; "
            f"received keys {sorted(inputs)}."
        )
    shapes = {key: _static_shape(inputs[key]) for key in keys}
    for key, shape in shapes.items():
        if shape is not None and len(shape) != 2:
            raise ValueError(
                f"`{key}` must be 2-D, (batch_size, sequence_length). "
                f"Received shape {shape}."
            )
    length = _agreed_length(shapes, keys)
    if length is not None and length > backbone.max_sequence_length:
        raise ValueError(
            f"The inputs have sequence length {length}, more than the backbone's "
            f"`max_sequence_length` ({backbone.max_sequence_length}). Truncate "
            "them, e.g. with a preprocessor of a smaller `sequence_length`."
        )
    _check_ids(inputs, "token_ids", backbone.vocabulary_size, "`vocabulary_size`")
    _check_ids(inputs, "segment_ids", backbone.num_segments, "`num_segments`")
    if "mask_positions" in keys and length is not None:
        _check_ids(inputs, "mask_positions", length, "the sequence length")


def check_masked_lm_inputs(masked_lm, inputs):
    """`check_model_inputs` for an `AlbertMaskedLM`, `mask_positions` included."""
    check_model_inputs(masked_lm.backbone, inputs, MASKED_LM_INPUTS)


def check_masked_lm_data(masked_lm, x, batch_size=None):
    """Validate the `x` and `batch_size` of `AlbertMaskedLM.fit`, `evaluate`
    or `predict`.

    Runs once per call, in Python, before Keras batches the data. An `x`
    with no rows is refused here: Keras' loops would otherwise return an
    empty history or crash, differently on each backend.
    """
    import tensorflow as tf

    if batch_size is not None:
        require_positive_int("batch_size", batch_size)
    preprocessor = masked_lm.preprocessor
    if isinstance(x, tf.data.Dataset):
        _check_dataset_spec(masked_lm, x.element_spec)
        if x.cardinality() == 0:
            raise _no_rows("a dataset of 0 batches")
        return
    if isinstance(x, Mapping):
        for key in MASKED_LM_INPUTS:
            shape = _static_shape(x.get(key))
            if shape and shape[0] == 0:
                raise _no_rows(f"`{key}` has shape {shape}")
        check_masked_lm_inputs(masked_lm, x)
        return
    if preprocessor is None:
        raise _needs_preprocessor(_describe(x))
    _check_preprocessor_fits(masked_lm)
    segments = x if isinstance(x, tuple) else (x,)
    if not 1 <= len(segments) <= 2:
        raise ValueError(
            "`x` must be a batch of strings or a tuple of two batches (sentence "
            f"pairs). Received a tuple of {len(segments)}."
        )
    sizes = [_string_batch_size(segment) for segment in segments]
    if len(set(sizes)) > 1:
        raise ValueError(
            "The two segments of `x` must hold the same number of texts. "
            f"Received {sizes[0]} and {sizes[1]}."
        )
    if sizes[0] == 0:
        raise _no_rows("an empty batch of strings")


def _no_rows(detail):
    return ValueError(
        f"`x` has 0 rows ({detail}): `fit`, `evaluate` and `predict` need at "
        "least one example."
    )


def _needs_preprocessor(received):
    return TypeError(
        "This AlbertMaskedLM has no preprocessor, so `x` must be a dict of "
        f"integer arrays with keys {list(MASKED_LM_INPUTS)} (or a "
        f"tf.data.Dataset of them). Received: {received}. Pass "
        "`preprocessor=` to the constructor to use raw strings."
    )


def _check_preprocessor_fits(masked_lm):
    length = masked_lm.preprocessor.sequence_length
    limit = masked_lm.backbone.max_sequence_length
    if length > limit:
        raise ValueError(
            f"The preprocessor's `sequence_length` ({length}) exceeds the "
            f"backbone's `max_sequence_length` ({limit})."
        )


def _check_dataset_spec(masked_lm, spec):
    import tensorflow as tf

    features = spec[0] if isinstance(spec, tuple) else spec
    if isinstance(features, Mapping):
        missing = [key for key in MASKED_LM_INPUTS if key not in features]
        if missing:
            raise ValueError(
                f"The dataset's elements lack the key(s) {missing}. Expected "
                f"keys {list(MASKED_LM_INPUTS)}."
            )
        return
    if masked_lm.preprocessor is None:
        raise _needs_preprocessor(f"a dataset of spec {spec}")
    _check_preprocessor_fits(masked_lm)
    for element in tf.nest.flatten(spec):
        if getattr(element, "dtype", None) != tf.string:
            raise TypeError(
                "A dataset for this AlbertMaskedLM must yield batches of strings "
                "(or tuples of two, for sentence pairs). Received elements of "
                f"spec {spec}."
            )


def _string_batch_size(texts):
    """The number of texts in one segment of `x`; raises if not strings."""
    if hasattr(texts, "numpy"):
        texts = texts.numpy()
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(
                f"`x` must be a 1-D batch of strings. Received shape {texts.shape}."
            )
        texts = texts.tolist()
    if isinstance(texts, str | bytes):
        raise TypeError(
            "`x` must be a batch of strings: wrap a single string in a list. "
            f"Received: {_describe(texts)}"
        )
    if not isinstance(texts, list | tuple):
        raise TypeError(
            "`x` must be a list of strings or a tuple of two lists (sentence "
            f"pairs). Received: {_describe(texts)}"
        )
    for index, text in enumerate(texts):
        if not isinstance(text, str | bytes):
            raise TypeError(
                f"`x` must hold strings. Received at index {index}: {_describe(text)}"
            )
    return len(texts)


def _static_shape(value):
    """The shape as a tuple of ints and `None`s, or `None` if unknown."""
    if isinstance(value, list | tuple):
        try:
            return np.shape(value)
        except ValueError:  # Ragged nested lists.
            return None
    shape = getattr(value, "shape", None)
    if shape is None or getattr(shape, "rank", 0) is None:
        return None
    return tuple(dim if isinstance(dim, int) else None for dim in shape)


def _agreed_length(shapes, keys):
    """The sequence length all inputs share, or `None` if unknown.

    Raises `ValueError` if their batch sizes or sequence lengths differ.
    """
    agreed = {}
    for key in keys:
        shape = shapes[key]
        if shape is None:
            continue
        # `mask_positions` shares only the batch size.
        dims = {"batch size": shape[0]}
        if key in BACKBONE_INPUTS:
            dims["sequence length"] = shape[1]
        for what, dim in dims.items():
            if dim is None:
                continue
            other_key, other = agreed.setdefault(what, (key, dim))
            if dim != other:
                raise ValueError(
                    f"`{key}` has {what} {dim} but `{other_key}` has {other}; "
                    f"all inputs must agree. Received shapes "
                    f"{ {k: s for k, s in shapes.items() if s is not None} }."
                )
    return agreed.get("sequence length", (None, None))[1]


def _check_ids(inputs, key, upper, what):
    """Raise unless the numpy/list `inputs[key]` holds integers in [0, upper)."""
    value = inputs[key]
    if isinstance(value, list | tuple):
        if _static_shape(value) is None:
            raise ValueError(
                f"`{key}` must be a (batch_size, sequence_length) array. Received "
                "nested lists of unequal lengths: pad them to one length."
            )
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        if not _is_eager_tensor(value):
            return  # Symbolic or traced: no values, and a dtype Keras chose.
        if not _is_integer_dtype(value.dtype):
            raise TypeError(
                f"`{key}` must hold integers. Received dtype "
                f"{keras.backend.standardize_dtype(value.dtype)}."
            )
        value = _values_on_cpu(value)
        if value is None:
            return  # On an accelerator: reading values would stall it.
    if value.dtype.kind not in "iu":
        raise TypeError(f"`{key}` must hold integers. Received dtype {value.dtype}.")
    if value.size and (value.min() < 0 or value.max() >= upper):
        raise ValueError(
            f"`{key}` must be in [0, {upper}), {upper} being {what}. Received "
            f"values from {value.min()} to {value.max()}."
        )


def known_unpadded(padding_mask):
    """True when `padding_mask` is all ones and its values are readable on the
    host without waiting for a device (numpy, or an eager tensor in CPU
    memory); False when it has padding or only the device knows.

    >>> known_unpadded(np.ones((2, 3))), known_unpadded(np.eye(2))
    (True, False)
    """
    values = padding_mask
    if not isinstance(values, np.ndarray):
        values = _values_on_cpu(values) if _is_eager_tensor(values) else None
    return values is not None and bool(np.all(values))


def _is_integer_dtype(dtype):
    try:
        return keras.backend.standardize_dtype(dtype).startswith(("int", "uint"))
    except ValueError:
        return True  # A dtype Keras does not know: leave it to the backend.


def _is_eager_tensor(value):
    """True for a concrete tensor of the Keras backend, not a symbolic one
    (a model being built, a TensorFlow graph, a JAX trace, a torch compile)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return isinstance(value, tf.Tensor) and tf.executing_eagerly()
    if backend == "jax":
        import jax

        return isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer)
    if backend == "torch":
        import torch

        return isinstance(value, torch.Tensor) and not torch.compiler.is_compiling()
    return False


def _values_on_cpu(tensor):
    """The values of an eager tensor held in host memory, as numpy (no copy,
    no device sync), or `None` for one on an accelerator."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        on_cpu = "GPU" not in tensor.device and "TPU" not in tensor.device
    elif backend == "jax":
        on_cpu = all(device.platform == "cpu" for device in tensor.devices())
    else:
        on_cpu = tensor.device.type == "cpu"
    if not on_cpu:
        return None
    return tensor.detach().numpy() if backend == "torch" else np.asarray(tensor)


def _describe(value):
    """A short description of a value for an error message."""
    return f"{type(value).__name__} {value!r:.60}"
