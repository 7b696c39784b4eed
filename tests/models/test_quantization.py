"""`quantize("int8")` on our models (`models/albert_backbone.py`,
`models/albert_masked_lm.py`, `layers/fused_dense.py`): outputs stay within
int8 rounding of the float model, `.keras` files reproduce the quantized
outputs exactly, and `from_config(get_config())` rebuilds the quantized
layers. (That each quantized `FusedDense` equals Keras' quantized `Dense`:
`layers/test_fused_dense_quantized.py`; refusing to save a quantized model
as a preset: `presets/test_saving_refusals.py`.)"""

import keras
import numpy as np
import pytest
from helpers import (
    TINY_BACKBONE,
    VOCABULARY_PATH,
    quantize_quickly,
    random_model_inputs,
    to_numpy,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.layers.fused_dense import FusedDense

# int8 rounding of every kernel: a small fraction of the output's range.
RELATIVE_TOLERANCE = 0.05


def _inputs(with_mask_positions=False):
    return random_model_inputs([[1, 5], [3, 11]] if with_mask_positions else None)


def _sequence_output(backbone):
    return to_numpy(backbone(_inputs())["sequence_output"])


def _logits(masked_lm):
    return to_numpy(masked_lm(_inputs(with_mask_positions=True)))


def _quantized_paths(model):
    return sorted(
        layer.path for layer in model._flatten_layers() if layer.quantization_mode
    )


@pytest.fixture(scope="module")
def quantized():
    """A quantized masked LM and its float outputs (shared: no test changes it)."""
    keras.utils.set_random_seed(0)
    preprocessor = AlbertMaskedLMPreprocessor(
        AlbertTokenizer(str(VOCABULARY_PATH)), sequence_length=16
    )
    masked_lm = AlbertMaskedLM(AlbertBackbone(**TINY_BACKBONE), preprocessor)
    float_outputs = _sequence_output(masked_lm.backbone), _logits(masked_lm)
    with pytest.warns(UserWarning):  # Keras: layers without a `quantize`.
        quantize_quickly(masked_lm, "int8")
    return masked_lm, float_outputs


def test_quantized_outputs_stay_close_to_the_float_ones(quantized):
    masked_lm, (float_sequence, float_logits) = quantized
    fused = [
        layer
        for layer in masked_lm.backbone._flatten_layers()
        if isinstance(layer, FusedDense)
    ]
    assert fused and all(layer.quantization_mode == "int8" for layer in fused)
    assert "mlm_head/dense" in _quantized_paths(masked_lm)
    for quantized_output, float_output in (
        (_sequence_output(masked_lm.backbone), float_sequence),
        (_logits(masked_lm), float_logits),
    ):
        error = np.abs(quantized_output - float_output).max()
        assert 0 < error < RELATIVE_TOLERANCE * np.abs(float_output).max()


def test_quantized_backbone_keras_file_reproduces_its_outputs(quantized, tmp_path):
    backbone = quantized[0].backbone
    backbone.save(tmp_path / "backbone.keras")
    loaded = keras.saving.load_model(tmp_path / "backbone.keras")
    assert _quantized_paths(loaded) == _quantized_paths(backbone)
    np.testing.assert_array_equal(_sequence_output(loaded), _sequence_output(backbone))


def test_quantized_masked_lm_keras_file_reproduces_its_logits(quantized, tmp_path):
    masked_lm = quantized[0]
    masked_lm.save(tmp_path / "masked_lm.keras")
    loaded = keras.saving.load_model(tmp_path / "masked_lm.keras")
    assert _quantized_paths(loaded) == _quantized_paths(masked_lm)
    np.testing.assert_array_equal(_logits(loaded), _logits(masked_lm))


def test_config_rebuilds_the_quantized_layers(quantized):
    masked_lm = quantized[0]
    backbone = masked_lm.backbone
    rebuilt = AlbertBackbone.from_config(backbone.get_config())
    assert _quantized_paths(rebuilt) == _quantized_paths(backbone)
    assert {
        layer.quantization_mode
        for layer in rebuilt._flatten_layers()
        if layer.quantization_mode
    } == {"int8"}
    # Given the quantized weights, it computes the same.
    rebuilt.set_weights(backbone.get_weights())
    np.testing.assert_array_equal(_sequence_output(rebuilt), _sequence_output(backbone))

    rebuilt_masked_lm = AlbertMaskedLM.from_config(masked_lm.get_config())
    assert _quantized_paths(rebuilt_masked_lm) == _quantized_paths(masked_lm)
