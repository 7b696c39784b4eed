import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE

from albert_mlm import ARCHITECTURES, AlbertBackbone

PUBLISHED_PARAMETER_COUNTS = {
    "albert_base_en_uncased": 11_683_584,
    "albert_large_en_uncased": 17_683_968,
    "albert_extra_large_en_uncased": 58_724_864,
    "albert_extra_extra_large_en_uncased": 222_595_584,
}


def _inputs(batch_size=2, length=7, vocabulary_size=400, seed=0):
    rng = np.random.default_rng(seed)
    padding_mask = np.ones((batch_size, length), "int32")
    padding_mask[1, length - 2 :] = 0
    return {
        "token_ids": rng.integers(5, vocabulary_size, (batch_size, length)).astype(
            "int32"
        ),
        "segment_ids": np.repeat([[0] * 4 + [1] * (length - 4)], batch_size, 0).astype(
            "int32"
        ),
        "padding_mask": padding_mask,
    }


def _numpy(outputs):
    return {key: keras.ops.convert_to_numpy(value) for key, value in outputs.items()}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMETER_COUNTS))
def test_published_architectures_have_published_parameter_counts(name):
    backbone = AlbertBackbone(**ARCHITECTURES[name])
    assert backbone.count_params() == PUBLISHED_PARAMETER_COUNTS[name]


def test_output_shapes(backbone):
    outputs = backbone(_inputs())
    assert tuple(outputs["sequence_output"].shape) == (2, 7, 16)
    assert tuple(outputs["pooled_output"].shape) == (2, 16)


def test_groups_share_weights_across_layer_calls():
    shared = AlbertBackbone(**{**TINY_BACKBONE, "num_layers": 8})
    unshared = AlbertBackbone(
        **{
            **TINY_BACKBONE,
            "num_layers": 8,
            "num_groups": 8,
            "num_inner_repetitions": 1,
        }
    )
    per_block = sum(
        int(np.prod(v.shape)) for v in shared.get_layer("group_0_inner_layer_0").weights
    )
    # 2 groups x 2 inner blocks of weights serve 8 layer calls; 8 x 1 do too.
    assert unshared.count_params() - shared.count_params() == 4 * per_block
    assert len(shared.groups) == 2 and len(shared.groups[0]) == 2


def test_layer_calls_route_through_groups_in_order():
    backbone = AlbertBackbone(
        **{
            **TINY_BACKBONE,
            "num_layers": 6,
            "num_groups": 3,
            "num_inner_repetitions": 1,
        }
    )
    x = _inputs()
    reference = _numpy(backbone(x))["sequence_output"]
    # Zeroing group 2's output layer norm makes calls 4 and 5 (group 2) emit
    # only its beta; any other routing would not.
    block = backbone.get_layer("group_2_inner_layer_0")
    block.output_layer_norm.gamma.assign(np.zeros(16, "float32"))
    beta = np.linspace(-1, 1, 16).astype("float32")
    block.output_layer_norm.beta.assign(beta)
    routed = _numpy(backbone(x))["sequence_output"]
    np.testing.assert_allclose(routed, np.broadcast_to(beta, routed.shape), atol=1e-6)
    assert not np.allclose(reference, routed)


def test_padding_masks_attention_keys(backbone):
    x = _inputs()
    changed = {key: value.copy() for key, value in x.items()}
    changed["token_ids"][1, -2:] = 7  # Only padded positions of row 1 change.
    original, perturbed = _numpy(backbone(x)), _numpy(backbone(changed))
    np.testing.assert_allclose(
        original["sequence_output"][1, :-2],
        perturbed["sequence_output"][1, :-2],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        original["pooled_output"], perturbed["pooled_output"], atol=1e-6
    )


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"num_layers": 3}, "num_layers"),
        ({"num_heads": 3}, "hidden_dim"),
        ({"vocabulary_size": 0}, "vocabulary_size"),
        ({"embedding_dim": -8}, "embedding_dim"),
        ({"intermediate_dim": 2.5}, "intermediate_dim"),
        ({"num_groups": 0}, "num_groups"),
        ({"num_inner_repetitions": 0}, "num_inner_repetitions"),
        ({"max_sequence_length": 0}, "max_sequence_length"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"activation": "swish"}, "activation"),
        ({"layer_norm_epsilon": 0}, "layer_norm_epsilon"),
    ],
)
def test_invalid_arguments_name_the_argument(overrides, fragment):
    with pytest.raises(ValueError, match=fragment):
        AlbertBackbone(**{**TINY_BACKBONE, **overrides})


def test_config_round_trip_rebuilds_the_same_model(backbone):
    config = backbone.get_config()
    assert {k: config[k] for k in TINY_BACKBONE} == TINY_BACKBONE
    clone = AlbertBackbone.from_config(config)
    clone.set_weights(backbone.get_weights())
    x = _inputs()
    for key, value in _numpy(backbone(x)).items():
        np.testing.assert_allclose(_numpy(clone(x))[key], value, atol=1e-6)


def test_initializer_is_truncated_normal_with_stddev_0_02():
    backbone = AlbertBackbone(
        **{**TINY_BACKBONE, "vocabulary_size": 5000, "embedding_dim": 64}
    )
    embeddings = keras.ops.convert_to_numpy(backbone.token_embedding.embeddings)
    assert abs(embeddings.std() - 0.02 * 0.88) < 0.002  # Truncation shrinks std.
    assert np.abs(embeddings).max() <= 0.04 + 1e-6


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "mixed_bfloat16"])
def test_dtype_policies(dtype):
    reference = AlbertBackbone(**TINY_BACKBONE)
    backbone = AlbertBackbone(**TINY_BACKBONE, dtype=dtype)
    backbone.set_weights(reference.get_weights())
    x = _inputs()
    outputs = backbone(x)
    compute_dtype = "float32" if dtype == "float32" else "bfloat16"
    assert keras.backend.standardize_dtype(outputs["sequence_output"].dtype) == (
        compute_dtype
    )
    variable_dtype = "bfloat16" if dtype == "bfloat16" else "float32"
    assert {v.dtype for v in backbone.weights} == {variable_dtype}
    expected = _numpy(reference(x))["sequence_output"]
    got = keras.ops.convert_to_numpy(
        keras.ops.cast(outputs["sequence_output"], "float32")
    )
    tolerance = 0 if dtype == "float32" else 0.15
    np.testing.assert_allclose(got, expected, atol=tolerance + 1e-6)


def test_dropout_changes_training_outputs_only():
    backbone = AlbertBackbone(**{**TINY_BACKBONE, "dropout": 0.3})
    x = _inputs()
    first = _numpy(backbone(x, training=False))["sequence_output"]
    second = _numpy(backbone(x, training=False))["sequence_output"]
    trained = _numpy(backbone(x, training=True))["sequence_output"]
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, trained)
