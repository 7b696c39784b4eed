"""Many small masked-LM questions, run in few compiled shapes.

A `MaskedQuery` is one packed sequence and the positions whose
log-probabilities are wanted. `run_queries` pads each query to a length
bucket, groups queries of one padded shape, runs each full group of
`batch_size` through `predict_on_batch` (compiled on jax and tensorflow) and
hands the group's log-probabilities to a `reduce` function, so only what
that keeps (a few ids and numbers per query) outlives the group. A query's
padded shape depends on the query alone, never on its neighbours, so its
result does not depend on how the queries are batched (beyond float32
rounding: a model call of another number of rows sums in another order,
about 1e-6 relative on CPU).

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> ids = np.array([2, 4, 3], "int32")  # [CLS] [MASK] [SEP]
>>> query = MaskedQuery(ids, np.zeros(3, "int32"), (1,), wanted_ids=(5, 6))
>>> (found,) = run_queries(masked_lm, [query], 8, wanted_log_probabilities)
>>> found.shape, bool((found < 0).all())
((2,), True)
"""

from typing import NamedTuple

import numpy as np

# Inputs are padded to one of these lengths (and position counts and batch
# sizes to powers of two), so a compiled model sees few shapes: XLA and
# tf.function compile once per shape, and a fresh shape costs seconds.
_LENGTH_BUCKETS = (16, 32, 64, 128, 256, 512)


class MaskedQuery(NamedTuple):
    """A packed sequence (no padding) and where its logits are wanted."""

    token_ids: np.ndarray
    segment_ids: np.ndarray
    positions: tuple
    # For `wanted_log_probabilities`: ids read at the first position.
    wanted_ids: tuple = ()


def run_queries(masked_lm, queries, batch_size, reduce):
    """`reduce`'s result for each of `queries` (any iterable), in order.

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor.
        queries: `MaskedQuery`s, read lazily: at most `batch_size` of each
            padded shape are held at once.
        batch_size: rows per model call.
        reduce: `reduce(log_probabilities, queries)` -> one result per query,
            with `log_probabilities` float64 `(queries, positions, vocab)`
            (rows padded to the group's widest position count).
    """
    sequence_length = masked_lm.preprocessor.sequence_length
    pending, results = {}, {}
    for index, query in enumerate(queries):
        shape = (
            _padded_length(len(query.token_ids), sequence_length),
            _power_of_two(len(query.positions)),
        )
        group = pending.setdefault(shape, [])
        group.append((index, query))
        if len(group) == batch_size:
            _run_group(
                masked_lm, shape, pending.pop(shape), batch_size, reduce, results
            )
    for shape, group in pending.items():
        _run_group(masked_lm, shape, group, batch_size, reduce, results)
    return [results[index] for index in range(len(results))]


def wanted_log_probabilities(log_probabilities, queries):
    """A `reduce`: each query's `wanted_ids` at its first position."""
    return [
        log_probabilities[row, 0, list(query.wanted_ids)]
        for row, query in enumerate(queries)
    ]


def _run_group(masked_lm, shape, group, batch_size, reduce, results):
    length, width = shape
    queries = [query for _, query in group]
    # Pad the batch with copies of a real row: a row of padding only would
    # attend to nothing.
    rows = queries + [queries[0]] * (
        min(batch_size, _power_of_two(len(group))) - len(group)
    )
    inputs = {
        "token_ids": np.full(
            (len(rows), length), masked_lm.preprocessor.tokenizer.pad_token_id, "int32"
        ),
        "segment_ids": np.zeros((len(rows), length), "int32"),
        "padding_mask": np.zeros((len(rows), length), "int32"),
        "mask_positions": np.zeros((len(rows), width), "int32"),
    }
    for row, query in enumerate(rows):
        size = len(query.token_ids)
        inputs["token_ids"][row, :size] = query.token_ids
        inputs["segment_ids"][row, :size] = query.segment_ids
        inputs["padding_mask"][row, :size] = 1
        inputs["mask_positions"][row, : len(query.positions)] = query.positions
    logits = masked_lm.predict_on_batch(inputs)
    if isinstance(logits, dict):  # An `AlbertPreTrainer`'s two outputs.
        logits = logits["masked_lm"]
    logits = np.asarray(logits, "float64")[: len(group)]
    logits -= logits.max(axis=-1, keepdims=True)
    logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    for (index, _), result in zip(group, reduce(logits, queries), strict=True):
        results[index] = result


def _padded_length(length, sequence_length):
    bucket = next((b for b in _LENGTH_BUCKETS if b >= length), sequence_length)
    return min(bucket, sequence_length)


def _power_of_two(count):
    return 1 << (count - 1).bit_length()
