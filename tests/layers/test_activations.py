"""Activation names of ALBERT checkpoints (`layers/activations.py`):
`gelu_python` is the exact (erf) GELU, the same as `gelu`; `gelu_accurate`
is the tanh approximation, the same as `gelu_approximate`; in a backbone
the names change its outputs exactly as the functions they stand for."""

import math

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE, to_numpy

from albert_mlm import AlbertBackbone
from albert_mlm.layers.activations import get_activation

POINTS = np.linspace(-6.0, 6.0, 97).astype("float32")


def _exact_gelu(x):
    return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))


def _tanh_gelu(x):
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + math.tanh(inner))


@pytest.mark.parametrize(
    "name, reference",
    [
        ("gelu", _exact_gelu),
        ("gelu_python", _exact_gelu),
        ("gelu_approximate", _tanh_gelu),
        ("gelu_accurate", _tanh_gelu),
        ("gelu_new", _tanh_gelu),
    ],
)
def test_activation_computes_its_formula(name, reference):
    values = to_numpy(get_activation(name)(keras.ops.convert_to_tensor(POINTS)))
    expected = np.array([reference(float(x)) for x in POINTS])
    np.testing.assert_allclose(values, expected, atol=2e-6, rtol=1e-5)


def test_exact_and_approximate_gelu_differ():
    # Otherwise the tests above could not tell them apart.
    difference = np.abs(
        np.array([_exact_gelu(float(x)) - _tanh_gelu(float(x)) for x in POINTS])
    )
    assert difference.max() > 1e-4


def _outputs(activation):
    keras.utils.set_random_seed(7)
    backbone = AlbertBackbone(**{**TINY_BACKBONE, "activation": activation})
    assert backbone.activation == activation
    # Initial weights (stddev 0.02) keep pre-activations near 0, where the
    # two GELUs agree to 1e-7: widen them so the forms differ.
    for weight in backbone.weights:
        if weight.path.endswith(("kernel", "embeddings")):
            weight.assign(weight * 40.0)
    inputs = {
        "token_ids": np.arange(5, 17, dtype="int32").reshape(2, 6),
        "segment_ids": np.zeros((2, 6), "int32"),
        "padding_mask": np.ones((2, 6), "int32"),
    }
    return to_numpy(backbone(inputs)["sequence_output"])


def test_backbone_with_gelu_python_computes_exact_gelu():
    exact = _outputs("gelu")
    np.testing.assert_array_equal(_outputs("gelu_python"), exact)
    assert np.abs(_outputs("gelu_approximate") - exact).max() > 1e-4


def test_backbone_with_gelu_accurate_computes_the_tanh_approximation():
    np.testing.assert_array_equal(
        _outputs("gelu_accurate"), _outputs("gelu_approximate")
    )
