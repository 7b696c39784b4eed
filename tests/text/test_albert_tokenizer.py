"""Tests of `AlbertTokenizer` (`albert_mlm.text.albert_tokenizer`); the uncased
normalisation on its own is tested in test_normalization.py."""

import ast
import json
import random
import re

import numpy as np
import pytest
import sentencepiece
import tensorflow as tf
from helpers import (
    ACCENTED_GOLDENS,
    KERAS_HUB_TOKENIZATION,
    MASK_GOLDENS,
    VOCABULARY_PATH,
)

from albert_mlm import AlbertTokenizer

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
VOCABULARY_SIZE = 400
ALL_SPECIAL_TOKENS = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]

GOLDENS = KERAS_HUB_TOKENIZATION


# Strings for Python vs TensorFlow equality of the tokenizer itself.
VARIED_STRINGS = [
    "the quick brown fox jumped over the lazy dog.",
    "The Quick BROWN Fox",
    "",
    " ",
    "   many    spaces\tand\ttabs\n\nnewlines   ",
    "hello",
    "the [MASK] sat near the river.",
    "[CLS]",
    "[SEP]",
    "<unk>",
    "<pad>",
    "[MASK]",
    "[MASK][MASK] [SEP][CLS]",
    "x[MASK]y",
    "the [mask] is lowercase",
    "[CLS] anna bought 12 apples [SEP] for 3.50 euros! [SEP]",
    "a naïve student visited the café.",
    "Crème Brûlée and ZOË",
    "ﬁne ﬂour ＦＵＬＬ width",
    "``quoted'' text",
    "12:30 3.14 42% 2024 & 99",
    "the cat said 猫 ~ ok",
    "emoji 😀 here",
    "no\u00a0break\u3000ideographic",
    "?!...,;:()-",
    "train 42 leaves at 12:30 with 7 boats & 15% of stars...",
    "every morning, the farmer reads a letter.",
    "unknown symbols ☃ ♞ ∑",
    " [MASK] ",
    "did the clever robot quietly visit the old town?",
    "yesterday, the old captain carefully repaired the wooden bicycle "
    "behind the station while the friendly children watched the ocean.",
]


def _to_lists(rows):
    return [np.asarray(row).tolist() for row in rows]


# === Special tokens and vocabulary ===


def test_special_token_ids(tokenizer):
    assert tokenizer.pad_token_id == PAD
    assert tokenizer.unk_token_id == UNK
    assert tokenizer.cls_token_id == CLS
    assert tokenizer.sep_token_id == SEP
    assert tokenizer.mask_token_id == MASK
    assert tokenizer.start_token_id == CLS
    assert tokenizer.end_token_id == SEP
    assert list(tokenizer.special_token_ids) == [PAD, CLS, SEP, MASK]


def test_special_token_ids_match_keras_hub(tokenizer):
    golden = GOLDENS["special_token_ids"]
    assert tokenizer.pad_token_id == golden["pad"]
    assert tokenizer.unk_token_id == golden["unk"]
    assert tokenizer.cls_token_id == golden["cls"]
    assert tokenizer.sep_token_id == golden["sep"]
    assert tokenizer.mask_token_id == golden["mask"]
    assert tokenizer.vocabulary_size() == GOLDENS["vocabulary_size"]


def test_vocabulary(tokenizer):
    assert tokenizer.vocabulary_size() == VOCABULARY_SIZE
    vocabulary = tokenizer.get_vocabulary()
    assert isinstance(vocabulary, list)
    assert len(vocabulary) == VOCABULARY_SIZE
    assert vocabulary[:5] == ALL_SPECIAL_TOKENS
    assert len(set(vocabulary)) == VOCABULARY_SIZE
    processor = sentencepiece.SentencePieceProcessor(model_file=str(VOCABULARY_PATH))
    assert vocabulary == [processor.id_to_piece(i) for i in range(VOCABULARY_SIZE)]
    for token_id, piece in enumerate(vocabulary):
        assert tokenizer.id_to_token(token_id) == piece
        assert tokenizer.token_to_id(piece) == token_id


def test_id_to_token_matches_keras_hub_pieces(tokenizer):
    for entry in GOLDENS["tokenize"]:
        assert [tokenizer.id_to_token(i) for i in entry["ids"]] == entry["pieces"]


def test_id_to_token_accepts_numpy_integers(tokenizer):
    assert tokenizer.id_to_token(np.int32(MASK)) == "[MASK]"
    assert tokenizer.id_to_token(np.int64(CLS)) == "[CLS]"


@pytest.mark.parametrize("token_id", [-1, VOCABULARY_SIZE, VOCABULARY_SIZE + 7, 10**9])
def test_id_to_token_out_of_range(tokenizer, token_id):
    with pytest.raises(
        ValueError, match=rf"\[0, {VOCABULARY_SIZE}\)\. Received: token_id={token_id}$"
    ):
        tokenizer.id_to_token(token_id)


@pytest.mark.parametrize("token", ["not-a-piece", "", "▁zzzzqqq", "[mask]", "<s>"])
def test_token_to_id_unknown_piece(tokenizer, token):
    with pytest.raises(KeyError, match=re.escape(repr(token))):
        tokenizer.token_to_id(token)


def test_token_to_id_of_unk_piece_itself(tokenizer):
    # The unknown piece is a real piece: no KeyError.
    assert tokenizer.token_to_id("<unk>") == UNK


# === Loading a SentencePiece model ===

_WORDS = (
    "the quick brown fox jumped over a lazy dog cat sat on mat near river "
    "tree bird sings every morning farmer reads letter old town train leaves "
    "at noon with seven boats apples bought for euros clever robot visits"
).split()


def _train_sentencepiece(tmp_path, name, **options):
    """Train a small unigram model into `tmp_path`; returns the model path."""
    rng = random.Random(7)
    text_path = tmp_path / f"{name}.txt"
    lines = [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 12))) + "."
        for _ in range(300)
    ]
    text_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    prefix = tmp_path / name
    sentencepiece.SentencePieceTrainer.train(
        input=str(text_path),
        model_prefix=str(prefix),
        vocab_size=60,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
        **options,
    )
    return tmp_path / f"{name}.model"


def _listed_missing_tokens(message):
    match = re.search(r"(\[(?:'[^']*'(?:, )?)+\])", message)
    assert match, message
    return ast.literal_eval(match.group(1))


@pytest.mark.parametrize(
    "options, missing",
    [
        (
            dict(
                pad_id=0,
                unk_id=1,
                bos_id=-1,
                eos_id=-1,
                control_symbols=["[CLS]", "[SEP]"],
            ),
            ["[MASK]"],
        ),
        (
            dict(
                pad_id=0, unk_id=1, bos_id=2, eos_id=3, user_defined_symbols=["[MASK]"]
            ),
            ["[CLS]", "[SEP]"],
        ),
        (dict(), ["<pad>", "[CLS]", "[SEP]", "[MASK]"]),
    ],
    ids=["no_mask", "no_cls_sep", "sentencepiece_defaults"],
)
def test_model_missing_special_tokens(tmp_path, options, missing):
    model_path = _train_sentencepiece(tmp_path, "partial", **options)
    # The model itself is valid SentencePiece.
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model_path))
    assert processor.encode("the dog")
    with pytest.raises(ValueError) as info:
        AlbertTokenizer(str(model_path))
    assert _listed_missing_tokens(str(info.value)) == missing
    # The same through bytes.
    with pytest.raises(ValueError) as info:
        AlbertTokenizer(model_path.read_bytes())
    assert _listed_missing_tokens(str(info.value)) == missing


def test_special_ids_are_read_from_the_model(tmp_path):
    # All special tokens present, at ids other than the ALBERT ones.
    model_path = _train_sentencepiece(
        tmp_path,
        "reordered",
        unk_id=0,
        pad_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[SEP]", "[CLS]"],
        user_defined_symbols=["[MASK]"],
    )
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model_path))
    tokenizer = AlbertTokenizer(model_path)
    assert tokenizer.unk_token_id == processor.piece_to_id("<unk>") == 0
    assert tokenizer.pad_token_id == processor.piece_to_id("<pad>") == 1
    assert tokenizer.sep_token_id == processor.piece_to_id("[SEP]")
    assert tokenizer.cls_token_id == processor.piece_to_id("[CLS]")
    assert tokenizer.mask_token_id == processor.piece_to_id("[MASK]")
    assert tokenizer.cls_token_id != CLS
    assert tokenizer.vocabulary_size() == processor.get_piece_size()
    ids = tokenizer("the [MASK] dog [SEP]")
    assert tokenizer.mask_token_id in ids.tolist()
    assert ids[-1] == tokenizer.sep_token_id
    assert sorted(tokenizer.special_token_ids) == sorted(
        {
            tokenizer.pad_token_id,
            tokenizer.cls_token_id,
            tokenizer.sep_token_id,
            tokenizer.mask_token_id,
        }
    )


def test_file_that_is_not_a_sentencepiece_model(tmp_path):
    path = tmp_path / "vocabulary.txt"
    path.write_text("the\nquick\nbrown\nfox\n", encoding="utf-8")
    with pytest.raises(ValueError, match="`proto` is not a valid SentencePiece model"):
        AlbertTokenizer(str(path))


@pytest.mark.parametrize("proto", [b"definitely not a model", b"\x00" * 16, b""])
def test_bytes_that_are_not_a_sentencepiece_model(proto):
    with pytest.raises(ValueError, match="`proto` is not a valid SentencePiece model"):
        AlbertTokenizer(proto)


def test_missing_path(tmp_path):
    path = tmp_path / "does" / "not" / "exist.spm"
    with pytest.raises(FileNotFoundError) as info:
        AlbertTokenizer(str(path))
    assert str(path) in str(info.value)
    with pytest.raises(FileNotFoundError) as info:
        AlbertTokenizer(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("proto", [123, 1.5, ["tests/data/vocabulary.spm"], {"a": 1}])
def test_proto_of_wrong_type(proto):
    with pytest.raises(
        TypeError, match=f"Received: proto of type {type(proto).__name__}$"
    ):
        AlbertTokenizer(proto)


def test_proto_as_bytes_path_or_pathlib(tokenizer):
    data = VOCABULARY_PATH.read_bytes()
    from_bytes = AlbertTokenizer(data)
    from_bytearray = AlbertTokenizer(bytearray(data))
    from_pathlib = AlbertTokenizer(VOCABULARY_PATH)
    expected = _to_lists(tokenizer(VARIED_STRINGS))
    for other in (from_bytes, from_bytearray, from_pathlib):
        assert other.vocabulary_size() == VOCABULARY_SIZE
        assert other.get_vocabulary() == tokenizer.get_vocabulary()
        assert _to_lists(other(VARIED_STRINGS)) == expected
    assert from_bytes.proto == data


def test_no_model_loaded():
    tokenizer = AlbertTokenizer()
    with pytest.raises(ValueError, match="No SentencePiece model is loaded"):
        tokenizer("the dog")
    with pytest.raises(ValueError, match="No SentencePiece model is loaded"):
        tokenizer.vocabulary_size()


# === Normalisation ===


def test_uncased(tokenizer):
    assert tokenizer("The Quick BROWN Fox").tolist() == (
        tokenizer("the quick brown fox").tolist()
    )
    assert tokenizer("CAFÉ  Naïve").tolist() == tokenizer("cafe naive").tolist()
    cased = AlbertTokenizer(str(VOCABULARY_PATH), lowercase=False)
    assert cased.lowercase is False
    upper = cased("The Quick BROWN Fox").tolist()
    assert upper != cased("the quick brown fox").tolist()
    assert upper != tokenizer("The Quick BROWN Fox").tolist()
    assert UNK in upper  # Capitals are not in the (lowercase) vocabulary.
    # Lowercase text is tokenized the same either way.
    assert cased("the quick brown fox").tolist() == (
        tokenizer("the quick brown fox").tolist()
    )


# === Python path vs TensorFlow path ===


@pytest.mark.parametrize("batch_size", [1, 4, 7])
def test_tf_data_batched_matches_eager(tokenizer, batch_size):
    eager = tokenizer(VARIED_STRINGS)
    assert isinstance(eager, list) and len(eager) == len(VARIED_STRINGS)
    dataset = (
        tf.data.Dataset.from_tensor_slices(VARIED_STRINGS)
        .batch(batch_size)
        .map(tokenizer)
    )
    rows = []
    for batch in dataset:
        assert isinstance(batch, tf.RaggedTensor)
        assert batch.dtype == tf.int32
        rows.extend(batch.to_list())
    assert rows == _to_lists(eager)


def test_tf_data_unbatched_matches_eager(tokenizer):
    dataset = tf.data.Dataset.from_tensor_slices(VARIED_STRINGS).map(tokenizer)
    rows = []
    for ids in dataset:
        assert isinstance(ids, tf.Tensor) and not isinstance(ids, tf.RaggedTensor)
        assert ids.shape.rank == 1
        assert ids.dtype == tf.int32
        rows.append(ids.numpy().tolist())
    assert rows == [tokenizer(text).tolist() for text in VARIED_STRINGS]


def test_tf_function_matches_eager(tokenizer):
    tokenize = tf.function(tokenizer)
    ragged = tokenize(tf.constant(VARIED_STRINGS))
    assert isinstance(ragged, tf.RaggedTensor)
    assert ragged.to_list() == _to_lists(tokenizer(VARIED_STRINGS))


def test_cased_tf_data_matches_eager():
    cased = AlbertTokenizer(str(VOCABULARY_PATH), lowercase=False)
    dataset = tf.data.Dataset.from_tensor_slices(VARIED_STRINGS).batch(5).map(cased)
    rows = [row for batch in dataset for row in batch.to_list()]
    assert rows == _to_lists(cased(VARIED_STRINGS))


def test_tf_data_matches_eager_with_nul_character(tokenizer):
    texts = ["a\x00b [MASK] c", "the\x00dog"]
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(2).map(tokenizer)
    rows = [row for batch in dataset for row in batch.to_list()]
    assert rows == _to_lists(tokenizer(texts))


# === Inputs and outputs ===


def test_single_string_gives_int32_vector(tokenizer):
    ids = tokenizer("the quick brown fox.")
    assert isinstance(ids, np.ndarray)
    assert ids.ndim == 1
    assert ids.dtype == np.int32
    assert ids.tolist() == GOLDENS["tokenize"][0]["ids"][:5] + [7]
    assert tokenizer.tokenize("the quick brown fox.").tolist() == ids.tolist()


def test_batch_gives_list_of_ragged_rows(tokenizer):
    texts = ["the quick brown fox.", "a dog.", "", "hello"]
    rows = tokenizer(texts)
    assert isinstance(rows, list)
    assert len(rows) == len(texts)
    for row, text in zip(rows, texts, strict=True):
        assert isinstance(row, np.ndarray)
        assert row.ndim == 1 and row.dtype == np.int32
        assert row.tolist() == tokenizer(text).tolist()
    assert len({len(row) for row in rows}) > 1  # Really ragged.
    assert rows[2].shape == (0,)
    # Tuples, numpy arrays and eager tensors of strings are batches too.
    for batch in (tuple(texts), np.array(texts), tf.constant(texts)):
        assert _to_lists(tokenizer(batch)) == _to_lists(rows)
    assert tokenizer([]) == []


def test_bytes_input(tokenizer):
    text = "the naïve café"
    assert tokenizer(text.encode("utf-8")).tolist() == tokenizer(text).tolist()
    rows = tokenizer([b"a dog.", "a dog.", text.encode("utf-8")])
    assert rows[0].tolist() == rows[1].tolist() == tokenizer("a dog.").tolist()
    assert rows[2].tolist() == tokenizer(text).tolist()
    assert tokenizer(tf.constant(text)).tolist() == tokenizer(text).tolist()


@pytest.mark.parametrize("inputs", [b"\xff\xfe", [b"ok", b"caf\xc3"], b"\xc3\x28"])
def test_invalid_utf8_bytes(tokenizer, inputs):
    bad = len(inputs) - 1 if isinstance(inputs, list) else 0  # The last input.
    with pytest.raises(ValueError, match=f"Input {bad} is not valid UTF-8"):
        tokenizer(inputs)


def test_special_tokens_written_in_text(tokenizer):
    assert tokenizer("[MASK]").tolist() == [MASK]
    assert tokenizer("[CLS]").tolist() == [CLS]
    assert tokenizer("[SEP]").tolist() == [SEP]
    assert tokenizer("<unk>").tolist() == [UNK]
    ids = tokenizer("the [MASK] sat").tolist()
    assert ids.count(MASK) == 1
    before, after = ids[: ids.index(MASK)], ids[ids.index(MASK) + 1 :]
    assert before == tokenizer("the").tolist()
    assert after == tokenizer("sat").tolist()
    assert tokenizer("x[MASK]y").tolist().count(MASK) == 1
    assert tokenizer("[MASK][MASK]").tolist() == [MASK, MASK]
    # Padding can never come from text.
    assert PAD not in tokenizer("<pad> [MASK] <pad>").tolist()


def test_detokenize_round_trip(tokenizer):
    texts = [
        "the quick brown fox jumped over the lazy dog.",
        "anna bought 12 apples for 3.50 euros!",
        "did the clever robot quietly visit the old town?",
        "every morning, the farmer reads a letter.",
        "hello",
    ]
    for text in texts:
        ids = tokenizer(text)
        assert tokenizer.detokenize(ids) == text
        assert tokenizer.detokenize(ids.tolist()) == text
    assert tokenizer.detokenize(tokenizer(texts)) == texts
    # Extra whitespace is normalised away.
    assert tokenizer.detokenize(tokenizer("  hello   the  dog ")) == "hello the dog"


# === KerasHub golden ids ===


def _golden_params():
    params = []
    for index, entry in enumerate(GOLDENS["tokenize"]):
        if entry["text"] in ACCENTED_GOLDENS | MASK_GOLDENS:
            continue
        params.append(pytest.param(entry["text"], entry["ids"], id=f"golden{index}"))
    return params


def test_golden_file_covers_expected_sentences():
    texts = {entry["text"] for entry in GOLDENS["tokenize"]}
    assert len(GOLDENS["tokenize"]) == 12
    assert ACCENTED_GOLDENS | MASK_GOLDENS <= texts


@pytest.mark.parametrize("text, ids", _golden_params())
def test_matches_keras_hub_ids(tokenizer, text, ids):
    assert tokenizer(text).tolist() == ids


@pytest.mark.parametrize(
    "entry",
    [e for e in GOLDENS["tokenize"] if "[MASK]" not in e["text"]],
    ids=lambda entry: entry["text"][:24],
)
def test_cased_tokenizer_matches_keras_hub_ids(entry):
    # Without our normalisation the SentencePiece path is KerasHub's exactly.
    cased = AlbertTokenizer(str(VOCABULARY_PATH), lowercase=False)
    assert cased(entry["text"]).tolist() == entry["ids"]


def test_matches_keras_hub_ids_in_tf_data(tokenizer):
    entries = [
        e
        for e in GOLDENS["tokenize"]
        if e["text"] not in ACCENTED_GOLDENS | MASK_GOLDENS
    ]
    assert len(entries) == 8
    texts = [e["text"] for e in entries]
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(3).map(tokenizer)
    rows = [row for batch in dataset for row in batch.to_list()]
    assert rows == [e["ids"] for e in entries]


# === Config and assets ===


@pytest.mark.parametrize("lowercase", [True, False])
def test_config_and_assets_round_trip(tmp_path, lowercase):
    tokenizer = AlbertTokenizer(str(VOCABULARY_PATH), lowercase=lowercase)
    config = tokenizer.get_config()
    assert config["lowercase"] is lowercase
    assert "proto" in config and config["proto"] is None
    json.dumps(config)  # Serialisable.
    tokenizer.save_assets(str(tmp_path))
    assert (tmp_path / "vocabulary.spm").read_bytes() == VOCABULARY_PATH.read_bytes()

    restored = AlbertTokenizer.from_config(config)
    assert restored.lowercase is lowercase
    assert restored.get_config() == config
    with pytest.raises(ValueError, match="No SentencePiece model is loaded"):
        restored(VARIED_STRINGS)
    restored.load_assets(str(tmp_path))
    assert _to_lists(restored(VARIED_STRINGS)) == _to_lists(tokenizer(VARIED_STRINGS))
    assert restored.mask_token_id == MASK
    assert restored.get_vocabulary() == tokenizer.get_vocabulary()


def test_save_assets_without_model(tmp_path):
    with pytest.raises(ValueError, match="No SentencePiece model is loaded"):
        AlbertTokenizer().save_assets(str(tmp_path))
