"""ALBERT's pretraining instances: runs of sentences split into an ordered pair.

The algorithm of ALBERT's `create_pretraining_data.py`, on a stream of
tokenized sentences, with documents packed together when one ends short:

1. Each instance gets a target length: `sequence_length - 3` (room for
   `[CLS] A [SEP] B [SEP]`), or with probability `short_seq_prob` a random
   length in `[2, sequence_length - 3]` (short sequences narrow the gap
   between pretraining and fine-tuning). ALBERT draws it once per document;
   here it is drawn per instance, so exactly that share of instances aims
   short, whatever the documents' lengths.
2. Consecutive sentences are gathered until they reach the target. When a
   document ends first, the next document's sentences follow in the same
   chunk (ALBERT would pad), so a corpus of short documents fills its
   sequences instead of padding them.
3. The chunk is split into A and B at a random sentence boundary *inside one
   document*, so B is the text that directly follows A. A and B are swapped
   with probability 0.5 for sentence-order prediction (label 1 = swapped).
   Other documents may sit before or after that pair in A and B; the junction
   the task is judged on is always a true continuation.
4. A chunk without such a boundary (one sentence, or one-sentence documents
   packed together) has no order to predict: it becomes one segment
   `[CLS] A [SEP]` with sentence-order weight 0. ALBERT instead pairs a lone
   sentence with a random other document.
5. Too long a pair is cut like ALBERT's: tokens come off the longer segment
   (the later text on a tie). Unlike ALBERT, A loses them at its front and B
   at its back, so the A|B junction stays intact; a lone segment loses them
   at a random end, as in ALBERT. So a sentence longer than the room is cut.

Every random choice comes from the NumPy `Generator` passed in, in stream
order: the same generator and sentences give the same instances.

>>> import numpy as np
>>> sentences = [(np.array([5, 6]), 0), (np.array([7, 8, 9]), 0)]
>>> rng = np.random.default_rng(0)
>>> pairs = instances(sentences, rng, sequence_length=8, short_seq_prob=0)
>>> [(first.tolist(), second.tolist(), swapped) for first, second, swapped in pairs]
[([7, 8, 9], [5, 6], True)]
"""

import numpy as np

MIN_SEQUENCE_LENGTH = 5
"""`[CLS]`, a token of A, `[SEP]`, a token of B, `[SEP]`."""
_NO_TOKENS = np.zeros((0,), "int32")


def instances(sentences, rng, sequence_length, short_seq_prob):
    """`(first, second, swapped)` segments of each instance, in stream order.

    Args:
        sentences: `(token ids, document number)` of each sentence in corpus
            order; only equality of document numbers matters.
        rng: a NumPy `Generator`, the source of every random choice.
        sequence_length: the packed length, `[CLS]` and `[SEP]`s included.
        short_seq_prob: the probability of a short target length.

    `second` is empty (and `swapped` False) for a one-segment instance.
    """
    max_num_tokens = sequence_length - 3
    for chunk in _chunks(sentences, rng, max_num_tokens, short_seq_prob):
        yield _split_and_cut(chunk, rng, max_num_tokens)


def _chunks(sentences, rng, max_num_tokens, short_seq_prob):
    """Runs of consecutive sentences, each at least its target long (but the
    last), across document ends."""
    chunk, length, target = [], 0, _target_length(rng, max_num_tokens, short_seq_prob)
    for ids, document in sentences:
        chunk.append((ids, document))
        length += len(ids)
        if length >= target:
            yield chunk
            chunk, length = [], 0
            target = _target_length(rng, max_num_tokens, short_seq_prob)
    if chunk:
        yield chunk


def _target_length(rng, max_num_tokens, short_seq_prob):
    if rng.random() < short_seq_prob:
        return int(rng.integers(2, max_num_tokens + 1))
    return max_num_tokens


def _split_and_cut(chunk, rng, max_num_tokens):
    """A chunk as `(first, second, swapped)`, cut to fit."""
    boundaries = [
        index
        for index in range(1, len(chunk))
        if chunk[index - 1][1] == chunk[index][1]
    ]
    if not boundaries:
        # One segment has room for the [SEP] a pair would spend on B.
        return (
            _cut_at_random_ends(_joined(chunk), max_num_tokens + 1, rng),
            _NO_TOKENS,
            False,
        )
    split = boundaries[rng.integers(len(boundaries))]
    before, after = _joined(chunk[:split]), _joined(chunk[split:])
    swapped = bool(rng.random() < 0.5)
    kept_before, kept_after = kept_lengths(len(before), len(after), max_num_tokens)
    before = before[len(before) - kept_before :]  # Keep the end that meets B.
    after = after[:kept_after]  # Keep the start that continues A.
    return (after, before, True) if swapped else (before, after, False)


def _joined(chunk):
    return np.concatenate([ids for ids, _ in chunk]).astype("int32")


def kept_lengths(first_length, second_length, room):
    """Segment lengths after ALBERT's truncation to `room` tokens in all.

    ALBERT removes one token at a time from the longer segment (the second
    on a tie) until the pair fits; this computes where that ends.

    >>> kept_lengths(10, 3, room=5)
    (3, 2)
    """
    excess = first_length + second_length - room
    gap = abs(first_length - second_length)
    if excess <= 0:
        return first_length, second_length
    if excess <= gap:
        if first_length > second_length:
            return first_length - excess, second_length
        return first_length, second_length - excess
    # Both are cut to the shorter length, then lose a token each in turn.
    rest = excess - gap
    even = min(first_length, second_length)
    return even - rest // 2, even - (rest - rest // 2)


def _cut_at_random_ends(ids, room, rng):
    """`ids` cut to `room` tokens, each removed token from the front or the
    back with even odds (ALBERT's one-at-a-time coin flips, drawn at once)."""
    excess = len(ids) - room
    if excess <= 0:
        return ids
    from_front = int(rng.binomial(excess, 0.5))
    return ids[from_front : len(ids) - (excess - from_front)]
