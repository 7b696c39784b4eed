"""`MASK_STRATEGIES` (`text/mask_generator.py`) is the one table of masking
strategies: an entry added in a test is used by `MaskGenerator`, accepted by
`AlbertMaskedLMPreprocessor` (and kept by its config and presets), and offered
by `PretrainOptions` and `albert-mlm pretrain --mask-strategy`."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_mlm import AlbertMaskedLMPreprocessor
from albert_mlm.cli import build_parser
from albert_mlm.text.mask_generator import (
    MASK_STRATEGIES,
    MaskGenerator,
    MaskStrategy,
)
from albert_mlm.text.word_spans import word_start_table
from albert_mlm.training.pretrain_options import PretrainOptions

PAD, CLS, SEP, MASK = 0, 2, 3, 4


class LeadingTokens:
    """The first `budget` selectable tokens of each row, recording what the
    strategy's table entry says it is built from."""

    built_with = []

    def __init__(self, word_starts, max_ngram):
        LeadingTokens.built_with.append((np.asarray(word_starts), max_ngram))

    def __call__(self, token_ids, selectable, budget, draws):
        before = tf.cumsum(tf.cast(selectable, tf.int32), axis=1, exclusive=True)
        selected = selectable & (before < budget[:, None])
        return selected, tf.cast(selected, tf.int32)


@pytest.fixture
def leading(monkeypatch):
    """`"leading"` registered for the test, unregistered after it."""
    LeadingTokens.built_with.clear()
    strategy = MaskStrategy(
        LeadingTokens, needs_word_starts=True, arguments=("max_ngram",)
    )
    monkeypatch.setitem(MASK_STRATEGIES, "leading", strategy)
    yield "leading"
    LeadingTokens.built_with.clear()


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def test_unregistered_strategy_is_refused_everywhere(tokenizer):
    assert "leading" not in MASK_STRATEGIES
    with pytest.raises(ValueError, match="Received: mask_strategy='leading'"):
        MaskGenerator(400, MASK, [PAD, CLS, SEP, MASK], mask_strategy="leading")
    with pytest.raises(ValueError, match="Received: mask_strategy='leading'"):
        AlbertMaskedLMPreprocessor(tokenizer, mask_strategy="leading")
    with pytest.raises(ValueError, match="Received: mask_strategy='leading'"):
        PretrainOptions(corpus=["a.txt"], out="run", mask_strategy="leading")


def test_generator_uses_a_registered_strategy(leading):
    masker = MaskGenerator(
        50,
        MASK,
        [PAD, CLS, SEP, MASK],
        mask_selection_rate=0.5,
        mask_strategy=leading,
        max_ngram=2,
        word_starts=[True] * 50,
    )
    ((word_starts, max_ngram),) = LeadingTokens.built_with
    assert word_starts.all() and word_starts.shape == (50,) and max_ngram == 2
    token_ids = tf.constant([[CLS, 9, 8, 7, 6, SEP, PAD, PAD]])
    # Half of 4 selectable tokens, the first two: no random strategy does that
    # for every seed.
    for seed in ([1, 2], [3, 4], [5, 6]):
        selected, _ = masker.select(token_ids, seed=seed)
        assert _np(selected).astype(int).tolist() == [[0, 1, 1, 0, 0, 0, 0, 0]]
    # Its entry says it needs word starts, and the generator asks for them.
    with pytest.raises(ValueError, match="needs `word_starts`"):
        MaskGenerator(50, MASK, [PAD, CLS, SEP, MASK], mask_strategy=leading)


def test_preprocessor_accepts_and_configures_a_registered_strategy(
    leading, tokenizer, tmp_path
):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=12, mask_strategy=leading, max_ngram=2
    )
    x, y, weight = preprocessor("the quick brown fox jumped over the dog.", seed=[1, 2])
    count = int(_np(weight).sum())
    assert count >= 1
    assert _np(x["mask_positions"])[:count].tolist() == list(range(1, count + 1))
    # The preprocessor gave it the vocabulary's word starts and max_ngram.
    word_starts, max_ngram = LeadingTokens.built_with[-1]
    expected = word_start_table(tokenizer.get_vocabulary())
    assert np.array_equal(word_starts, expected) and max_ngram == 2

    config = preprocessor.get_config()
    assert config["mask_strategy"] == leading and config["max_ngram"] == 2
    restored = AlbertMaskedLMPreprocessor.from_config(json.loads(json.dumps(config)))
    assert restored.mask_strategy == leading
    assert restored.get_config() == config

    preprocessor.save_to_preset(str(tmp_path / "leading"))
    stored = json.loads((tmp_path / "leading" / "preprocessor.json").read_text())
    assert stored["config"]["mask_strategy"] == leading
    reloaded = AlbertMaskedLMPreprocessor.from_preset(str(tmp_path / "leading"))
    assert reloaded.mask_strategy == leading


def test_pretrain_options_and_command_line_offer_a_registered_strategy(leading):
    options = PretrainOptions(corpus=["a.txt"], out="run", mask_strategy=leading)
    assert options.mask_strategy == leading
    (pretrain,) = [
        action.choices["pretrain"]
        for action in build_parser()._actions
        if isinstance(getattr(action, "choices", None), dict)
        and "pretrain" in action.choices
    ]
    args = pretrain.parse_args(
        ["--corpus", "a.txt", "--out", "run", "--mask-strategy", leading]
    )
    assert args.mask_strategy == leading
    help_text = " ".join(pretrain.format_help().split())
    assert "{token,whole_word,ngram,leading}" in help_text
    assert "one of token, whole_word, ngram, leading" in help_text


def test_config_keeps_its_fields_in_order(tokenizer):
    """The fields and their order of today's presets: `preprocessor.json`
    stays byte for byte what it was."""
    config = AlbertMaskedLMPreprocessor(tokenizer).get_config()
    assert list(config)[-9:] == [
        "tokenizer",
        "sequence_length",
        "truncate",
        "mask_selection_rate",
        "mask_selection_length",
        "mask_token_rate",
        "random_token_rate",
        "mask_strategy",
        "max_ngram",
    ]
