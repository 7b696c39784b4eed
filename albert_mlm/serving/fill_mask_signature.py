"""`fill_mask` as one TensorFlow function of a batch of strings: tokenize,
pack, run the masked LM at the `[MASK]` positions, keep the top k.

Every step is a TensorFlow op (the tokenizer's own graph tokenization, the
model's layers, `tf.math.top_k`), so a SavedModel of the function runs where
only TensorFlow and tensorflow-text are installed. Results match
`AlbertMaskedLM.fill_mask` on single texts: the same ids, ties broken the
same way (lower id first), the same ids never proposed.

Outputs, per text (`[batch]`) and per text, mask and rank
(`[batch, max_masks, top_k]`):
- `status` (int32): one of `STATUS_CODES`: 0 when the text was filled, else
  why it was refused, as `fill_mask` refuses it (one refused text does not
  fail the batch; its rows are padding).
- `mask_count` (int32): the `[MASK]`s in the text; with status 0, the first
  `mask_count` rows of each per-mask output are real, the rest padding.
- `ids` (int32, padding -1), `pieces` and `tokens` (string, padding ""),
  `probabilities` (float32, padding 0): the candidates, most likely first;
  `tokens` are the pieces as a reader sees them (`"▁dog"` -> `"dog"`).

On the tensorflow backend (the graph needs TensorFlow tensors, so this is
not run as a doctest, which runs on every backend):

    masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
    function = fill_mask_function(masked_lm, top_k=3, max_masks=2)
    outputs = function(tf.constant(["the [MASK] barked."]))
    outputs["ids"].shape  # [1, 2, 3]
"""

import numpy as np

from albert_mlm.inference.candidates import never_proposed_ids

STATUS_CODES = {
    0: "filled",
    1: "no [MASK] in the text (or an empty text)",
    2: "longer than the sequence_length, [CLS] and [SEP] included",
    3: "more [MASK]s than max_masks",
}
"""What each `status` value of the `fill_mask` signature means."""
_FILLED, _NO_MASK, _TOO_LONG, _TOO_MANY_MASKS = range(4)
# `[MASK]` as a person types it, any case: what `fill_mask` accepts.
_MASK_ANY_CASE = r"(?i)\[mask\]"


def fill_mask_function(masked_lm, top_k, max_masks):
    """A `tf.function` from a `[None]` `tf.string` batch to the outputs above.

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor, on the
            tensorflow backend.
        top_k: candidates per mask (fewer when the vocabulary has fewer).
        max_masks: the per-mask outputs' fixed size; texts with more masks
            are refused (status 3).
    """
    import tensorflow as tf

    tokenizer = masked_lm.preprocessor.tokenizer
    sequence_length = masked_lm.preprocessor.sequence_length
    never = never_proposed_ids(tokenizer)
    top_k = min(top_k, tokenizer.vocabulary_size() - len(never))
    pieces = tokenizer.get_vocabulary()
    excluded = np.zeros(len(pieces), "float32")
    excluded[never] = -np.inf
    tables = {
        "pieces": tf.constant(pieces),
        "tokens": tf.constant([p.replace("\u2581", "") or p for p in pieces]),
        # Added to the logits before ranking: never-proposed ids rank last.
        "excluded": tf.constant(excluded),
    }

    @tf.function(
        input_signature=[tf.TensorSpec([None], tf.string, name="texts")],
        autograph=False,
    )
    def fill_mask(texts):
        count = tf.shape(texts)[0]
        # The model cannot run on no rows: an empty batch runs one stand-in.
        texts = tf.concat([texts, tf.fill([tf.maximum(1 - count, 0)], "")], 0)
        texts = tf.strings.regex_replace(texts, _MASK_ANY_CASE, "[MASK]")
        inputs, status, mask_count = _model_inputs(
            tokenizer, tokenizer.token_rows(texts), sequence_length, max_masks
        )
        logits = masked_lm(inputs, training=False)
        found = _candidates(logits, tables, top_k)
        outputs = {
            "status": status,
            "mask_count": mask_count,
            **_padded(found, status == _FILLED, mask_count, max_masks),
        }
        return {name: values[:count] for name, values in outputs.items()}

    return fill_mask


def _model_inputs(tokenizer, token_rows, sequence_length, max_masks):
    """`(model inputs, status, mask_count)`: each text packed `[CLS] text
    [SEP]` (cut at `sequence_length`, those being refused), padded to the
    batch's longest, with its mask positions (position 0 where none)."""
    import tensorflow as tf

    batch = token_rows.nrows()
    lengths = tf.cast(token_rows.row_lengths(), "int32") + 2
    cls = tf.fill([batch, 1], tokenizer.cls_token_id)
    sep = tf.fill([batch, 1], tokenizer.sep_token_id)
    packed = tf.concat([cls, token_rows, sep], axis=1)[:, :sequence_length]
    token_ids = packed.to_tensor(default_value=tokenizer.pad_token_id)
    padding_mask = tf.sequence_mask(packed.row_lengths(), tf.shape(token_ids)[1])
    columns = tf.broadcast_to(tf.range(tf.shape(token_ids)[1]), tf.shape(token_ids))
    is_mask = tf.equal(token_ids, tokenizer.mask_token_id)
    positions = tf.ragged.boolean_mask(columns, is_mask)
    mask_count = tf.reduce_sum(
        tf.cast(tf.equal(token_rows, tokenizer.mask_token_id), "int32"), axis=1
    )
    status = tf.where(mask_count == 0, _NO_MASK, _FILLED)
    status = tf.where(mask_count > max_masks, _TOO_MANY_MASKS, status)
    status = tf.where(lengths > sequence_length, _TOO_LONG, status)
    positions = positions[:, :max_masks].to_tensor(default_value=0)
    # At least one column, so a batch with no mask still runs.
    width = tf.maximum(tf.shape(positions)[1], 1)
    positions = tf.pad(positions, [[0, 0], [0, 1]])[:, :width]
    inputs = {
        "token_ids": token_ids,
        "segment_ids": tf.zeros_like(token_ids),
        "padding_mask": tf.cast(padding_mask, "int32"),
        "mask_positions": positions,
    }
    return inputs, status, mask_count


def _candidates(logits, tables, top_k):
    """Top-k ids, pieces, tokens and probabilities at each position."""
    import tensorflow as tf

    # `tf.math.top_k` puts the lower index first among equals, as the
    # stable sort of `fill_mask` does.
    _, ids = tf.math.top_k(logits + tables["excluded"], k=top_k)
    probabilities = tf.gather(tf.nn.softmax(logits), ids, batch_dims=2)
    return {
        "ids": ids,
        "pieces": tf.gather(tables["pieces"], ids),
        "tokens": tf.gather(tables["tokens"], ids),
        "probabilities": probabilities,
    }


def _padded(found, filled, mask_count, max_masks):
    """Each output `[batch, max_masks, k]`, padding wherever a row is not a
    filled text's mask."""
    import tensorflow as tf

    real = tf.sequence_mask(tf.where(filled, mask_count, 0), max_masks)[..., None]
    padding = {"ids": -1, "pieces": "", "tokens": "", "probabilities": 0.0}
    result = {}
    for name, values in found.items():
        width = max_masks - tf.shape(values)[1]
        values = tf.pad(
            values, [[0, 0], [0, width], [0, 0]], constant_values=padding[name]
        )
        result[name] = tf.where(real, values, padding[name])
    return result
