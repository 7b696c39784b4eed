"""`AlbertBackbone.enable_lora`, `save_lora_weights` and `load_lora_weights`
(`albert_mlm.models.lora`): only the factors train, adapters reload exactly,
and a LoRA model saves as a plain, merged preset."""

import json

import keras
import numpy as np
import pytest
from helpers import (
    TINY_BACKBONE,
    VOCABULARY_PATH,
    cloze_sentences,
    cpu_mesh,
    random_model_inputs,
    to_numpy,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

RANK = 4
BACKEND = keras.backend.backend()
# The tiny backbone with one block per group, to compile faster: each block
# still serves two layer calls, so one set of factors serves both.
LORA_BACKBONE = {**TINY_BACKBONE, "num_inner_repetitions": 1}


def _inputs(masked=False):
    return random_model_inputs([[1, 4], [2, 7]] if masked else None)


def _outputs(model, masked=False):
    outputs = model(_inputs(masked))
    if masked:
        return to_numpy(outputs)
    return {key: to_numpy(value) for key, value in outputs.items()}


def _is_factor(variable):
    return "lora_kernel" in variable.path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny masked LM fitted with LoRA for 2 steps on raw strings, its
    backbone's weights from before, and its saved adapter."""
    keras.utils.set_random_seed(1234)
    preprocessor = AlbertMaskedLMPreprocessor(
        AlbertTokenizer(str(VOCABULARY_PATH)), sequence_length=16
    )
    masked_lm = AlbertMaskedLM(AlbertBackbone(**LORA_BACKBONE), preprocessor)
    backbone = masked_lm.backbone
    before = {v.path: to_numpy(v) for v in backbone.weights}
    backbone.enable_lora(RANK)
    masked_lm.compile(optimizer=keras.optimizers.Adam(1e-2))
    masked_lm.fit(cloze_sentences()[:4], batch_size=2, epochs=1, verbose=0)
    adapter = tmp_path_factory.mktemp("adapter") / "tiny.lora.h5"
    backbone.save_lora_weights(adapter)
    return masked_lm, before, adapter


def _fresh_backbone(before):
    """A backbone holding the weights `trained` started from."""
    backbone = AlbertBackbone(**LORA_BACKBONE)
    for variable in backbone.weights:
        variable.assign(before[variable.path])
    return backbone


def test_outputs_are_unchanged_right_after_enable_lora():
    backbone = AlbertBackbone(**LORA_BACKBONE)
    expected = _outputs(backbone)
    backbone.enable_lora(RANK)
    actual = _outputs(backbone)
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key])


def test_fit_trains_only_the_factors(trained):
    masked_lm, before, _ = trained
    backbone = masked_lm.backbone
    assert backbone.trainable_weights and all(
        _is_factor(v) for v in backbone.trainable_weights
    )
    for variable in backbone.weights:
        if _is_factor(variable) and variable.path.endswith("_b"):
            assert np.any(to_numpy(variable)), variable.path  # B left 0: trained.
        elif not _is_factor(variable):  # Biases of query and value included.
            np.testing.assert_array_equal(
                to_numpy(variable), before[variable.path], err_msg=variable.path
            )


def test_trainable_parameter_count():
    """Per shared block, rank * (hidden + hidden) for each adapted projection
    (A is (hidden, rank), B (rank, hidden)); the biases stay frozen.

    KerasHub 0.32 on the same architecture trains, per block and projection,
    rank * (hidden * heads + head_dim) + hidden: Keras' `EinsumDense` LoRA
    on a `(hidden, heads, head_dim)` kernel makes A `(hidden, heads, rank)`,
    B `(rank, head_dim)`, and its `enable_lora` leaves the bias trainable.
    """
    backbone = AlbertBackbone(**LORA_BACKBONE)
    backbone.enable_lora(RANK)
    blocks = LORA_BACKBONE["num_groups"] * LORA_BACKBONE["num_inner_repetitions"]
    hidden = LORA_BACKBONE["hidden_dim"]
    count = sum(int(np.prod(v.shape)) for v in backbone.trainable_weights)
    assert count == blocks * 2 * RANK * (hidden + hidden)
    assert len(backbone.trainable_weights) == blocks * 2 * 2
    backbone = AlbertBackbone(**LORA_BACKBONE)
    backbone.enable_lora(RANK, ["query", "key", "value", "intermediate_dense"])
    count = sum(int(np.prod(v.shape)) for v in backbone.trainable_weights)
    intermediate = RANK * (hidden + TINY_BACKBONE["intermediate_dim"])
    assert count == blocks * (3 * RANK * (hidden + hidden) + intermediate)


def test_saved_adapter_reloads_exactly(trained):
    masked_lm, before, adapter = trained
    expected = _outputs(masked_lm.backbone)
    fresh = _fresh_backbone(before)
    fresh.enable_lora(RANK)
    fresh.load_lora_weights(adapter)
    actual = _outputs(fresh)
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key])
    # Without `enable_lora` first, the file's rank and layers are enabled.
    fresh = _fresh_backbone(before)
    fresh.load_lora_weights(adapter)
    np.testing.assert_array_equal(
        _outputs(fresh)["sequence_output"], expected["sequence_output"]
    )


def test_a_mismatched_adapter_is_refused_and_changes_nothing(trained, tmp_path):
    _, before, adapter = trained
    fresh = _fresh_backbone(before)
    fresh.enable_lora(RANK + 1)
    values = [to_numpy(v) for v in fresh.weights]
    with pytest.raises(ValueError, match=r"rank-4 LoRA factors, but .* rank 5"):
        fresh.load_lora_weights(adapter)
    other = _fresh_backbone(before)
    other.enable_lora(RANK, ["query", "value", "output"])
    with pytest.raises(ValueError, match=r"adapts layers \['query', 'value'\], but"):
        other.load_lora_weights(adapter)
    for variable, value in zip(fresh.weights, values):
        np.testing.assert_array_equal(to_numpy(variable), value)
    with pytest.raises(ValueError, match=r"must end in `\.lora\.h5`.*'a\.h5'"):
        fresh.save_lora_weights("a.h5")
    with pytest.raises(ValueError, match="no LoRA factors to save"):
        AlbertBackbone(**LORA_BACKBONE).save_lora_weights(tmp_path / "x.lora.h5")
    assert list(tmp_path.iterdir()) == []


def test_refuses_unknown_layers_a_second_enable_and_quantized_models():
    backbone = AlbertBackbone(**LORA_BACKBONE)
    with pytest.raises(ValueError, match=r"must name some of \['query', 'key'"):
        backbone.enable_lora(RANK, ["query", "gate"])
    assert backbone.default_lora_layer_names() == ["query", "value"]
    config = backbone.get_config()
    backbone.enable_lora(RANK)
    with pytest.raises(ValueError, match=r"already enabled .*rank=4"):
        backbone.enable_lora(2)
    # LoRA is not in the config (as KerasHub): it rebuilds the plain model.
    assert backbone.get_config() == config
    assert not any(_is_factor(v) for v in AlbertBackbone.from_config(config).weights)
    quantized = AlbertBackbone(**LORA_BACKBONE)
    quantized.groups[0][0].intermediate_dense.quantize("int8")
    with pytest.raises(ValueError, match="Cannot enable LoRA on a quantized"):
        quantized.enable_lora(RANK)


def test_save_to_preset_merges_the_factors(trained, tmp_path):
    masked_lm, _, _ = trained
    masked_lm.save_to_preset(tmp_path)
    merged = AlbertMaskedLM.from_preset(tmp_path)
    assert not any(_is_factor(v) for v in merged.weights)
    np.testing.assert_allclose(
        _outputs(merged, masked=True), _outputs(masked_lm, masked=True), atol=1e-6
    )
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["parameter_count"] == merged.backbone.count_params()
    text = "the [MASK] sat near the river."
    assert merged.fill_mask(text, top_k=3) == masked_lm.fill_mask(text, top_k=3)
    score = masked_lm.score("the cat sat near the river.")
    assert np.isfinite(score["pseudo_log_likelihood"]) and score["num_pieces"] == 11


def test_transformers_export_merges_the_factors(tmp_path):
    backbone = _with_random_factors(AlbertBackbone(**LORA_BACKBONE))
    backbone.export_to_transformers(tmp_path / "hf")
    exported = AlbertBackbone.from_preset(tmp_path / "hf")
    assert not any(_is_factor(v) for v in exported.weights)
    np.testing.assert_allclose(
        _outputs(exported)["sequence_output"],
        _outputs(backbone)["sequence_output"],
        atol=1e-5,
    )


def _with_random_factors(backbone, seed=3):
    """`backbone`, LoRA-enabled, its factors random (B no longer zero)."""
    backbone.enable_lora(RANK)
    rng = np.random.default_rng(seed)
    for variable in backbone.trainable_weights:
        variable.assign(rng.standard_normal(variable.shape))
    return backbone


def test_mixed_precision_matches_float32():
    plain = AlbertBackbone(**LORA_BACKBONE)
    mixed = AlbertBackbone(**LORA_BACKBONE, dtype="mixed_bfloat16")
    base = _outputs(plain)["sequence_output"]
    _with_random_factors(plain)
    mixed.enable_lora(RANK)
    values = {v.path: to_numpy(v) for v in plain.weights}
    for variable in mixed.weights:
        variable.assign(values[variable.path])
    assert all(v.dtype == "float32" for v in mixed.trainable_weights)
    expected = _outputs(plain)["sequence_output"]
    actual = mixed(_inputs())["sequence_output"]
    assert keras.backend.standardize_dtype(actual.dtype) == "bfloat16"
    error = np.abs(to_numpy(actual).astype("float32") - expected).max()
    # bfloat16 rounding only, far below what the update changes.
    assert error < np.abs(expected - base).max() / 10


@pytest.mark.skipif(BACKEND == "torch", reason="AlbertMaskedLM runs eagerly on torch")
def test_jit_compiled_model_matches_the_plain_one():
    masked_lm = AlbertMaskedLM(_with_random_factors(AlbertBackbone(**LORA_BACKBONE)))
    expected = _outputs(masked_lm, masked=True)
    masked_lm.compile(jit_compile=True)
    actual = masked_lm.predict_on_batch(_inputs(masked=True))
    np.testing.assert_allclose(to_numpy(actual), expected, atol=1e-5)


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution runs on jax")
def test_layout_map_replicates_the_factors():
    backbone = AlbertBackbone(**LORA_BACKBONE)
    layout_map = AlbertBackbone.get_layout_map(cpu_mesh())
    backbone.enable_lora(RANK, ["query", "value", "intermediate_dense"])
    factors = [v for v in backbone.weights if _is_factor(v)]
    assert len(factors) == 2 * 3 * LORA_BACKBONE["num_groups"]
    for variable in factors:
        assert layout_map[variable.path].axes == (None, None), variable.path
    devices = keras.distribution.list_devices()
    mesh = keras.distribution.DeviceMesh((1, len(devices)), ("batch", "model"), devices)
    distribution = keras.distribution.ModelParallel(
        layout_map=AlbertBackbone.get_layout_map(mesh), batch_dim_name="batch"
    )
    with distribution.scope():
        distributed = AlbertBackbone(**LORA_BACKBONE)
        distributed.enable_lora(RANK)
    assert distributed(_inputs())["sequence_output"].shape == (2, 12, 16)
