"""`SegmentPacker` (`albert_mlm.text.segment_packer`) against tensorflow-text's
trimmer and combiner."""

import numpy as np
import pytest
import tensorflow as tf

from albert_mlm.text.segment_packer import SegmentPacker

PAD, CLS, SEP = 0, 2, 3


@pytest.mark.parametrize("row_dtype", ["int32", "int64"])
def test_lone_segment_packs_as_tensorflow_text_would(row_dtype):
    # The one-segment fast path against tensorflow-text's trimmer and
    # combiner, which still pack sentence pairs.
    import tensorflow_text as tf_text

    rng = np.random.default_rng(7)
    for sequence_length in (3, 4, 9, 17):
        for batch_size in (0, 1, 5):
            rows = [
                rng.integers(5, 99, rng.integers(0, 2 * sequence_length)).tolist()
                for _ in range(batch_size)
            ]
            ragged = tf.RaggedTensor.from_row_lengths(
                tf.constant(sum(rows, []), row_dtype, shape=[sum(map(len, rows))]),
                [len(row) for row in rows],
            )
            packer = SegmentPacker(CLS, SEP, PAD, sequence_length=sequence_length)
            token_ids, segment_ids = packer((ragged,))
            trimmed = tf_text.RoundRobinTrimmer(sequence_length - 2).trim([ragged])
            expected_ids, expected_segments = tf_text.combine_segments(
                trimmed, start_of_sequence_id=CLS, end_of_segment_id=SEP
            )
            shape = [None, sequence_length]
            assert token_ids.dtype == segment_ids.dtype == tf.int32
            np.testing.assert_array_equal(
                token_ids, expected_ids.to_tensor(default_value=PAD, shape=shape)
            )
            np.testing.assert_array_equal(
                segment_ids, expected_segments.to_tensor(shape=shape)
            )
