"""Raw strings to the batches `AlbertMaskedLM.fit`, `evaluate` and `predict` read.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> batches = string_dataset(masked_lm.preprocessor, ["a dog.", "a cat."],
...     batch_size=2, shuffle=False, seed=0)
>>> sorted(next(iter(batches))[0])
['mask_positions', 'padding_mask', 'segment_ids', 'token_ids']
"""

import keras
import numpy as np


def string_dataset(
    preprocessor, x, batch_size, shuffle, drop_remainder=True, seed=None
):
    """`x` (strings, or a dataset of them) as a batched, preprocessed,
    prefetched `tf.data.Dataset`; with `seed` (an integer), seeded masking.

    Under a Keras distribution that splits each batch over `n` devices,
    `batch_size` is the global batch and must be a multiple of `n`, and
    with `drop_remainder` a final partial batch is dropped, since every
    device needs an equal share.
    """
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        dataset = x
    else:
        batch_size = batch_size or 32
        batch_shards = _batch_shards()
        if batch_size % batch_shards:
            raise ValueError(
                f"`batch_size` must be a multiple of the {batch_shards} "
                "devices the distribution splits each batch over. "
                f"Received: batch_size={batch_size}"
            )
        dataset = tf.data.Dataset.from_tensor_slices(x)
        if shuffle:
            dataset = dataset.shuffle(int(dataset.cardinality()))
        dataset = dataset.batch(
            batch_size, drop_remainder=drop_remainder and batch_shards > 1
        )
    spec = dataset.element_spec
    if isinstance(spec, dict) or (
        isinstance(spec, tuple) and isinstance(spec[0], dict)
    ):
        return dataset  # Already preprocessed: integer dicts.

    # Graph code already: AutoGraph would only spend seconds converting it.
    @tf.autograph.experimental.do_not_convert
    def preprocess(index, segments):
        batch_seed = None if seed is None else tf.stack([seed, index])
        outputs = preprocessor(
            segments if len(segments) > 1 else segments[0], seed=batch_seed
        )
        # Keep a static batch size static: Keras needs it to split each
        # batch between the processes of a multi-host distribution.
        batch_shape = segments[0].shape
        if batch_shape.rank == 1:
            for tensor in tf.nest.flatten(outputs):
                tensor.set_shape(batch_shape.concatenate(tensor.shape[1:]))
        return outputs

    dataset = dataset.map(lambda *segments: segments)  # Always a tuple.
    dataset = dataset.enumerate().map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _batch_shards():
    """How many devices split each batch under the current Keras distribution."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    mesh = distribution.device_mesh
    return mesh.shape[mesh.axis_names.index(distribution.batch_dim_name)]


def lists_to_arrays(structure):
    """Nested Python lists of numbers (as on KerasHub's API page) to arrays."""
    if isinstance(structure, list):
        return np.asarray(structure)
    if isinstance(structure, dict):
        return {key: lists_to_arrays(value) for key, value in structure.items()}
    if isinstance(structure, tuple):
        return tuple(lists_to_arrays(value) for value in structure)
    return structure
