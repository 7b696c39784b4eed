"""Fill `[MASK]` tokens in text with a masked LM's most likely candidates.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> best = fill_mask(masked_lm, ["a young [MASK] that barks."], top_k=3)[0][0][0]
>>> sorted(best)
['id', 'piece', 'probability', 'token']
"""

import re

import keras
import numpy as np

from albert_mlm.argument_checks import require_positive_int

# `[MASK]` as a person types it: any case, as the uncased presets read text.
_MASK_IN_TEXT = re.compile(re.escape("[MASK]"), re.IGNORECASE)
# Inputs are padded to one of these lengths (and mask counts to a power of
# two), so a compiled model sees few shapes: XLA and tf.function compile once
# per shape, and a fresh shape costs seconds.
_LENGTH_BUCKETS = (16, 32, 64, 128, 256, 512)


def fill_mask(masked_lm, texts, top_k=5):
    """Top-k candidates for every `[MASK]` of every text.

    Special tokens (padding, `[CLS]`, `[SEP]`, `[MASK]`, `<unk>`) are never
    candidates; a probability is the model's, over the whole vocabulary.

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor (for its tokenizer
            and sequence length).
        texts: a list of strings, each with at least one `[MASK]`.
        top_k: candidates per mask (fewer when the vocabulary has fewer).

    Returns:
        One list per text, holding one list per `[MASK]` (in order) of
        `{"token", "piece", "id", "probability"}` dicts, most likely first:
        `token` is the piece as a reader sees it (`"▁paris"` -> `"paris"`;
        a piece that continues a word keeps no mark), `piece` the vocabulary
        piece itself.
    """
    require_positive_int("top_k", top_k)
    if masked_lm.preprocessor is None:
        raise ValueError("fill_mask needs a masked LM with a preprocessor.")
    if isinstance(texts, str):
        raise TypeError("`texts` must be a list of strings; wrap one string in a list.")
    texts = [_MASK_IN_TEXT.sub("[MASK]", text) for text in texts]
    tokenizer = masked_lm.preprocessor.tokenizer
    length = masked_lm.preprocessor.sequence_length
    rows = tokenizer(texts)
    for text, row in zip(texts, rows):
        if tokenizer.mask_token_id not in row:
            raise ValueError(f"No [MASK] in the text {text[:80]!r}.")
        if len(row) + 2 > length:
            raise ValueError(
                f"The text {text[:40]!r}... is {len(row)} tokens long; at most "
                f"{length - 2} fit the sequence_length {length} (raise it, up to "
                f"the model's {masked_lm.backbone.max_sequence_length}, with "
                "`sequence_length=` in from_preset or --sequence-length)."
            )
    inputs, positions = _bucketed_inputs(masked_lm, texts, rows)
    logits = np.asarray(masked_lm.predict_on_batch(inputs), "float64")
    probabilities = _softmax(logits)
    ranked = probabilities.copy()
    ranked[..., tokenizer.special_token_ids + [tokenizer.unk_token_id]] = -1.0
    top_k = min(top_k, int((ranked[0, 0] >= 0).sum()))
    return [
        [
            [
                _candidate(tokenizer, token_id, probabilities[index, slot, token_id])
                for token_id in np.argsort(-ranked[index, slot], kind="stable")[:top_k]
            ]
            for slot in range(len(row_positions))
        ]
        for index, row_positions in enumerate(positions)
    ]


def _bucketed_inputs(masked_lm, texts, rows):
    """Packed inputs padded to a length bucket, and each row's mask positions."""
    tokenizer = masked_lm.preprocessor.tokenizer
    longest = max(len(row) for row in rows) + 2
    length = next(
        (bucket for bucket in _LENGTH_BUCKETS if bucket >= longest),
        masked_lm.preprocessor.sequence_length,
    )
    length = min(length, masked_lm.preprocessor.sequence_length)
    packed = masked_lm.preprocessor.pack(texts)
    inputs = {
        key: keras.ops.convert_to_numpy(value)[:, :length]
        for key, value in packed.items()
    }
    positions = [
        np.flatnonzero(row == tokenizer.mask_token_id) for row in inputs["token_ids"]
    ]
    width = 1 << (max(len(p) for p in positions) - 1).bit_length()
    inputs["mask_positions"] = np.zeros((len(rows), width), "int32")
    for index, row_positions in enumerate(positions):
        inputs["mask_positions"][index, : len(row_positions)] = row_positions
    return inputs, positions


def _softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def _candidate(tokenizer, token_id, probability):
    piece = tokenizer.id_to_token(int(token_id))
    return {
        "token": piece.replace("\u2581", "") or piece,
        "piece": piece,
        "id": int(token_id),
        "probability": float(probability),
    }
