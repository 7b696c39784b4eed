"""`AlbertMaskedLM.fit`, `evaluate` and `predict` refuse an `x` with no rows
(`models/input_checks.py`) with one `ValueError` that says so, on every
backend, where Keras' loops would return an empty history, return `[]` or
crash with an `UnboundLocalError`."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import TINY_BACKBONE, VOCABULARY_PATH

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.models.input_checks import check_masked_lm_data


@pytest.fixture(scope="module")
def models():
    """`{needs a preprocessor: model}`; the refusals change nothing, so the
    tests share them."""
    preprocessor = AlbertMaskedLMPreprocessor(
        AlbertTokenizer(str(VOCABULARY_PATH)), sequence_length=16
    )
    return {
        True: AlbertMaskedLM(AlbertBackbone(**TINY_BACKBONE), preprocessor),
        False: AlbertMaskedLM(AlbertBackbone(**TINY_BACKBONE)),
    }


def _features(rows, as_tensors=False):
    features = {
        "token_ids": np.full((rows, 8), 5, "int32"),
        "segment_ids": np.zeros((rows, 8), "int32"),
        "padding_mask": np.ones((rows, 8), "int32"),
        "mask_positions": np.ones((rows, 2), "int32"),
    }
    if as_tensors:
        features = {k: keras.ops.convert_to_tensor(v) for k, v in features.items()}
    return features


def _labels(rows):
    return np.full((rows, 2), 5, "int32")


# (needs a preprocessor, x, y, what the message says of x)
EMPTY_INPUTS = {
    "dict-of-arrays": (False, _features(0), _labels(0), "`token_ids` has shape (0, 8)"),
    "dict-of-lists": (
        False,
        {k: [] for k in _features(0)},
        [],
        "`token_ids` has shape (0,)",
    ),
    "strings": (True, [], None, "an empty batch of strings"),
    "sentence-pairs": (True, ([], []), None, "an empty batch of strings"),
    "dataset-of-strings": (
        True,
        tf.data.Dataset.from_tensor_slices(tf.constant([], tf.string)).batch(2),
        None,
        "a dataset of 0 batches",
    ),
    "dataset-of-dicts": (
        False,
        tf.data.Dataset.from_tensor_slices((_features(0), _labels(0))).batch(2),
        None,
        "a dataset of 0 batches",
    ),
}


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
@pytest.mark.parametrize("case", EMPTY_INPUTS)
def test_empty_x_is_refused(models, method, case):
    needs_preprocessor, x, y, detail = EMPTY_INPUTS[case]
    masked_lm = models[needs_preprocessor]
    kwargs = {} if method == "predict" or y is None else {"y": y}
    with pytest.raises(ValueError) as error:
        getattr(masked_lm, method)(x, verbose=0, **kwargs)
    assert str(error.value).startswith(f"`x` has 0 rows ({detail})")


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_empty_backend_tensors_are_refused(models, method):
    masked_lm = models[False]
    kwargs = {} if method == "predict" else {"y": _labels(0)}
    with pytest.raises(ValueError, match=r"^`x` has 0 rows \(`token_ids` has shape"):
        getattr(masked_lm, method)(_features(0, as_tensors=True), verbose=0, **kwargs)


def test_one_row_is_accepted(models):
    check_masked_lm_data(models[False], _features(1))
    check_masked_lm_data(models[False], _features(1, as_tensors=True))
    check_masked_lm_data(models[True], ["a dog."])
    check_masked_lm_data(models[True], (["a dog."], ["a cat."]))
