"""`fill_mask` and `score` against transformers 5.24 on its own tiny
`AlbertForMaskedLM` checkpoints (`tests/data/transformers/fill_mask_and_score.json`,
written by `tools/golden_files/make_transformers_goldens.py`): the fill-mask pipeline's
top-k ids and probabilities, its probabilities of one-piece targets, and
pseudo-log-likelihoods computed with one forward pass per masked copy."""

import json

import numpy as np
import pytest
from helpers import TRANSFORMERS_DIR, TRANSFORMERS_TOLERANCE
from inference_helpers import load_transformers_masked_lm

with open(TRANSFORMERS_DIR / "fill_mask_and_score.json", encoding="utf-8") as _file:
    GOLDENS = json.load(_file)

PROBABILITY_TOLERANCE = 1e-5
NEVER_PROPOSED = {0, 1, 2, 3, 4}  # <pad>, <unk>, [CLS], [SEP], [MASK]
COMPARED_CANDIDATES = 10


@pytest.fixture(scope="module", params=sorted(GOLDENS["cases"]))
def case(request, tmp_path_factory):
    masked_lm = load_transformers_masked_lm(tmp_path_factory, request.param)
    return masked_lm, GOLDENS["cases"][request.param]


def test_top_k_ids_and_probabilities_equal_the_pipelines(case):
    masked_lm, goldens = case
    for entry in goldens["fill_mask"]:
        expected = [
            (token_id, probability)
            for token_id, probability in zip(entry["ids"], entry["probabilities"])
            if token_id not in NEVER_PROPOSED
        ][:COMPARED_CANDIDATES]
        (candidates,) = masked_lm.fill_mask(entry["text"], top_k=COMPARED_CANDIDATES)
        assert [c["id"] for c in candidates] == [i for i, _ in expected]
        error = np.abs(
            np.array([c["probability"] for c in candidates])
            - np.array([p for _, p in expected])
        ).max()
        assert error <= PROBABILITY_TOLERANCE


def test_one_piece_targets_equal_the_pipeline_and_the_model(case):
    masked_lm, goldens = case
    vocabulary_size = masked_lm.backbone.vocabulary_size
    for entry in goldens["targets"]:
        (ranked,) = masked_lm.fill_mask(
            entry["text"], targets=entry["targets"], top_k=len(entry["targets"])
        )
        by_id = {c["id"]: c for c in ranked}
        assert set(by_id) == set(entry["ids"])
        for token_id, probability in zip(entry["ids"], entry["probabilities"]):
            assert abs(by_id[token_id]["probability"] - probability) <= (
                PROBABILITY_TOLERANCE
            )
        # Exactly the model's probability at the mask, as fill_mask gives it.
        (everything,) = masked_lm.fill_mask(entry["text"], top_k=vocabulary_size)
        model = {c["id"]: c["probability"] for c in everything}
        for token_id in entry["ids"]:
            assert by_id[token_id]["probability"] == model[token_id]
        scores = [c["score"] for c in ranked]
        assert scores == sorted(scores, reverse=True)


def _as_texts(text):
    return tuple(text) if isinstance(text, list) else text


@pytest.mark.parametrize("within_word_l2r", [False, True])
def test_pseudo_log_likelihood_equals_the_reference(case, within_word_l2r):
    masked_lm, goldens = case
    variant = "pll_word_l2r" if within_word_l2r else "pll"
    for entry in goldens["pll"]:
        result = masked_lm.score(
            _as_texts(entry["text"]), per_token=True, within_word_l2r=within_word_l2r
        )
        scored_ids = [i for i in entry["input_ids"] if i not in (2, 3)]
        assert [t["id"] for t in result["tokens"]] == scored_ids
        assert result["num_pieces"] == len(scored_ids)
        assert abs(result["pseudo_log_likelihood"] - entry[variant]) <= (
            TRANSFORMERS_TOLERANCE
        )
        np.testing.assert_allclose(
            [t["score"] for t in result["tokens"]],
            entry[f"{variant}_per_token"],
            atol=TRANSFORMERS_TOLERANCE,
            rtol=0,
        )
        assert result["pseudo_perplexity"] == pytest.approx(
            np.exp(-entry[variant] / len(scored_ids)), rel=1e-4
        )


def test_the_goldens_cover_pairs_and_multi_piece_words():
    for goldens in GOLDENS["cases"].values():
        assert any(isinstance(entry["text"], list) for entry in goldens["pll"])
        assert any(entry["pll"] != entry["pll_word_l2r"] for entry in goldens["pll"])
