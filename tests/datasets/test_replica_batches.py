"""Each data-parallel replica masks its batches with its own seeds."""

import numpy as np
import tensorflow as tf

from albert_mlm import AlbertMaskedLMPreprocessor
from albert_mlm.datasets.batches import masked_texts


def _masks(replica):
    preprocessor = AlbertMaskedLMPreprocessor.from_preset(
        "albert_tiny_en_uncased", sequence_length=16
    )
    texts = tf.data.Dataset.from_tensor_slices(
        ["the cat sat on the mat near the door of the old house"] * 4
    ).batch(2)
    batches = masked_texts(texts, preprocessor, seed=7, replica=replica)
    return [x["mask_positions"].numpy() for x, _, _ in batches]


def test_replicas_draw_other_masks_and_one_replica_keeps_the_batch_seeds():
    first, second = _masks((0, 2)), _masks((1, 2))
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))
    # Replica 0 of 2 masks its batch n with the seed of batch 2n.
    alone = _masks((0, 1))
    np.testing.assert_array_equal(first[0], alone[0])
    assert not all(np.array_equal(a, b) for a, b in zip(first[1:], alone[1:]))
