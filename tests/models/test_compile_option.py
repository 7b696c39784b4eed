"""`AlbertMaskedLM(..., compile=False)` (`models/albert_masked_lm.py`): the
model is left uncompiled, `fit` and `evaluate` then raise the `ValueError`
Keras raises, in Keras' words, and after `compile()` it trains; by default it
is compiled at construction."""

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE, weight_values

from albert_mlm import AlbertBackbone, AlbertMaskedLM

TEXTS = ["the quick brown fox.", "a dog sat near the river.", "the old man.", "a cat."]


def test_default_construction_is_compiled(backbone, preprocessor):
    masked_lm = AlbertMaskedLM(backbone, preprocessor)
    assert masked_lm.compiled
    assert masked_lm.optimizer is not None
    assert masked_lm.loss is not None


def test_uncompiled_model_refuses_fit_and_evaluate_naming_compile(preprocessor):
    masked_lm = AlbertMaskedLM(
        AlbertBackbone(**TINY_BACKBONE), preprocessor, compile=False
    )
    assert not masked_lm.compiled
    before = weight_values(masked_lm)
    keras_message = _keras_uncompiled_message()
    with pytest.raises(ValueError) as fit_error:
        masked_lm.fit(TEXTS, batch_size=2, verbose=0)
    with pytest.raises(ValueError) as evaluate_error:
        masked_lm.evaluate(TEXTS, batch_size=2, verbose=0)
    for error in (fit_error, evaluate_error):
        assert str(error.value).startswith(keras_message)
        assert "compile=False" in str(error.value)
    for old, new in zip(before, weight_values(masked_lm)):
        np.testing.assert_array_equal(old, new)

    masked_lm.compile()
    assert masked_lm.compiled
    history = masked_lm.fit(TEXTS, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 1
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(
        not np.array_equal(old, new)
        for old, new in zip(before, weight_values(masked_lm))
    )


def test_compile_false_is_not_part_of_the_config(backbone):
    masked_lm = AlbertMaskedLM(backbone, compile=False)
    assert "compile" not in masked_lm.get_config()
    assert not masked_lm.compiled


def _keras_uncompiled_message():
    """What Keras itself raises when an uncompiled model is fitted."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError) as error:
        model.fit(np.zeros((1, 1)), np.zeros((1, 1)), verbose=0)
    assert "compile()" in str(error.value)
    return str(error.value)
