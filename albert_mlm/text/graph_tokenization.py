"""Tokenization as TensorFlow ops: the one path, inside `tf.data` and eagerly.

Special tokens written in the text are cut out, the rest normalised and
encoded by tensorflow-text's SentencePiece op, all as TensorFlow ops, which
run in `tf.data` graphs (in parallel, with no Python) and eagerly alike: one
text gets one sequence of ids everywhere, the ids KerasHub's tokenizer gives.
(The `sentencepiece` package, which Hugging Face's slow `AlbertTokenizer`
runs, breaks ties between equally likely segmentations differently: with the
test vocabulary it cuts "..." as ". .." where this op gives ".. .". So the
tokenizer uses that package only for vocabulary lookups and eager
`detokenize`. Such ties are rare in text: 16 of 7,496 sentences of English
prose with a 8,000-piece vocabulary.)

>>> import tensorflow as tf
>>> from albert_mlm import AlbertTokenizer
>>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
>>> ids = tf.data.Dataset.from_tensor_slices(["A dog."]).batch(1).map(tokenizer)
>>> next(iter(ids)).to_list() == [tokenizer("A dog.").tolist()]
True
"""

from albert_mlm.text.normalization import normalize_text_tf
from albert_mlm.text.tokenizer_inputs import STRINGS_EXPECTED


def tokenize_in_graph(
    texts, sentencepiece_op, special_tokens, special_pattern, lowercase
):
    """Token ids of a string tensor (a vector for one text, ragged rows for a
    1-D batch), computed with TensorFlow ops.

    Args:
        texts: a `tf.string` tensor, scalar or 1-D.
        sentencepiece_op: a `tensorflow_text.SentencepieceTokenizer`.
        special_tokens: `{token text: id}` of the special tokens that written in
            the text map to their ids.
        special_pattern: a regular expression capturing any of them.
        lowercase: apply the uncased normalisation to the other text.
    """
    import tensorflow as tf

    texts = tf.convert_to_tensor(texts)
    if texts.dtype != tf.string:
        raise TypeError(
            STRINGS_EXPECTED + f"Received a tensor of dtype {texts.dtype.name}."
        )
    is_scalar = texts.shape.rank == 0
    if is_scalar:
        texts = texts[None]
    # Cut every text into parts at the special tokens, through a NUL
    # sentinel: much faster than a regex split.
    texts = tf.strings.regex_replace(texts, "\x00", "")
    texts = tf.strings.regex_replace(texts, special_pattern, "\x00\\1\x00")
    parts = tf.strings.split(texts, sep="\x00")
    flat_parts = parts.flat_values
    special_ids = tf.fill(tf.shape(flat_parts), -1)
    for token, token_id in special_tokens.items():
        special_ids = tf.where(tf.equal(flat_parts, token), token_id, special_ids)
    is_special = special_ids >= 0
    plain = tf.where(is_special, "", flat_parts)
    if lowercase:
        plain = normalize_text_tf(plain)
    plain_ids = sentencepiece_op.tokenize(plain).with_row_splits_dtype("int64")
    flat_ids, part_lengths = _merged_parts(plain_ids, special_ids, is_special)
    text_lengths = tf.math.unsorted_segment_sum(
        part_lengths, parts.value_rowids(), parts.nrows()
    )
    ids = tf.RaggedTensor.from_row_lengths(flat_ids, text_lengths)
    return ids[0] if is_scalar else ids


def _merged_parts(plain_ids, special_ids, is_special):
    """`(flat ids, ids per part)`: each part yields its plain ids (ragged
    `plain_ids`) or its one special id, placed at their offsets in order."""
    import tensorflow as tf

    part_lengths = plain_ids.row_lengths() + tf.cast(is_special, "int64")
    part_starts = tf.cumsum(part_lengths, exclusive=True)
    token_parts = plain_ids.value_rowids()
    token_offsets = tf.range(tf.size(plain_ids.values, out_type=tf.int64))
    token_offsets -= tf.gather(plain_ids.row_starts(), token_parts)
    positions = tf.concat(
        [
            tf.gather(part_starts, token_parts) + token_offsets,
            tf.boolean_mask(part_starts, is_special),
        ],
        axis=0,
    )
    values = tf.concat(
        [plain_ids.values, tf.boolean_mask(special_ids, is_special)], axis=0
    )
    flat_ids = tf.scatter_nd(
        positions[:, None], values, tf.reduce_sum(part_lengths)[None]
    )
    return flat_ids, part_lengths
