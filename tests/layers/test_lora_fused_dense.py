"""LoRA on `FusedDense` (`enable_lora`): the fused query/key/value kernel with
factors on some of its parts computes what LoRA on separate projections
computes, and the layer's config and saved variables keep it."""

import numpy as np
import pytest
from helpers import to_numpy

from albert_mlm.layers.fused_dense import FusedDense, cast_once_per_pass

HIDDEN, RANK = 8, 2
PARTS = ("query", "key", "value")


def _fused(dtype=None, **kwargs):
    dense = FusedDense(3 * HIDDEN, output_parts=PARTS, dtype=dtype, **kwargs)
    dense.build((None, HIDDEN))
    rng = np.random.default_rng(0)
    dense.kernel.assign(rng.standard_normal((HIDDEN, 3 * HIDDEN)) * 0.3)
    dense.bias.assign(rng.standard_normal(3 * HIDDEN) * 0.3)
    return dense


def _randomize_factors(dense, seed=1):
    rng = np.random.default_rng(seed)
    for factor_a, factor_b in dense.lora_factors().values():
        factor_a.assign(rng.standard_normal(factor_a.shape) * 0.3)
        factor_b.assign(rng.standard_normal(factor_b.shape) * 0.3)


def test_fused_lora_equals_lora_on_separate_query_and_value():
    dense = _fused()
    kernel, bias = to_numpy(dense.kernel), to_numpy(dense.bias)
    dense.enable_lora(RANK, lora_alpha=4, parts=("query", "value"))
    _randomize_factors(dense)
    x = np.random.default_rng(2).standard_normal((2, 3, HIDDEN)).astype("float32")
    with cast_once_per_pass():
        outputs = to_numpy(dense(x))
    scale = 4 / RANK  # lora_alpha / rank, as Keras' Dense.
    expected = []
    for index, part in enumerate(PARTS):
        columns = slice(index * HIDDEN, (index + 1) * HIDDEN)
        part_outputs = x @ kernel[:, columns] + bias[columns]
        if part != "key":  # The key projection has no factors.
            factor_a, factor_b = (to_numpy(f) for f in dense.lora_factors()[part])
            part_outputs = part_outputs + scale * (x @ factor_a) @ factor_b
        expected.append(part_outputs)
    np.testing.assert_allclose(outputs, np.concatenate(expected, -1), atol=1e-6)
    # The key columns are exactly the frozen projection's.
    np.testing.assert_array_equal(
        to_numpy(dense.merged_kernel())[:, HIDDEN : 2 * HIDDEN],
        kernel[:, HIDDEN : 2 * HIDDEN],
    )


def test_factors_follow_keras_dense_lora():
    dense = _fused(dtype="mixed_bfloat16")
    dense.enable_lora(RANK, parts=("value",))
    factor_a, factor_b = dense.lora_factors()["value"]
    # Layer-level, as Keras' Dense: the kernel frozen, the bias left alone
    # (`AlbertBackbone.enable_lora` freezes biases too).
    assert [v.name for v in dense.trainable_weights] == [
        "bias",
        "value_lora_kernel_a",
        "value_lora_kernel_b",
    ]
    assert not dense.kernel.trainable
    assert (factor_a.shape, factor_b.shape) == ((HIDDEN, RANK), (RANK, HIDDEN))
    assert factor_a.dtype == factor_b.dtype == "float32"
    assert np.abs(to_numpy(factor_a)).max() > 0  # he_uniform
    assert not np.any(to_numpy(factor_b))  # zeros: no change at first
    assert dense.lora_alpha == RANK


def test_config_round_trips_the_lora_parts():
    dense = _fused()
    dense.enable_lora(RANK, lora_alpha=8, parts=("query", "value"))
    config = dense.get_config()
    assert (config["lora_rank"], config["lora_alpha"]) == (RANK, 8)
    rebuilt = FusedDense.from_config(config)
    rebuilt.build((None, HIDDEN))
    assert rebuilt.lora_parts == ("query", "value") and rebuilt.lora_alpha == 8
    assert sorted(rebuilt.lora_factors()) == ["query", "value"]
    assert rebuilt.get_config() == config


def test_saved_variables_hold_the_merged_kernel():
    """As Keras' Dense: `save_weights` and `.keras` files of a LoRA layer
    hold a plain layer's variables, the update merged into the kernel."""
    dense = _fused()
    dense.enable_lora(RANK, parts=("query", "value"))
    _randomize_factors(dense)
    x = np.ones((2, HIDDEN), "float32")
    store = {}
    dense.save_own_variables(store)
    assert sorted(store) == ["0", "1"]
    plain = _fused()
    plain.load_own_variables(store)
    np.testing.assert_allclose(to_numpy(plain(x)), to_numpy(dense(x)), atol=1e-6)
    # Loaded into a LoRA layer, the merged kernel restarts the factors at 0.
    dense.load_own_variables(store)
    assert not np.any(to_numpy(dense.lora_factors()["query"][1]))
    np.testing.assert_allclose(to_numpy(dense(x)), to_numpy(plain(x)), atol=1e-6)


def test_refuses_bad_lora_requests():
    dense = _fused()
    with pytest.raises(ValueError, match=r"`parts` must name some of .*'query'"):
        dense.enable_lora(RANK, parts=("gate",))
    with pytest.raises(ValueError, match="`rank` must be a positive integer"):
        dense.enable_lora(0)
    dense.enable_lora(RANK)
    with pytest.raises(ValueError, match="LoRA is already enabled"):
        dense.enable_lora(RANK)
    with pytest.raises(ValueError, match="Cannot quantize .*LoRA is enabled"):
        dense.quantize("int8")
    quantized = _fused()
    quantized.quantize("int8")
    with pytest.raises(ValueError, match=r"it is quantized \('int8'\)"):
        quantized.enable_lora(RANK)
    with pytest.raises(ValueError, match=r"`units` \(7\) must split into 3"):
        FusedDense(7, output_parts=PARTS)
