"""Pack one or two segments as `[CLS] a [SEP] (b [SEP])`, truncate and pad."""

from albert_mlm.argument_checks import require_choice, require_positive_int

TRUNCATION_STRATEGIES = ("round_robin", "waterfall")


class SegmentPacker:
    """Turns ragged token rows into fixed-length `token_ids` and `segment_ids`.

    Segment ids are 0 for `[CLS]`, the first segment and its `[SEP]`, then 1
    for the second segment and its `[SEP]`. When the segments do not fit,
    `round_robin` hands out the room one token at a time to each segment in
    turn, the first segment first, until it is spent or a segment runs out
    (so kept lengths differ by at most one unless a segment is used up);
    `waterfall` trims the last segment first.

    Args:
        start_value: the `[CLS]` id; end_value: the `[SEP]` id;
        pad_value: the padding id; sequence_length: the output length;
        truncate: `"round_robin"` or `"waterfall"`.

    Example:
    >>> import tensorflow as tf
    >>> packer = SegmentPacker(2, 3, 0, sequence_length=8)
    >>> token_ids, segment_ids = packer((tf.ragged.constant([[5, 6], [7]]),
    ...                                  tf.ragged.constant([[8], [9, 10]])))
    >>> token_ids.numpy()[0].tolist()
    [2, 5, 6, 3, 8, 3, 0, 0]
    """

    def __init__(
        self, start_value, end_value, pad_value, sequence_length, truncate="round_robin"
    ):
        self.start_value = start_value
        self.end_value = end_value
        self.pad_value = pad_value
        self.sequence_length = require_positive_int("sequence_length", sequence_length)
        self.truncate = require_choice("truncate", truncate, TRUNCATION_STRATEGIES)

    def __call__(self, segments):
        """Pack a tuple of ragged `(batch, None)` int tensors."""
        import tensorflow as tf
        import tensorflow_text as tf_text

        segments = list(segments)
        budget = self.sequence_length - 1 - len(segments)
        if budget < 0:
            raise ValueError(
                f"`sequence_length`={self.sequence_length} leaves no room for "
                f"[CLS] and {len(segments)} [SEP] token(s)."
            )
        if len(segments) == 1:
            return self._pack_one(segments[0], budget)
        segments[1] = _with_rows_of(segments[1], segments[0])
        trimmer_class = (
            tf_text.RoundRobinTrimmer
            if self.truncate == "round_robin"
            else tf_text.WaterfallTrimmer
        )
        segments = trimmer_class(max_seq_length=budget).trim(segments)
        token_ids, segment_ids = tf_text.combine_segments(
            segments,
            start_of_sequence_id=self.start_value,
            end_of_segment_id=self.end_value,
        )
        shape = [None, self.sequence_length]
        token_ids = token_ids.to_tensor(default_value=self.pad_value, shape=shape)
        segment_ids = segment_ids.to_tensor(default_value=0, shape=shape)
        return tf.cast(token_ids, "int32"), tf.cast(segment_ids, "int32")

    def _pack_one(self, segment, budget):
        # Both strategies keep a lone segment's first `budget` tokens. A few
        # dense ops instead of tensorflow-text's trimmer and combiner, which
        # cost more than tokenizing a batch of short lines.
        import tensorflow as tf

        kept = segment[:, :budget]
        body = kept.to_tensor(default_value=self.pad_value, shape=[None, budget])
        rows = tf.shape(body)[0]
        token_ids = tf.concat(
            [
                tf.fill([rows, 1], tf.cast(self.start_value, body.dtype)),
                body,
                tf.fill([rows, 1], tf.cast(self.pad_value, body.dtype)),
            ],
            axis=1,
        )
        end_positions = tf.cast(kept.row_lengths(), "int32")[:, None] + 1
        is_end = tf.range(self.sequence_length)[None, :] == end_positions
        token_ids = tf.where(is_end, tf.cast(self.end_value, body.dtype), token_ids)
        return tf.cast(token_ids, "int32"), tf.zeros_like(token_ids, "int32")


def _with_rows_of(second, first):
    """`second`, once checked to have as many rows as `first`.

    tensorflow-text would otherwise pack rows of unequal batches from memory
    past the end of the shorter one.
    """
    import tensorflow as tf

    rows = first.nrows(), second.nrows()
    if tf.executing_eagerly():
        if int(rows[0]) != int(rows[1]):
            raise ValueError(
                "The two segments must have the same batch size. Received "
                f"{int(rows[0])} and {int(rows[1])} texts."
            )
        return second
    check = tf.debugging.assert_equal(
        rows[0], rows[1], message="The two segments must have the same batch size."
    )
    with tf.control_dependencies([check]):
        return tf.identity(second)
