"""ALBERT's instance building (`albert_mlm.datasets.sentence_order_instances`)
on hand-made token rows: truncation lengths, cuts that keep the A|B junction,
and splits only inside a document."""

import numpy as np
import pytest

from albert_mlm.datasets.sentence_order_instances import instances, kept_lengths


def _albert_truncation(first_length, second_length, room):
    """ALBERT's `truncate_seq_pair` loop, on lengths."""
    while first_length + second_length > room:
        if first_length > second_length:
            first_length -= 1
        else:
            second_length -= 1
    return first_length, second_length


def test_kept_lengths_match_albert_one_token_at_a_time():
    for first in range(1, 14):
        for second in range(1, 14):
            for room in range(2, 30):
                assert kept_lengths(first, second, room) == _albert_truncation(
                    first, second, room
                )


def _sentences(*documents):
    """`(ids, document)` rows; sentence `s` of document `d` holds ids
    `100 * d + 10 * s + 1 ...`, so every id tells where it came from."""
    return [
        (np.arange(length) + 100 * document + 10 * sentence + 1, document)
        for document, lengths in enumerate(documents)
        for sentence, length in enumerate(lengths)
    ]


def _in_document_order(first, second, swapped):
    return (second, first) if swapped else (first, second)


@pytest.mark.parametrize("seed", range(20))
def test_pairs_keep_the_junction_where_b_continues_a(seed):
    rng = np.random.default_rng(seed)
    sentences = _sentences([9, 7, 8], [2], [6, 9, 9])
    sentence_ends = {int(ids[-1]) for ids, _ in sentences}
    pairs = 0
    for first, second, swapped in instances(sentences, rng, 16, short_seq_prob=0.5):
        assert len(first) + len(second) <= 16 - 3 + (len(second) == 0)
        if not len(second):
            continue
        pairs += 1
        before, after = _in_document_order(first, second, swapped)
        last, following = before[-1], after[0]
        # A ends its sentence, B starts the next sentence of the same document.
        assert last in sentence_ends and following % 10 == 1
        assert following // 100 == last // 100
        assert (following % 100) // 10 == (last % 100) // 10 + 1
    # Each of these seeds makes at least one pair (short targets alone could
    # leave every chunk a single segment, and nothing above tested).
    assert pairs >= 1


def test_one_sentence_documents_pack_into_one_unlabelled_segment():
    rng = np.random.default_rng(0)
    sentences = _sentences([3], [4], [2], [5])
    (first, second, swapped), *rest = instances(sentences, rng, 12, short_seq_prob=0)
    assert first.tolist() == [1, 2, 3, 101, 102, 103, 104, 201, 202]
    assert len(second) == 0 and not swapped
    assert [len(first) for first, _, _ in rest] == [5]


def test_a_lone_sentence_longer_than_the_room_loses_tokens_at_either_end():
    cut_fronts = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        ((first, second, _),) = instances(_sentences([40]), rng, 12, short_seq_prob=0)
        assert len(first) == 12 - 2 and len(second) == 0
        assert np.all(np.diff(first) == 1)  # One unbroken stretch of the sentence.
        cut_fronts.append(int(first[0]) - 1)
    # 30 tokens go, each from the front or the back with even odds.
    assert len(set(cut_fronts)) > 5 and abs(np.mean(cut_fronts) - 15) < 3
