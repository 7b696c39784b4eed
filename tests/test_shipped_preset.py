"""The preset shipped in `presets/`: found by name offline, small, and better
than guessing the most frequent words."""

import json
import os

import numpy as np

from albert_mlm import AlbertMaskedLM
from albert_mlm.fill_mask import fill_mask
from albert_mlm.presets.registry import shipped_presets

NAME = "albert_tiny_en_uncased"


def test_shipped_preset_is_found_by_name_and_is_small():
    presets = shipped_presets()
    assert NAME in presets
    size = sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(presets[NAME])
        for name in names
    )
    assert size <= 20_000_000


def test_shipped_preset_beats_the_unigram_baseline_by_a_wide_margin():
    with open(os.path.join(shipped_presets()[NAME], "metadata.json")) as file:
        scores = json.load(file)["pretraining"]
    assert scores["masked_tokens"] >= 1000
    assert scores["top1"] >= 2 * scores["unigram_top1"]
    assert scores["top5"] >= scores["unigram_top5"] + 0.1


def test_shipped_preset_fills_masks_with_a_confident_distribution():
    masked_lm = AlbertMaskedLM.from_preset(NAME)
    vocabulary_size = masked_lm.backbone.vocabulary_size
    (masks,) = fill_mask(masked_lm, ["the [MASK] of the united states."], top_k=5)
    (candidates,) = masks
    assert len(candidates) == 5
    # Far from uniform: the model has learned which words fit.
    assert candidates[0]["probability"] > 20 / vocabulary_size
    assert all(c["token"] not in ("[MASK]", "<pad>") for c in candidates)
    # Uppercase input is normalised like lowercase (the preset is uncased).
    (upper,) = fill_mask(masked_lm, ["The [MASK] of the United States."], top_k=5)
    np.testing.assert_allclose(
        [c["probability"] for c in upper[0]],
        [c["probability"] for c in candidates],
        rtol=1e-4,
    )
