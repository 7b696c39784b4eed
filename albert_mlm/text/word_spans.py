"""Spans of whole words to mask: ALBERT's whole-word and n-gram selection."""

import numpy as np

from albert_mlm.argument_checks import require_positive_int

# SentencePiece marks a piece that begins a word with U+2581 ("▁").
WORD_START = "\u2581"


def word_start_table(pieces):
    """Which pieces begin a word: a boolean array indexed by token id.

    >>> word_start_table(["<pad>", "\u2581the", "s", "\u2581"]).tolist()
    [False, True, False, True]
    """
    return np.array([piece.startswith(WORD_START) for piece in pieces], dtype=bool)


def span_length_probabilities(max_ngram):
    """P(a span has n words) = (1/n) / (1 + 1/2 + ... + 1/max_ngram), ALBERT's.

    >>> [round(p * 11) for p in span_length_probabilities(3)]
    [6, 3, 2]
    """
    weights = 1.0 / np.arange(1, max_ngram + 1)
    return weights / weights.sum()


class WordSpanSelector:
    """Chooses spans of 1 to `max_ngram` whole words, up to a token budget.

    A word is a piece that begins one (`word_starts[id]`, the "▁" pieces)
    and the pieces after it that do not; a token outside `selectable` belongs
    to no word, so the piece after it (or at position 0) begins one, and no
    span crosses it. Span lengths follow ALBERT's P(n) ∝ 1/n more closely
    than ALBERT's own loop (how, and how closely: docs/pretraining.md).
    TensorFlow ops, so `tf.data` runs it in the graph; with seeded `draws`
    (see `MaskGenerator`) it is a function of the seed alone.

    Args:
        word_starts: boolean array over the vocabulary, `True` for pieces
            that begin a word (see `word_start_table`).
        max_ngram: longest span, in words (1: single whole words).
        fill_budget: keep taking the spans that still fit after the first
            that does not (whole words), rather than swap that one for a
            span of as many words and stop (n-grams).

    Example:
    >>> import tensorflow as tf
    >>> from albert_mlm.text.mask_generator import UniformDraws
    >>> starts = [False, False, True, False]  # Id 2 begins a word, 3 does not.
    >>> token_ids = tf.constant([[0, 2, 3, 2, 3, 0]])  # Two words of 2 pieces.
    >>> selector = WordSpanSelector(starts, max_ngram=1)
    >>> selected, span_words = selector(token_ids, token_ids > 0,
    ...     tf.constant([3]), UniformDraws([1, 2]))
    >>> selected.numpy().astype(int).tolist()  # One whole word fits in 3.
    [[0, 1, 1, 0, 0, 0]]
    >>> span_words.numpy().tolist()
    [[0, 1, 0, 0, 0, 0]]
    """

    def __init__(self, word_starts, max_ngram=1, fill_budget=True):
        self.word_starts = np.asarray(word_starts, dtype=bool)
        self.max_ngram = require_positive_int("max_ngram", max_ngram)
        self.fill_budget = bool(fill_budget)
        cumulative = np.cumsum(span_length_probabilities(self.max_ngram))
        cumulative[-1] = 1.0  # No rounding error can draw n > max_ngram.
        self._cumulative = cumulative.astype("float32")

    def __call__(self, token_ids, selectable, budget, draws):
        """`(selected, span_words)` for a `(batch, length)` int32 tensor.

        Args:
            token_ids: the ids; selectable: boolean mask of maskable tokens;
            budget: int32 `(batch,)`, most tokens to select per row;
            draws: the uniform draws (stateful or seeded).

        Returns `selected` (bool, `True` at every token of a chosen span) and
        `span_words` (int32, the words of the chosen span starting at each
        position, 0 elsewhere).
        """
        import tensorflow as tf

        shape = tf.shape(token_ids)
        positions = tf.broadcast_to(tf.range(shape[1]), shape)
        after_selectable = tf.pad(selectable, [[0, 0], [1, 0]])[:, :-1]
        begins = selectable & (
            tf.gather(tf.constant(self.word_starts), token_ids) | ~after_selectable
        )
        words_before = tf.pad(
            tf.cumsum(tf.cast(begins, tf.int32), axis=1), [[0, 0], [1, 0]]
        )
        is_span = begins & (
            ~after_selectable | self._tiled_word_starts(draws, shape, words_before)
        )
        span_end = _next_marked(is_span | ~selectable)
        # A span longer than the whole budget keeps only its first word.
        span_end = tf.where(
            span_end - positions > budget[:, None],
            _next_marked(begins | ~selectable),
            span_end,
        )
        span_words = tf.gather(words_before, span_end, batch_dims=1)
        span_words -= words_before[:, :-1]
        taken = self._taken_spans(
            is_span, span_end - positions, span_words, budget, draws
        )

        # A token is selected from a taken span's start up to its end.
        inside = tf.cumsum(
            tf.cast(taken, tf.int32) - _scatter(taken, span_end)[:, :-1], axis=1
        )
        return inside > 0, tf.where(taken, span_words, 0)

    def _tiled_word_starts(self, draws, shape, words_before):
        """Whether each token's word starts a span when the words are tiled:
        span k starts at word n_0 + ... + n_(k-1), each n drawn with
        P(n) ∝ 1/n."""
        import tensorflow as tf

        words = 1 + tf.reshape(
            tf.searchsorted(
                tf.constant(self._cumulative)[None, :],
                tf.reshape(draws.uniform(shape), [1, -1]),
                side="right",
            ),
            shape,
        )
        first_words = tf.cumsum(words, axis=1, exclusive=True)
        tiled = _scatter(first_words < shape[1], tf.minimum(first_words, shape[1]))
        return tf.gather(tiled > 0, words_before[:, :-1], batch_dims=1)

    def _taken_spans(self, is_span, span_tokens, span_words, budget, draws):
        """Whether each span start is taken: spans in a random order (ranked
        by a uniform key, non-spans last) until the budget is spent."""
        import tensorflow as tf

        keys = tf.where(is_span, draws.uniform(tf.shape(is_span)), 2.0)
        order = tf.argsort(keys, axis=1, stable=True)
        span_tokens = tf.where(is_span, span_tokens, 0)
        in_order = [
            tf.gather(t, order, batch_dims=1)
            for t in (is_span, span_tokens, span_words)
        ]
        taken_in_order = _take_in_order(
            *in_order, tf.cast(budget, tf.int32), self.fill_budget
        )
        return _scatter(taken_in_order, order)[:, :-1] > 0


def _next_marked(marked):
    """For each position, the next marked position after it, or the length."""
    import tensorflow as tf

    shape = tf.shape(marked)
    positions = tf.broadcast_to(tf.range(shape[1]), shape)
    count = tf.cumsum(tf.cast(marked, tf.int32), axis=1)
    # The marked positions in order (then the length): the k-th at slot k.
    offsets = tf.where(marked, positions - shape[1], 0)
    in_order = _scatter(offsets, tf.where(marked, count - 1, shape[1])) + shape[1]
    return tf.gather(in_order, count, batch_dims=1)


def _take_in_order(is_span, tokens, words, budget, fill_budget):
    """Which spans, visited in column order, are taken within `budget`.

    A pass takes, among the spans not yet taken that fit the budget left,
    the longest run that fits. With `fill_budget`, passes repeat until one
    takes nothing: exactly the greedy "take every span that still fits"
    (each pass resumes after the span that ended the one before, which can
    no longer fit). Without it, the span that ended the first pass is
    swapped for the first later one of as many `words` that fits.
    """
    import tensorflow as tf

    def one_pass(taken, left, _):
        candidate = is_span & ~taken & (tokens <= left[:, None])
        total = tf.cumsum(tf.where(candidate, tokens, 0), axis=1)
        take = candidate & (total <= left[:, None])
        left -= tf.reduce_sum(tf.where(take, tokens, 0), axis=1)
        return taken | take, left, tf.reduce_any(take)

    taken, left, took = one_pass(tf.zeros_like(is_span), budget, None)
    if fill_budget:
        return tf.while_loop(lambda *loop: loop[2], one_pass, (taken, left, took))[0]
    # The first span that fits the budget but was not taken ended the pass.
    ended = is_span & ~taken & (tokens <= budget[:, None])
    ended_at = tf.argmax(tf.cast(ended, tf.int32), axis=1, output_type=tf.int32)
    swap = (
        ended
        & (words == tf.gather(words, ended_at[:, None], batch_dims=1))
        & (tokens <= left[:, None])
        & (tf.range(tf.shape(words)[1])[None, :] > ended_at[:, None])
    )
    return taken | (swap & (tf.cumsum(tf.cast(swap, tf.int32), axis=1) == 1))


def _scatter(values, targets):
    """Per row, the sums of `values` sent to column `targets` (in [0, length]):
    an int32 `(batch, length + 1)` tensor."""
    import tensorflow as tf

    shape = tf.shape(targets)
    rows = tf.broadcast_to(tf.range(shape[0])[:, None], shape)
    indices = tf.stack([rows, targets], axis=-1)
    return tf.scatter_nd(indices, tf.cast(values, tf.int32), shape + [0, 1])
