"""`from_preset`'s arguments (`albert_mlm.presets.loading`): overrides of the
stored settings, `preprocessor=None`, `dtype`, `load_weights=False`.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import keras
import numpy as np
import pytest
from helpers import KERAS_HUB_DIR, assert_keras_hub_logits, to_numpy, weight_values

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertMaskedLMPreprocessor

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


def test_keras_hub_preset_overrides():
    directory = str(KERAS_HUB_DIR / "groups2_inner2")
    preprocessor = AlbertMaskedLMPreprocessor.from_preset(directory, sequence_length=12)
    assert preprocessor.sequence_length == 12
    assert preprocessor.mask_selection_length == 4  # the rest still from the preset

    masked_lm = AlbertMaskedLM.from_preset(directory, sequence_length=12)
    assert masked_lm.preprocessor.sequence_length == 12

    bare = AlbertMaskedLM.from_preset(directory, preprocessor=None)
    assert bare.preprocessor is None
    assert_keras_hub_logits(bare, "groups2_inner2")

    half = AlbertBackbone.from_preset(directory, dtype="bfloat16")
    assert half.weights and all(
        keras.backend.standardize_dtype(v.dtype) == "bfloat16" for v in half.weights
    )
    full = AlbertBackbone.from_preset(directory)
    np.testing.assert_allclose(
        to_numpy(keras.ops.cast(half.token_embedding.embeddings, "float32")),
        to_numpy(full.token_embedding.embeddings),
        atol=1e-2,
        rtol=1e-2,
    )

    with pytest.raises(TypeError, match="not_an_argument"):
        AlbertBackbone.from_preset(directory, not_an_argument=1)


def test_keras_hub_preset_load_weights_false():
    directory = str(KERAS_HUB_DIR / "groups2_inner2")
    loaded = AlbertMaskedLM.from_preset(directory)
    fresh = AlbertMaskedLM.from_preset(directory, load_weights=False)
    assert fresh.preprocessor is not None
    assert [v.shape for v in fresh.weights] == [v.shape for v in loaded.weights]
    differing = [
        not np.array_equal(a, b)
        for a, b in zip(weight_values(fresh), weight_values(loaded))
    ]
    # Layer-norm gammas/betas and zero biases may coincide; kernels must not.
    assert sum(differing) > len(differing) // 2
    assert not np.array_equal(
        to_numpy(fresh.backbone.token_embedding.embeddings),
        to_numpy(loaded.backbone.token_embedding.embeddings),
    )
