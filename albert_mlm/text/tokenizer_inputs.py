"""What `AlbertTokenizer` accepts as text and as ids, turned into Python lists.

Strings may come as `str`, UTF-8 `bytes`, lists, tuples, 1-D numpy arrays or
tensors of any backend; ids as sequences, 2-D arrays, ragged or dense
tensors. Anything else is refused with a message naming what was received.

>>> to_python_strings(["a dog.", b"a cat."])
(['a dog.', 'a cat.'], True)
>>> to_id_rows([5, 6, 7], vocabulary_size=100)
([[5, 6, 7]], False)
"""

import numpy as np

STRINGS_EXPECTED = (
    "AlbertTokenizer takes a string or a batch of strings (a list, tuple, 1-D "
    "array or tensor). "
)


def to_python_strings(inputs):
    """`(list of str, is_batch)` from a string, bytes, list, array or tensor."""
    if hasattr(inputs, "numpy"):
        inputs = inputs.numpy()
    if isinstance(inputs, np.ndarray):
        if inputs.dtype.kind not in "SUO":
            raise TypeError(
                STRINGS_EXPECTED + f"Received an array of dtype {inputs.dtype}."
            )
        if inputs.ndim > 1:
            raise ValueError(
                STRINGS_EXPECTED + f"Received an array of shape {inputs.shape}."
            )
        inputs = inputs.item() if inputs.ndim == 0 else inputs.tolist()
    is_batch = isinstance(inputs, list | tuple)
    texts = list(inputs) if is_batch else [inputs]
    for index, text in enumerate(texts):
        if isinstance(text, bytes):
            try:
                texts[index] = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"Input {index} is not valid UTF-8 ({error})."
                ) from None
        elif not isinstance(text, str):
            where = f" at index {index}" if is_batch else ""
            raise TypeError(
                STRINGS_EXPECTED + f"Received{where} a value of type "
                f"{type(text).__name__}: {text!r:.80}"
            )
    return texts, is_batch


def to_id_rows(ids, vocabulary_size):
    """`(list of int lists, is_batch)` from one id sequence or a batch of them."""
    if hasattr(ids, "to_list"):  # A ragged tensor.
        ids = ids.to_list()
    elif hasattr(ids, "numpy"):  # A TensorFlow or torch tensor.
        ids = ids.numpy()
    elif hasattr(ids, "__array__") and not isinstance(ids, np.ndarray):  # jax.
        ids = np.asarray(ids)
    if isinstance(ids, np.ndarray) and ids.ndim == 2:
        ids = list(ids)
    is_batch = isinstance(ids, list | tuple) and any(
        isinstance(row, list | tuple | np.ndarray) for row in ids
    )
    rows = list(ids) if is_batch else [ids]
    if not isinstance(ids, list | tuple | np.ndarray) or not all(
        isinstance(row, list | tuple | np.ndarray) for row in rows
    ):
        raise TypeError(
            "`ids` must be a sequence of token ids or a batch of them. "
            f"Received: {type(ids).__name__} {ids!r:.60}"
        )
    arrays = [np.asarray(row) for row in rows]
    for array in arrays:
        if array.ndim != 1:
            raise ValueError(
                "`ids` must be 1-D (one sequence) or 2-D (a batch of sequences). "
                f"Received {'rows' if is_batch else 'an array'} of shape "
                f"{array.shape}."
            )
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(
                f"`ids` must hold integer token ids. Received dtype {array.dtype}: "
                f"{array.tolist()!r:.60}"
            )
        if array.size and (array.min() < 0 or array.max() >= vocabulary_size):
            raise ValueError(
                f"`ids` must be in [0, {vocabulary_size}), the vocabulary size. "
                f"Received ids from {array.min()} to {array.max()}."
            )
    return [array.tolist() for array in arrays], is_batch


def in_tf_graph(inputs):
    """Whether `inputs` is a TensorFlow tensor being traced (in `tf.data` or
    a `tf.function`), not an eager value."""
    import tensorflow as tf

    return isinstance(inputs, tf.Tensor | tf.RaggedTensor) and not (
        tf.executing_eagerly()
    )
