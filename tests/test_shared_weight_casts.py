"""Shared kernels are cast to the compute dtype once per forward pass."""

import keras
import numpy as np
from conftest import TINY_BACKBONE

from albert_mlm import AlbertBackbone
from albert_mlm.layers import shared_weight_casts
from albert_mlm.layers.shared_weight_casts import (
    apply_dense,
    cast_once_per_pass,
    compute_value,
)


def _mixed_dense():
    dense = keras.layers.Dense(4, activation="relu", dtype="mixed_bfloat16")
    dense.build((None, 8))
    return dense


def _inputs():
    return keras.ops.convert_to_tensor(
        np.random.default_rng(0).standard_normal((3, 8)), "bfloat16"
    )


def test_apply_dense_computes_what_the_layer_computes():
    dense = _mixed_dense()
    with cast_once_per_pass():
        cached = apply_dense(dense, _inputs())
    expected = dense(_inputs())
    assert keras.backend.standardize_dtype(cached.dtype) == "bfloat16"
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(keras.ops.cast(cached, "float32")),
        keras.ops.convert_to_numpy(keras.ops.cast(expected, "float32")),
    )


def test_one_cast_per_variable_per_pass_and_none_kept_after():
    dense = _mixed_dense()
    with cast_once_per_pass():
        first = compute_value(dense.kernel, "bfloat16")
        assert compute_value(dense.kernel, "bfloat16") is first
        assert compute_value(dense.bias, "bfloat16") is not first
    with cast_once_per_pass():
        assert compute_value(dense.kernel, "bfloat16") is not first
    assert getattr(shared_weight_casts._state, "cache", None) is None


def test_backbone_pass_casts_each_shared_kernel_once(monkeypatch):
    config = dict(TINY_BACKBONE, num_groups=1, num_inner_repetitions=1)
    backbone = AlbertBackbone(**config, dtype="mixed_bfloat16")
    casts = []
    real_cast = keras.ops.cast

    def counting_cast(x, dtype):
        if isinstance(x, keras.Variable):
            casts.append(x.path)
        return real_cast(x, dtype)

    monkeypatch.setattr(shared_weight_casts.ops, "cast", counting_cast)
    backbone(
        {
            "token_ids": np.ones((2, 6), "int32"),
            "segment_ids": np.zeros((2, 6), "int32"),
            "padding_mask": np.ones((2, 6), "int32"),
        }
    )
    # One block, four layer calls: its 4 kernels and 4 biases, once each.
    assert len(casts) == 8
    assert len(set(casts)) == 8
