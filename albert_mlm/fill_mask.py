"""Fill `[MASK]` tokens in text with a masked LM's most likely candidates.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> best = fill_mask(masked_lm, ["a young [MASK] that barks."], top_k=3)[0][0][0]
>>> sorted(best)
['probability', 'token']
"""

import keras
import numpy as np


def fill_mask(masked_lm, texts, top_k=5):
    """Top-k candidates for every `[MASK]` of every text.

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor (for its tokenizer
            and sequence length).
        texts: a list of strings, each with at least one `[MASK]`.
        top_k: candidates per mask.

    Returns:
        One list per text, holding one list per `[MASK]` (in order) of
        `{"token": str, "probability": float}` dicts, most likely first.
    """
    if masked_lm.preprocessor is None:
        raise ValueError("fill_mask needs a masked LM with a preprocessor.")
    tokenizer = masked_lm.preprocessor.tokenizer
    length = masked_lm.preprocessor.sequence_length
    rows = tokenizer(list(texts))
    for text, row in zip(texts, rows):
        if tokenizer.mask_token_id not in row:
            raise ValueError(f"No [MASK] in the text {text!r}.")
        if len(row) + 2 > length:
            raise ValueError(
                f"The text {text[:40]!r}... is {len(row)} tokens long; at most "
                f"{length - 2} fit the preset's sequence_length."
            )
    inputs = {
        key: keras.ops.convert_to_numpy(value)
        for key, value in masked_lm.preprocessor.pack(list(texts)).items()
    }
    positions = [
        np.flatnonzero(row == tokenizer.mask_token_id) for row in inputs["token_ids"]
    ]
    width = max(len(p) for p in positions)
    inputs["mask_positions"] = np.zeros((len(rows), width), "int32")
    for index, row_positions in enumerate(positions):
        inputs["mask_positions"][index, : len(row_positions)] = row_positions
    # Called directly rather than through `predict`, which would run the
    # string preprocessor (and its random masking) again.
    logits = masked_lm(inputs)
    probabilities = keras.ops.convert_to_numpy(
        keras.ops.softmax(keras.ops.convert_to_tensor(logits), axis=-1)
    )
    results = []
    for index, row_positions in enumerate(positions):
        per_mask = []
        for slot in range(len(row_positions)):
            best = np.argsort(-probabilities[index, slot])[:top_k]
            per_mask.append(
                [
                    {
                        "token": _piece_text(tokenizer.id_to_token(int(token_id))),
                        "probability": float(probabilities[index, slot, token_id]),
                    }
                    for token_id in best
                ]
            )
        results.append(per_mask)
    return results


def _piece_text(piece):
    """A SentencePiece piece as a reader sees it ("▁paris" -> "paris")."""
    return piece.replace("\u2581", "") or piece
