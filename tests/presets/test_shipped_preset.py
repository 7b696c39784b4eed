"""The preset shipped in `presets/`: found by name offline, small, and as good
as its `metadata.json` says, measured again from its weights."""

import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import DATA_DIR, cloze_sentences

from albert_mlm import AlbertMaskedLM
from albert_mlm.presets.registry import shipped_presets
from albert_mlm.training.cloze import cloze_accuracy, read_cloze_set
from albert_mlm.training.evaluation import (
    evaluate_masked_lm,
    token_counts,
    token_masking,
)

NAME = "albert_tiny_en_uncased"
# What tools/preset_release/evaluate_english_preset.py measures with:
# sequences of 128 tokens, 20 prediction slots, single tokens masked with seed 0.
SEQUENCE_LENGTH = 128
PREDICTION_SLOTS = 20
SEED = 0
# The most the accuracy on the held-out documents and on the cloze sentences
# may differ by, beyond sampling error (see the held-out test).
TEXT_GAP = 0.05


@pytest.fixture(scope="module")
def stored():
    """The figures `metadata.json` stores under "pretraining"."""
    with open(os.path.join(shipped_presets()[NAME], "metadata.json")) as file:
        return json.load(file)["pretraining"]


@pytest.fixture(scope="module")
def masked_lm():
    return AlbertMaskedLM.from_preset(
        NAME, sequence_length=SEQUENCE_LENGTH, mask_selection_length=PREDICTION_SLOTS
    )


@pytest.fixture(scope="module")
def cloze_items():
    return read_cloze_set(str(DATA_DIR / "cloze_en.json"))


def test_shipped_preset_is_found_by_name_and_is_small():
    presets = shipped_presets()
    assert NAME in presets
    size = sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(presets[NAME])
        for name in names
    )
    assert size <= 20_000_000


def test_stored_cloze_accuracy_is_what_the_weights_give(masked_lm, stored, cloze_items):
    # The cloze set is in the repository: the stored figures are recomputed
    # as tools/preset_release/evaluate_english_preset.py computed them.
    # Counted in items, they may differ by one: the backends' float32 kernels
    # round differently, which can swap two near-tied candidates of one item.
    measured = cloze_accuracy(masked_lm, cloze_items)
    items = len(cloze_items)
    assert measured["items"] == stored["cloze"]["items"] == items
    for k in ("top1", "top5"):
        solved, claimed = round(measured[k] * items), round(stored["cloze"][k] * items)
        assert abs(solved - claimed) <= 1, f"{k}: {solved} solved, {claimed} stored"
    assert round(measured["top5"] * items) >= 20


def test_stored_held_out_accuracy_is_what_the_weights_give(masked_lm, stored):
    """The held-out text (137,458 words that
    `tools/corpus/build_english_corpus.py` downloads) is not in the
    repository: the same measurement (128 tokens, 20 slots, single tokens
    masked with seed 0) runs on the completed cloze sentences instead.

    Other text gives other figures; the tolerance is sampling error (three
    standard errors of a proportion over the masked tokens counted here, about
    5.6 points at 666 tokens) plus the gap between the two texts, measured
    on the weights of stage 6 and of this preset: 1.2 and 4.9 points of top-1,
    1.8 and 3.7 of top-5 (this preset: 31.2% and 49.4% here, 36.1% and 53.1%
    stored). The weights of the first preset would be 24 points off.
    """
    lines = tf.data.Dataset.from_tensor_slices(cloze_sentences())
    counts = token_counts(masked_lm.preprocessor.tokenizer, lines)
    tf.random.set_seed(SEED)
    batches = lines.batch(64).map(token_masking(masked_lm.preprocessor))
    measured = evaluate_masked_lm(masked_lm, batches, counts)
    masked_tokens = measured["masked_tokens"]
    assert masked_tokens >= 500
    for k in ("top1", "top5"):
        p = stored[k]
        tolerance = 3 * math.sqrt(p * (1 - p) / masked_tokens) + TEXT_GAP
        assert measured[k] == pytest.approx(p, abs=tolerance), k
    # Far better than always guessing the most frequent pieces, even those
    # of this very text (the stored baseline counts the training text).
    assert measured["top1"] >= 2 * measured["unigram_top1"]
    assert measured["top5"] >= measured["unigram_top5"] + 0.1
    assert stored["top1"] >= 2 * stored["unigram_top1"]
    assert stored["top5"] >= stored["unigram_top5"] + 0.1


def test_shipped_preset_fills_masks_with_a_confident_distribution(masked_lm):
    vocabulary_size = masked_lm.backbone.vocabulary_size
    (masks,) = masked_lm.fill_mask(["the [MASK] of the united states."], top_k=5)
    (candidates,) = masks
    assert len(candidates) == 5
    # Far from uniform: the model has learned which words fit.
    assert candidates[0]["probability"] > 20 / vocabulary_size
    assert all(c["token"] not in ("[MASK]", "<pad>") for c in candidates)
    # Uppercase input is normalised like lowercase (the preset is uncased).
    (upper,) = masked_lm.fill_mask(["The [MASK] of the United States."], top_k=5)
    np.testing.assert_allclose(
        [c["probability"] for c in upper[0]],
        [c["probability"] for c in candidates],
        rtol=1e-4,
    )
