"""`FusedDense` quantized (`layers/fused_dense.py`): every `FusedDense` of a
backbone, quantized to int8, computes exactly what a plain
`keras.layers.Dense` with the same weights quantized the same way computes,
so our quantized model is as accurate as Keras' own quantized layers."""

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE, quantize_quickly, to_numpy

from albert_mlm import AlbertBackbone
from albert_mlm.layers.fused_dense import FusedDense, cast_once_per_pass


def _fused_layers():
    backbone = AlbertBackbone(**TINY_BACKBONE)
    layers = [
        layer for layer in backbone._flatten_layers() if isinstance(layer, FusedDense)
    ]
    # Four per block: query/key/value, attention output, intermediate, output.
    assert (
        len(layers)
        == 4 * TINY_BACKBONE["num_groups"] * (TINY_BACKBONE["num_inner_repetitions"])
    )
    return layers


def _plain_twin(layer):
    twin = keras.layers.Dense(
        layer.units,
        activation=layer.activation,
        use_bias=layer.use_bias,
        dtype=layer.dtype_policy,
    )
    twin.build(layer.kernel.shape[:1])
    twin.set_weights(layer.get_weights())
    return twin


@pytest.mark.parametrize("leading_shape", [(3,), (2, 5)])
def test_each_quantized_fused_dense_equals_keras_quantized_dense(leading_shape):
    rng = np.random.default_rng(0)
    for layer in _fused_layers():
        twin = _plain_twin(layer)
        assert type(twin) is keras.layers.Dense
        inputs = rng.standard_normal(leading_shape + tuple(layer.kernel.shape[:1]))
        inputs = keras.ops.convert_to_tensor(inputs.astype("float32"))
        float_output = to_numpy(layer(inputs))
        quantize_quickly(layer, "int8")
        quantize_quickly(twin, "int8")
        assert layer.quantization_mode == twin.quantization_mode == "int8"
        expected = to_numpy(twin(inputs))
        np.testing.assert_array_equal(to_numpy(layer(inputs)), expected)
        with cast_once_per_pass():
            np.testing.assert_array_equal(to_numpy(layer(inputs)), expected)
        # Quantized, not the float layer.
        assert not np.array_equal(expected, float_output)
