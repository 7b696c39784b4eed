"""The `fill_mask` graph function, called in this process on tensorflow:
it never proposes what `fill_mask` never proposes, ranks like it, answers
an empty batch, and serves a mixed-precision model in float32."""

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE

from albert_mlm import AlbertBackbone, AlbertMaskedLM
from albert_mlm.inference.candidates import never_proposed_ids
from albert_mlm.serving.fill_mask_signature import fill_mask_function

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="a TensorFlow graph"
)


def test_candidates_exclude_the_never_proposed_ids(masked_lm):
    import tensorflow as tf

    tokenizer = masked_lm.preprocessor.tokenizer
    never = never_proposed_ids(tokenizer)
    allowed = set(range(tokenizer.vocabulary_size())) - set(never)
    # More than the vocabulary holds: every id that may be proposed.
    function = fill_mask_function(masked_lm, top_k=1000, max_masks=2)
    texts = ["a [MASK] sat.", "[mask] and [MASK] too"]
    outputs = function(tf.constant(texts))
    ids = outputs["ids"].numpy()
    assert ids.shape == (2, 2, len(allowed))
    for text, masks in zip(ids, [1, 2]):
        for rank in text[:masks]:
            assert set(rank.tolist()) == allowed
        assert (text[masks:] == -1).all()
    probabilities = outputs["probabilities"].numpy()
    assert (np.diff(probabilities[1], axis=-1) <= 0).all()
    expected = masked_lm.fill_mask(texts[1], top_k=1000)
    np.testing.assert_allclose(
        probabilities[1],
        [[c["probability"] for c in mask] for mask in expected],
        rtol=1e-5,
    )
    # An empty batch (the model itself cannot run on no rows).
    empty = function(tf.constant([], dtype=tf.string))
    assert {name: value.shape.as_list() for name, value in empty.items()} == {
        "status": [0],
        "mask_count": [0],
        **{
            name: [0, 2, len(allowed)]
            for name in ("ids", "pieces", "tokens", "probabilities")
        },
    }


def test_a_mixed_precision_model_is_served_in_float32(preprocessor):
    import tensorflow as tf

    backbone = AlbertBackbone(**TINY_BACKBONE, dtype="mixed_bfloat16")
    masked_lm = AlbertMaskedLM(backbone, preprocessor)
    texts = ["a [MASK] sat.", "[MASK] and [MASK] too"]
    outputs = fill_mask_function(masked_lm, top_k=3, max_masks=2)(tf.constant(texts))
    assert outputs["probabilities"].dtype == tf.float32
    expected = masked_lm.fill_mask(texts, top_k=3)
    for index, masks in enumerate(expected):
        found = outputs["ids"].numpy()[index, : len(masks)].tolist()
        assert found == [[c["id"] for c in mask] for mask in masks]
        # bfloat16 logits: a different padding rounds them differently.
        np.testing.assert_allclose(
            outputs["probabilities"].numpy()[index, : len(masks)],
            [[c["probability"] for c in mask] for mask in masks],
            rtol=1e-2,
        )
