"""`packed_examples` (`albert_mlm.datasets.document_packing`): the layout of
ALBERT's sentence-order examples, cross-document packing that keeps B the
continuation of A, `short_seq_prob`, fill, determinism and resuming, and the
errors for bad arguments."""

import random
import warnings

import numpy as np
import pytest
import tensorflow as tf
from helpers import CORPUS_OBJECTS, CORPUS_SUBJECTS, CORPUS_VERBS

from albert_mlm.datasets.corpus import CorpusError
from albert_mlm.datasets.corpus_documents import (
    DocumentCount,
    check_document_format,
    document_lines,
    split_line_counts,
)
from albert_mlm.datasets.document_packing import packed_examples
from albert_mlm.training.evaluation import non_padding_fractions

SEQUENCE_LENGTH = 32


# Words that are one piece each in the test vocabulary.
WORDS = (
    "river market slowly quickly never often rarely bruno quietly clouds "
    "suddenly town almost coins happily engineers bridge sea gently kofi "
    "lantern stars cats today frozen stories tomorrow birds always children "
    "greta park foxes cat hugo museum summer yesterday mateo wooden students"
).split()


def _write_documents(path, documents):
    path.write_text("\n\n".join("\n".join(doc) for doc in documents) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def word_documents():
    """Documents of 1 to 6 sentences of 2 to 5 random words: a span of a few
    sentences occurs once in the corpus, so it shows where it came from."""
    rng = random.Random(0)
    return [
        [
            " ".join(rng.choices(WORDS, k=rng.randint(2, 5))) + "."
            for _ in range(rng.randint(1, 6))
        ]
        for _ in range(150)
    ]


@pytest.fixture(scope="module")
def documents_file(word_documents, tmp_path_factory):
    path = tmp_path_factory.mktemp("documents") / "documents.txt"
    return _write_documents(path, word_documents)


@pytest.fixture(scope="module")
def one_word_sentences_file(tmp_path_factory):
    """Long documents of one-token sentences: a chunk is exactly its target
    length, so sequence lengths show the target lengths drawn."""
    rng = random.Random(2)
    documents = [rng.choices(WORDS, k=250) for _ in range(40)]
    path = tmp_path_factory.mktemp("one_word") / "one_word_sentences.txt"
    return _write_documents(path, documents)


@pytest.fixture(scope="module")
def lines_file(tmp_path_factory):
    """1500 short lines (about 15 tokens each), one per document."""
    rng = random.Random(1)
    lines = [
        f"{rng.choice(CORPUS_SUBJECTS)} {rng.choice(CORPUS_VERBS)} "
        f"{rng.choice(CORPUS_OBJECTS)}.\n"
        for _ in range(1500)
    ]
    path = tmp_path_factory.mktemp("lines") / "lines.txt"
    path.write_text("".join(lines))
    return str(path)


def _examples(files, tokenizer, count=None, **options):
    options = {"sequence_length": SEQUENCE_LENGTH, "seed": 0, **options}
    dataset = packed_examples(files, tokenizer, **options)
    if count is not None:
        dataset = dataset.take(count)
    return list(dataset.as_numpy_iterator())


def _segments(example):
    """The token ids of the first and second segment, without [CLS]/[SEP]."""
    real = example["padding_mask"] == 1
    ids, segment_ids = example["token_ids"][real], example["segment_ids"][real]
    first_length = int((segment_ids == 0).sum())
    return ids[1 : first_length - 1], ids[first_length:-1]


class _Corpus:
    """The token stream of a corpus, to find where a segment pair came from."""

    def __init__(self, documents, tokenizer):
        self.tokens, self.documents = [], []
        self.continuations = set()  # Sentence starts inside their document.
        for document, sentences in enumerate(documents):
            for index, ids in enumerate(tokenizer.token_rows(sentences)):
                if index:
                    self.continuations.add(len(self.tokens))
                self.tokens.extend(ids.tolist())
                self.documents.extend([document] * len(ids))

    def starts_of(self, ids):
        ids, size = ids.tolist(), len(ids)
        return [
            start
            for start in range(len(self.tokens) - size + 1)
            if self.tokens[start : start + size] == ids
        ]


# === Layout and sentence order ===


def test_examples_are_cls_a_sep_b_sep(documents_file, tokenizer):
    for example in _examples(documents_file, tokenizer, count=200):
        token_ids, segment_ids = example["token_ids"], example["segment_ids"]
        mask = example["padding_mask"]
        assert token_ids.shape == segment_ids.shape == mask.shape == (SEQUENCE_LENGTH,)
        assert token_ids.dtype == segment_ids.dtype == mask.dtype == np.int32
        np.testing.assert_array_equal(mask, token_ids != tokenizer.pad_token_id)
        length = int(mask.sum())
        assert (mask[:length] == 1).all() and (segment_ids[length:] == 0).all()
        first, second = _segments(example)
        a_end = len(first) + 1
        assert token_ids[0] == tokenizer.cls_token_id
        assert token_ids[a_end] == token_ids[length - 1] == tokenizer.sep_token_id
        assert (segment_ids[: a_end + 1] == 0).all()
        assert (segment_ids[a_end + 1 : length] == 1).all()
        assert tokenizer.sep_token_id not in np.concatenate([first, second])
        assert len(first) >= 1
        assert example["sentence_order_weight"] == float(len(second) > 0)
        assert example["sentence_order_label"] in (0, 1)


def test_b_continues_a_inside_one_document(word_documents, documents_file, tokenizer):
    corpus = _Corpus(word_documents, tokenizer)
    spanning = 0
    for example in _examples(documents_file, tokenizer, epochs=1):
        if not example["sentence_order_weight"]:
            continue
        first, second = _segments(example)
        swapped = example["sentence_order_label"]
        before, after = (second, first) if swapped else (first, second)
        starts = [
            start
            for start in corpus.starts_of(np.concatenate([before, after]))
            if start + len(before) in corpus.continuations
        ]
        assert starts, "B is not the text that follows A in one document"
        # The other order is nowhere in the corpus: the label is decidable.
        assert not corpus.starts_of(np.concatenate([after, before]))
        pair_documents = corpus.documents[starts[0] : starts[0] + len(before) + 1]
        spanning += len(set(pair_documents)) > 1
    assert spanning > 10, "short documents were not packed together"


def test_swaps_are_labelled_and_happen_half_of_the_time(documents_file, tokenizer):
    examples = _examples(documents_file, tokenizer, count=1200, epochs=None)
    labels = [e["sentence_order_label"] for e in examples if e["sentence_order_weight"]]
    assert len(labels) > 800
    assert abs(np.mean(labels) - 0.5) < 0.06
    unlabelled = [e for e in examples if not e["sentence_order_weight"]]
    assert all(e["sentence_order_label"] == 0 for e in unlabelled)


def test_one_sentence_documents_give_masked_lm_examples(tmp_path, tokenizer):
    long_sentence = " ".join(["the old man sees the moon."] * 20)
    path = tmp_path / "one_sentence_documents.txt"
    path.write_text(f"a dog likes the river.\n\n{long_sentence}\n\nthe cat sees.\n")
    examples = _examples(str(path), tokenizer, short_seq_prob=0.0)
    assert examples and all(not e["sentence_order_weight"] for e in examples)
    assert all((e["segment_ids"] == 0).all() for e in examples)
    # The long sentence is cut to fit: one full sequence.
    assert max(int(e["padding_mask"].sum()) for e in examples) == SEQUENCE_LENGTH


# === Sequence lengths ===


def _real_lengths(examples):
    return np.array([int(e["padding_mask"].sum()) for e in examples])


def test_without_short_sequences_every_sequence_is_filled(
    documents_file, one_word_sentences_file, tokenizer
):
    for corpus in (documents_file, one_word_sentences_file):
        lengths = _real_lengths(_examples(corpus, tokenizer, short_seq_prob=0.0))
        # A lone segment may stop one token short of a pair's second [SEP];
        # only the last instance of the pass runs out of text.
        assert (lengths[:-1] >= SEQUENCE_LENGTH - 1).all()


def test_always_short_sequences_vary_in_length(one_word_sentences_file, tokenizer):
    examples = _examples(one_word_sentences_file, tokenizer, short_seq_prob=1.0)
    lengths = _real_lengths(examples)
    # Targets are uniform in [2, SEQUENCE_LENGTH - 3], plus [CLS] and 2 [SEP].
    assert set(lengths.tolist()) == set(range(5, SEQUENCE_LENGTH + 1))
    assert abs(lengths.mean() - (5 + SEQUENCE_LENGTH) / 2) < 1.5


def test_short_seq_prob_sets_the_share_of_short_sequences(
    one_word_sentences_file, tokenizer
):
    examples = _examples(one_word_sentences_file, tokenizer, count=1000, epochs=None)
    short = _real_lengths(examples) < SEQUENCE_LENGTH
    # A short target is below the full one 27 times in 28; each pass's last
    # instance runs short too.
    assert 0.07 < short.mean() < 0.13


# === Fill ===


def test_packing_short_lines_leaves_little_padding(lines_file, tokenizer):
    def fractions(short_seq_prob):
        examples = packed_examples(
            lines_file,
            tokenizer,
            sequence_length=128,
            seed=0,
            short_seq_prob=short_seq_prob,
            document_format="lines",
            epochs=None,
        )
        return non_padding_fractions(examples, batch_size=32, num_batches=10)

    assert fractions(0.0).min() >= 0.9
    # The deliberately short 10% cost a few percent on average.
    assert fractions(0.1).mean() >= 0.9
    # One line per padded sequence, `[CLS] line [SEP]`, as the line recipe
    # packs it: mostly padding.
    with open(lines_file) as file:
        line_lengths = [len(ids) + 2 for ids in tokenizer.token_rows(list(file))]
    one_per_sequence = tf.data.Dataset.from_tensor_slices(
        {"padding_mask": np.arange(128) < np.minimum(line_lengths, 128)[:, None]}
    )
    assert non_padding_fractions(one_per_sequence, 32, 10).mean() < 0.2


# === Determinism and resuming ===


def _assert_same_stream(left, right):
    assert len(left) == len(right)
    for one, other in zip(left, right):
        for key in one:
            np.testing.assert_array_equal(one[key], other[key])


def _differs(left, right):
    return any(
        not np.array_equal(one[key], other[key])
        for one, other in zip(left, right)
        for key in one
    )


def test_same_seed_same_stream_and_skip_resumes_exactly(documents_file, tokenizer):
    per_pass = len(_examples(documents_file, tokenizer))
    # Across the end of the first pass.
    total, skipped = per_pass + 20, per_pass - 10
    uninterrupted = _examples(documents_file, tokenizer, count=total, epochs=None)
    _assert_same_stream(
        uninterrupted, _examples(documents_file, tokenizer, count=total, epochs=None)
    )
    resumed = packed_examples(
        documents_file, tokenizer, SEQUENCE_LENGTH, seed=0, epochs=None
    )
    resumed = list(resumed.skip(skipped).take(total - skipped).as_numpy_iterator())
    _assert_same_stream(uninterrupted[skipped:], resumed)


def test_seeds_and_passes_draw_different_streams(documents_file, tokenizer):
    per_pass = len(_examples(documents_file, tokenizer))
    two_passes = _examples(documents_file, tokenizer, epochs=2)
    assert len(two_passes) >= 2 * per_pass - 5
    assert _differs(two_passes[:per_pass], two_passes[per_pass:])
    other_seed = _examples(documents_file, tokenizer, seed=1)
    assert _differs(two_passes[:per_pass], other_seed)


# === Bad inputs and document format ===


@pytest.mark.parametrize(
    "argument, value",
    [
        ("short_seq_prob", -0.1),
        ("short_seq_prob", 1.5),
        ("sequence_length", 4),
        ("sequence_length", 0),
        ("document_format", "paragraphs"),
        ("seed", -1),
        ("epochs", 0),
    ],
)
def test_bad_arguments_name_the_argument(argument, value, lines_file, tokenizer):
    with pytest.raises(ValueError, match=rf"`{argument}`.*{argument}={value!r}"):
        packed_examples(
            lines_file, tokenizer, **{"sequence_length": 16, "seed": 0, argument: value}
        )


def test_missing_or_blank_corpus_is_refused(tmp_path, tokenizer):
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(CorpusError, match="missing.txt"):
        packed_examples(missing, tokenizer, sequence_length=16, seed=0)
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n  \n")
    with pytest.raises(CorpusError, match="no text"):
        packed_examples(str(blank), tokenizer, sequence_length=16, seed=0)


def test_check_document_format_warns_about_a_corpus_without_blank_lines(
    word_documents, documents_file, lines_file
):
    with pytest.warns(UserWarning, match="document_format='lines'"):
        counts = check_document_format([lines_file], "documents")
    assert counts == DocumentCount(documents=1, sentences=1500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_document_format(lines_file, "lines").documents == 1500
        assert check_document_format(documents_file) == DocumentCount(
            documents=len(word_documents), sentences=sum(map(len, word_documents))
        )


@pytest.mark.parametrize("document_format", ["documents", "lines"])
@pytest.mark.parametrize("holdout_every", [1, 3, 50])
def test_split_line_counts_are_the_lengths_of_document_lines(
    tmp_path, document_format, holdout_every
):
    first = tmp_path / "first.txt"
    first.write_text("\n\nA one.\nA two.\n\n\n  \nB one.\n" * 40 + "C one.")
    second = tmp_path / "second.txt"
    second.write_text("D one.\n\nE one.\nE two.\nE three.\n\n" * 7)
    files = [str(first), str(second)]
    lengths = tuple(
        sum(1 for _ in document_lines(files, document_format, holdout_every, split))
        for split in (False, True)
    )
    counts = split_line_counts(files, document_format, holdout_every)
    assert counts == lengths
    assert sum(counts) == check_document_format(files, document_format).sentences
    assert counts[1] > 0


def test_the_smallest_sequence_length_still_pairs_sentences(
    one_word_sentences_file, tokenizer
):
    examples = _examples(
        one_word_sentences_file, tokenizer, count=50, sequence_length=5
    )
    assert all(e["padding_mask"].sum() <= 5 for e in examples)
    pairs = [_segments(e) for e in examples if e["sentence_order_weight"]]
    assert pairs and all(len(first) == len(second) == 1 for first, second in pairs)
