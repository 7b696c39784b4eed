"""`mask_strategy` and `max_ngram`: validation, vocabularies without word
starts, and their journey through configs and presets."""

import io
import json
import random

import keras
import numpy as np
import pytest
import sentencepiece
import tensorflow as tf

from albert_mlm import AlbertMaskedLMPreprocessor, AlbertTokenizer
from albert_mlm.text.mask_generator import MaskGenerator


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


@pytest.fixture(scope="module")
def proto_without_word_starts():
    """A SentencePiece model with ALBERT's special tokens and no "▁" piece:
    trained on text without spaces, with no dummy prefix."""
    rng = random.Random(0)
    words = "the quick brown fox jumped over lazy dog cat sat near river".split()
    lines = ["".join(rng.choice(words) for _ in range(8)) for _ in range(200)]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=60,
        model_type="unigram",
        add_dummy_prefix=False,
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]"],
        user_defined_symbols=["[MASK]"],
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(mask_strategy="span"), "Received: mask_strategy='span'"),
        (dict(mask_strategy=None), "Received: mask_strategy=None"),
        (dict(mask_strategy="Whole_Word"), "`mask_strategy` must be one of"),
        (dict(max_ngram=0), "Received: max_ngram=0"),
        (dict(max_ngram=-2), "Received: max_ngram=-2"),
        (dict(max_ngram="2"), "Received: max_ngram='2'"),
        (dict(max_ngram=1.5), "Received: max_ngram=1.5"),
        (dict(max_ngram=True), "Received: max_ngram=True"),
        (dict(mask_strategy="ngram", max_ngram=2.0), "Received: max_ngram=2.0"),
    ],
)
def test_bad_arguments_name_the_argument(tokenizer, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        AlbertMaskedLMPreprocessor(tokenizer, **kwargs)
    assert type(info.value) is ValueError
    with pytest.raises(ValueError, match=fragment):
        MaskGenerator(400, 4, [0, 2, 3, 4], word_starts=[True] * 400, **kwargs)


def _selected_positions(preprocessor, texts, seed):
    """Per row, the set of positions `preprocessor` chose to predict."""
    x, _, weights = preprocessor(texts, seed=seed)
    positions, weights = _np(x["mask_positions"]), _np(weights) > 0
    return [set(row[real].tolist()) for row, real in zip(positions, weights)]


def test_max_ngram_of_one_is_whole_words(tokenizer):
    """`ngram` with `max_ngram=1` draws single whole words as `whole_word`
    does: with the same seed it picks the same words, but at the budget's
    end, where `whole_word` goes on taking any word that still fits and
    `ngram` stops after one."""
    rng = random.Random(0)
    words = "the quick brown fox jumped over lazy dog a cat sat near river".split()
    words += "clever robot quietly visited station bicycle ocean children".split()
    texts = [
        " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
        for _ in range(32)
    ]

    def preprocessor(**settings):
        return AlbertMaskedLMPreprocessor(tokenizer, sequence_length=48, **settings)

    one_word = preprocessor(mask_strategy="ngram", max_ngram=1)
    whole_words = preprocessor(mask_strategy="whole_word")
    three_words = preprocessor(mask_strategy="ngram", max_ngram=3)
    token_ids = _np(one_word.pack(texts)["token_ids"])
    special = set(tokenizer.special_token_ids)
    vocabulary = tokenizer.get_vocabulary()
    rows = same = same_as_three = selected = 0
    for seed in range(4):
        chosen = _selected_positions(one_word, texts, [seed, 0])
        expected = _selected_positions(whole_words, texts, [seed, 0])
        longer = _selected_positions(three_words, texts, [seed, 0])
        for ids, positions, whole, three in zip(token_ids, chosen, expected, longer):
            assert positions <= whole
            # Whole words: the pieces continuing a selected word (no "▁",
            # not after a special token) are selected with it, and only then.
            continues = [
                i > 0
                and ids[i] not in special
                and ids[i - 1] not in special
                and not vocabulary[ids[i]].startswith("\u2581")
                for i in range(len(ids))
            ]
            for i in range(1, len(ids)):
                if continues[i]:
                    assert (i in positions) == (i - 1 in positions)
            rows += 1
            selected += len(positions)
            same += positions == whole
            same_as_three += positions == three
    assert selected >= 2 * rows
    # The budget's end rarely differs; spans of up to 3 words often do.
    assert same >= 0.75 * rows
    assert same_as_three < 0.5 * rows


@pytest.mark.parametrize("strategy", ["whole_word", "ngram"])
def test_vocabulary_without_word_starts_is_refused(proto_without_word_starts, strategy):
    tokenizer = AlbertTokenizer(proto_without_word_starts)
    assert not any(piece.startswith("▁") for piece in tokenizer.get_vocabulary())
    with pytest.raises(ValueError, match="no piece of the vocabulary begins a word"):
        AlbertMaskedLMPreprocessor(tokenizer, mask_strategy=strategy)
    # The token strategy needs no words.
    preprocessor = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=12)
    _, _, weight = preprocessor("thequickbrownfox")
    assert _np(weight).sum() > 0


def test_vocabulary_loaded_later_is_checked_at_the_first_call(
    proto_without_word_starts, tmp_path
):
    # No vocabulary yet: nothing to check at construction.
    preprocessor = AlbertMaskedLMPreprocessor(
        AlbertTokenizer(), sequence_length=12, mask_strategy="whole_word"
    )
    (tmp_path / "vocabulary.spm").write_bytes(proto_without_word_starts)
    preprocessor.tokenizer.load_assets(str(tmp_path))
    with pytest.raises(ValueError, match="mask_strategy='whole_word'"):
        preprocessor("thequickbrownfox")


def test_mask_generator_needs_word_starts_for_word_strategies():
    with pytest.raises(ValueError, match="needs `word_starts`"):
        MaskGenerator(400, 4, [0, 2, 3, 4], mask_strategy="ngram")
    with pytest.raises(
        ValueError,
        match="mask_strategy='ngram'.* no piece of the vocabulary begins a word",
    ):
        MaskGenerator(
            400, 4, [0, 2, 3, 4], mask_strategy="ngram", word_starts=[False] * 400
        )
    MaskGenerator(400, 4, [0, 2, 3, 4])  # The token strategy needs none.


def test_config_round_trip(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=24, mask_strategy="ngram", max_ngram=2
    )
    config = preprocessor.get_config()
    assert config["mask_strategy"] == "ngram" and config["max_ngram"] == 2
    json.dumps(config)
    restored = AlbertMaskedLMPreprocessor.from_config(config)
    assert (restored.mask_strategy, restored.max_ngram) == ("ngram", 2)
    assert restored.get_config() == config
    serialized = keras.layers.serialize(preprocessor)
    assert keras.layers.deserialize(serialized).mask_strategy == "ngram"
    default = AlbertMaskedLMPreprocessor(tokenizer).get_config()
    assert (default["mask_strategy"], default["max_ngram"]) == ("token", 3)


def test_preset_round_trip(tokenizer, tmp_path):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=24, mask_strategy="ngram", max_ngram=2
    )
    preprocessor.save_to_preset(str(tmp_path / "ngram"))
    stored = json.loads((tmp_path / "ngram" / "preprocessor.json").read_text())
    assert stored["config"]["mask_strategy"] == "ngram"
    assert stored["config"]["max_ngram"] == 2
    restored = AlbertMaskedLMPreprocessor.from_preset(str(tmp_path / "ngram"))
    assert (restored.mask_strategy, restored.max_ngram) == ("ngram", 2)
    texts = ["the quick brown fox jumped over the lazy dog.", "a cat sat."]
    expected = tf.nest.flatten(preprocessor(texts, seed=[1, 2]))
    for a, b in zip(expected, tf.nest.flatten(restored(texts, seed=[1, 2]))):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_default_preset_stays_keras_hub_readable(tokenizer, tmp_path):
    AlbertMaskedLMPreprocessor(tokenizer).save_to_preset(str(tmp_path))
    stored = json.loads((tmp_path / "preprocessor.json").read_text())
    assert "mask_strategy" not in stored["config"]
    assert "max_ngram" not in stored["config"]
    # A non-default max_ngram alone is written; the default strategy is not.
    AlbertMaskedLMPreprocessor(tokenizer, max_ngram=4).save_to_preset(
        str(tmp_path / "four")
    )
    stored = json.loads((tmp_path / "four" / "preprocessor.json").read_text())
    assert stored["config"]["max_ngram"] == 4
    assert "mask_strategy" not in stored["config"]
