"""Dynamic masking for masked-LM training: choose positions, then corrupt them."""

import dataclasses
import functools

import numpy as np

from albert_mlm.argument_checks import (
    require_choice,
    require_positive_int,
    require_rate,
)
from albert_mlm.text.word_spans import WORD_START, WordSpanSelector


@dataclasses.dataclass(frozen=True)
class MaskStrategy:
    """How a row's masking budget is spent: one entry of `MASK_STRATEGIES`.

    Args:
        selector: builds the selection from `word_starts` (when
            `needs_word_starts`) and the settings named in `arguments`, as
            keyword arguments; the result is called as `selector(token_ids,
            selectable, budget, draws)` and returns `(selected, span_words)`
            (see `WordSpanSelector`).
        needs_word_starts: whether it masks whole words, and so needs the
            vocabulary's word starts (`word_start_table`).
        arguments: the `MaskGenerator` settings it reads (`"max_ngram"`).

    A new strategy is one entry, `MASK_STRATEGIES[name] = MaskStrategy(...)`:
    `mask_strategy=name` then works everywhere, `albert-mlm pretrain
    --mask-strategy` included.

    Example:
    >>> MASK_STRATEGIES["ngram"].arguments
    ('max_ngram',)
    """

    selector: object
    needs_word_starts: bool = False
    arguments: tuple = ()


class TokenSelector:
    """`budget` selectable tokens per row, uniformly: the `"token"` strategy."""

    def __call__(self, token_ids, selectable, budget, draws):
        import tensorflow as tf

        # Rank selectable positions by a random score; the first `budget`
        # ranks of each row are chosen.
        shape = tf.shape(token_ids)
        scores = tf.where(selectable, draws.uniform(shape), tf.constant(2.0))
        rank = tf.argsort(tf.argsort(scores, axis=1), axis=1)
        selected = selectable & (rank < budget[:, None])
        return selected, tf.cast(selected, tf.int32)


# Every masking strategy, by the name `mask_strategy` takes: the one table
# that the generator, the preprocessor and the command line's choices read.
MASK_STRATEGIES = {
    "token": MaskStrategy(TokenSelector),
    "whole_word": MaskStrategy(
        functools.partial(WordSpanSelector, max_ngram=1, fill_budget=True),
        needs_word_starts=True,
    ),
    "ngram": MaskStrategy(
        functools.partial(WordSpanSelector, fill_budget=False),
        needs_word_starts=True,
        arguments=("max_ngram",),
    ),
}


def validate_masking_arguments(
    mask_selection_rate,
    mask_selection_length,
    mask_token_rate,
    random_token_rate,
    mask_strategy="token",
    max_ngram=3,
):
    """Raise `ValueError` naming the first invalid masking argument."""
    require_rate("mask_selection_rate", mask_selection_rate)
    require_positive_int("mask_selection_length", mask_selection_length)
    require_rate("mask_token_rate", mask_token_rate)
    require_rate("random_token_rate", random_token_rate)
    if mask_token_rate + random_token_rate > 1:
        raise ValueError(
            "`mask_token_rate + random_token_rate` must be at most 1. Received: "
            f"mask_token_rate={mask_token_rate}, random_token_rate={random_token_rate}"
        )
    require_choice("mask_strategy", mask_strategy, MASK_STRATEGIES)
    require_positive_int("max_ngram", max_ngram)


# Far above float64's error on rate * n (n < 2**20), far below any real
# fractional part of a rate written with up to 6 decimals.
_ROUNDING_MARGIN = 1e-9


class MaskGenerator:
    """Selects tokens to predict and replaces them, BERT style.

    Each row has a budget of `ceil(mask_selection_rate * n)` of its `n`
    selectable tokens (any id not in `unselectable_token_ids`), at most
    `mask_selection_length`, spent by `mask_strategy`, a name in
    `MASK_STRATEGIES`:

    - `"token"` (KerasHub's): exactly the budget, single tokens, uniformly;
    - `"whole_word"` (ALBERT's): whole words, uniformly, while they fit;
    - `"ngram"` (ALBERT's): spans of 1 to `max_ngram` whole words, n words
      with probability proportional to 1/n, while they fit.

    (Words and spans: see `WordSpanSelector`.) Each selected token becomes
    `[MASK]` with probability `mask_token_rate`, a uniformly random id with
    probability `random_token_rate`, and otherwise stays as it was. Every
    call draws anew.

    Vectorised over the batch with TensorFlow ops (sort-based ranking), which
    keeps `tf.data` pipelines fast; tensorflow-text's `RandomItemSelector`
    picks the same counts but loops over rows.

    Args:
        word_starts: for the strategies that mask whole words
            (`needs_word_starts`), a boolean array over the vocabulary
            marking the pieces that begin a word (`word_start_table`).

    Example:
    >>> import tensorflow as tf
    >>> masker = MaskGenerator(vocabulary_size=50, mask_token_id=4,
    ...     unselectable_token_ids=[0, 2, 3], mask_selection_length=2)
    >>> out = masker(tf.constant([[2, 9, 9, 9, 9, 3, 0, 0]]))
    >>> sorted(out)
    ['mask_ids', 'mask_positions', 'mask_weights', 'token_ids']
    """

    def __init__(
        self,
        vocabulary_size,
        mask_token_id,
        unselectable_token_ids,
        mask_selection_rate=0.15,
        mask_selection_length=96,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        mask_strategy="token",
        max_ngram=3,
        word_starts=None,
    ):
        self.vocabulary_size = require_positive_int("vocabulary_size", vocabulary_size)
        self.mask_token_id = mask_token_id
        self.unselectable_token_ids = list(unselectable_token_ids)
        self.mask_selection_rate = mask_selection_rate
        self.mask_selection_length = mask_selection_length
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.mask_strategy = mask_strategy
        self.max_ngram = max_ngram
        validate_masking_arguments(
            mask_selection_rate,
            mask_selection_length,
            mask_token_rate,
            random_token_rate,
            mask_strategy,
            max_ngram,
        )
        strategy = MASK_STRATEGIES[mask_strategy]
        settings = {"max_ngram": max_ngram}  # What `arguments` may name.
        inputs = {name: settings[name] for name in strategy.arguments}
        if strategy.needs_word_starts:
            inputs["word_starts"] = _checked_word_starts(mask_strategy, word_starts)
        self._select_in_budget = strategy.selector(**inputs)

    def __call__(self, token_ids, seed=None):
        """Mask a dense `(batch, length)` int32 tensor; returns a dict.

        With `seed` (two integers, or an int tensor of shape `(2,)`), the
        draws are a function of the seed alone (stateless random ops): the
        same seed masks the same batch the same way, eagerly or in any
        `tf.data` pipeline.
        """
        import tensorflow as tf

        draws = UniformDraws(seed)
        selected, _ = self._select(token_ids, draws)
        batch_size, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]

        draw = draws.uniform(tf.shape(token_ids))
        random_ids = draws.uniform(
            tf.shape(token_ids), maxval=self.vocabulary_size, dtype=tf.int32
        )
        masked_ids = tf.where(
            selected & (draw < self.mask_token_rate),
            tf.cast(self.mask_token_id, tf.int32),
            tf.where(
                selected & (draw < self.mask_token_rate + self.random_token_rate),
                random_ids,
                token_ids,
            ),
        )

        # Selected positions in increasing order, padded to a fixed width.
        positions = tf.where(selected, tf.range(length)[None, :], length)
        positions = tf.sort(positions, axis=1)
        width = self.mask_selection_length
        positions = tf.pad(
            positions[:, :width],
            [[0, 0], [0, tf.maximum(width - length, 0)]],
            constant_values=length,
        )
        positions = tf.ensure_shape(
            tf.reshape(positions, [batch_size, width]), [None, width]
        )
        weights = positions < length
        positions = tf.where(weights, positions, 0)
        mask_ids = tf.where(weights, tf.gather(token_ids, positions, batch_dims=1), 0)
        return {
            "token_ids": masked_ids,
            "mask_positions": positions,
            "mask_ids": mask_ids,
            "mask_weights": tf.cast(weights, tf.float32),
        }

    def select(self, token_ids, seed=None):
        """The selection alone: `(selected, span_words)`, two `(batch, length)`
        tensors: `True` at each selected token, and at each selected span's
        first token its length in words (1 for every `"token"` selection).

        With the same `seed`, `selected` is what `__call__` masks.
        """
        return self._select(token_ids, UniformDraws(seed))

    def _select(self, token_ids, draws):
        import tensorflow as tf

        selectable = tf.ones_like(token_ids, dtype=tf.bool)
        for token_id in self.unselectable_token_ids:
            selectable &= tf.not_equal(token_ids, token_id)
        # The decimal ceil(rate * n): float64, less a margin far above its
        # rounding error, so 0.07 * 100 (7.000000000000001) selects 7, not 8.
        num_selectable = tf.reduce_sum(tf.cast(selectable, tf.float64), axis=1)
        product = num_selectable * self.mask_selection_rate
        budget = tf.minimum(
            tf.cast(tf.math.ceil(product - _ROUNDING_MARGIN), tf.int32),
            self.mask_selection_length,
        )
        return self._select_in_budget(token_ids, selectable, budget, draws)


def _checked_word_starts(mask_strategy, word_starts):
    """`word_starts`, refused when absent or marking no piece."""
    if word_starts is None:
        raise ValueError(
            f"`mask_strategy={mask_strategy!r}` needs `word_starts`, the "
            "pieces of the vocabulary that begin a word (`word_start_table`)."
        )
    if not np.any(word_starts):
        raise ValueError(
            f"`mask_strategy={mask_strategy!r}` masks whole words, but no piece "
            f"of the vocabulary begins a word (none starts with {WORD_START!r}, "
            "SentencePiece's word-start mark; a model trained with "
            "`add_dummy_prefix=False` or `split_by_whitespace=False` may lack "
            "them). Use `mask_strategy='token'` or a vocabulary that marks "
            "word starts."
        )
    return word_starts


class UniformDraws:
    """Uniform draws: stateful TensorFlow ops, or stateless ones whose values
    follow from `seed` and the order of the draws."""

    def __init__(self, seed):
        import tensorflow as tf

        self.seed = None if seed is None else tf.cast(seed, tf.int64)
        self.count = 0

    def uniform(self, shape, maxval=None, dtype="float32"):
        import tensorflow as tf

        if self.seed is None:
            return tf.random.uniform(shape, maxval=maxval, dtype=dtype)
        self.count += 1
        seed = tf.random.experimental.stateless_fold_in(self.seed, self.count)
        return tf.random.stateless_uniform(shape, seed, maxval=maxval, dtype=dtype)
