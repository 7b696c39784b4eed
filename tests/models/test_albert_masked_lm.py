import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import TINY_BACKBONE, cloze_sentences

from albert_mlm import AlbertBackbone, AlbertMaskedLM

FEATURES = ["The quick brown fox jumped.", "I forgot my homework."]


def _integer_features():
    # The API page's preprocessed batch (id 0 standing in for the mask).
    return {
        "token_ids": np.array([[1, 2, 0, 4, 0, 6, 7, 8]] * 2),
        "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 1]] * 2),
        "mask_positions": np.array([[2, 4]] * 2),
        "segment_ids": np.array([[0, 0, 0, 0, 0, 0, 0, 0]] * 2),
    }


def _values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def _changed(before, variables):
    return [not np.array_equal(a, b) for a, b in zip(before, _values(variables))]


def test_api_page_raw_string_example(masked_lm):
    history = masked_lm.fit(x=FEATURES, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    masked_lm.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(5e-5),
        jit_compile=True,
    )
    masked_lm.backbone.trainable = False
    backbone_before = _values(masked_lm.backbone.weights)
    head = masked_lm.masked_lm_head
    head_weights = head.dense.weights + head.layer_norm.weights + [head.output_bias]
    head_before = _values(head_weights)
    history = masked_lm.fit(x=FEATURES, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not any(_changed(backbone_before, masked_lm.backbone.weights))
    assert all(_changed(head_before, head_weights))


def test_api_page_preprocessed_integer_example(backbone):
    masked_lm = AlbertMaskedLM(backbone, preprocessor=None)
    labels = [[3, 5]] * 2
    before = _values(masked_lm.trainable_weights)
    history = masked_lm.fit(x=_integer_features(), y=labels, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(_changed(before, masked_lm.trainable_weights))
    logits = masked_lm.predict(_integer_features(), verbose=0)
    assert logits.shape == (2, 2, 400)


def test_training_lowers_the_loss_on_a_small_corpus(masked_lm):
    corpus = ["the cat sat on the mat.", "the dog sat on the log."] * 16
    masked_lm.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = masked_lm.fit(corpus, batch_size=8, epochs=6, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    assert "sparse_categorical_accuracy" in history.history


def test_predict_and_evaluate_on_raw_strings(masked_lm):
    logits = masked_lm.predict(FEATURES, batch_size=2, verbose=0)
    assert logits.shape == (2, 4, 400)
    loss, accuracy = masked_lm.evaluate(FEATURES, batch_size=2, verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1


def test_fit_on_a_dataset_of_strings_and_on_sentence_pairs(masked_lm):
    dataset = tf.data.Dataset.from_tensor_slices(FEATURES * 2).batch(2)
    assert len(masked_lm.fit(dataset, epochs=2, verbose=0).history["loss"]) == 2
    pairs = (FEATURES, ["a dog sat.", "the cat ran."])
    assert np.isfinite(masked_lm.fit(pairs, batch_size=2, verbose=0).history["loss"][0])
    assert masked_lm.predict(pairs, verbose=0).shape == (2, 4, 400)


def test_head_gathers_only_the_masked_positions(masked_lm):
    features = _integer_features()
    logits = keras.ops.convert_to_numpy(masked_lm(features))
    assert logits.shape == (2, 2, 400)
    swapped = dict(features, mask_positions=np.array([[4, 2]] * 2))
    swapped_logits = keras.ops.convert_to_numpy(masked_lm(swapped))
    np.testing.assert_allclose(swapped_logits[:, ::-1], logits, atol=1e-6)


@pytest.mark.parametrize(
    "groups, inner", [(1, 1), (2, 1), (1, 2), (2, 2)], ids=lambda value: str(value)
)
def test_logits_equal_the_full_sequence_output_gathered(groups, inner):
    # The masked LM runs its last block call at the masked positions only;
    # the logits must equal the head applied to the backbone's full output.
    backbone = AlbertBackbone(
        **dict(TINY_BACKBONE, num_groups=groups, num_inner_repetitions=inner)
    )
    masked_lm = AlbertMaskedLM(backbone)
    rng = np.random.default_rng(0)
    features = {
        "token_ids": rng.integers(5, 400, (3, 10)),
        "segment_ids": (np.arange(10) >= 6).astype("int32")[None].repeat(3, 0),
        "padding_mask": (np.arange(10) < np.array([[10], [7], [4]])).astype("int32"),
        "mask_positions": np.array([[1, 2, 9], [6, 3, 5], [1, 2, 3]]),
    }
    logits = keras.ops.convert_to_numpy(masked_lm(features))
    sequence_output = backbone(
        {key: features[key] for key in ("token_ids", "segment_ids", "padding_mask")}
    )["sequence_output"]
    expected = masked_lm.masked_lm_head(
        keras.ops.take_along_axis(
            sequence_output, features["mask_positions"][..., None], axis=1
        )
    )
    assert logits.shape == (3, 3, 400)
    np.testing.assert_allclose(logits, keras.ops.convert_to_numpy(expected), atol=1e-5)
    gathered = backbone(features, output_positions=features["mask_positions"])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(gathered),
        np.take_along_axis(
            keras.ops.convert_to_numpy(sequence_output),
            features["mask_positions"][..., None],
            axis=1,
        ),
        atol=1e-5,
    )


def test_last_block_call_computes_the_masked_positions_only(masked_lm, monkeypatch):
    layer_norm = masked_lm.backbone.groups[-1][-1].output_layer_norm
    seen_shapes = []
    original_call = layer_norm.call

    def recording_call(inputs, *args, **kwargs):
        seen_shapes.append(tuple(inputs.shape))
        return original_call(inputs, *args, **kwargs)

    monkeypatch.setattr(layer_norm, "call", recording_call)
    masked_lm(_integer_features())
    # 4 layer calls through 2 groups: the last block runs at calls 2 and 3;
    # the model's last call sees only the 2 masked positions of each row.
    assert seen_shapes == [(2, 8, 16), (2, 2, 16)]


def test_head_is_tied_to_the_token_embedding(masked_lm):
    embeddings = masked_lm.backbone.token_embedding.embeddings
    assert not any(
        tuple(v.shape) == (16, 400) or tuple(v.shape) == (8, 400)
        for v in masked_lm.masked_lm_head.weights
    )
    features = _integer_features()
    before = keras.ops.convert_to_numpy(masked_lm(features))
    embeddings.assign(keras.ops.convert_to_numpy(embeddings) * 2)
    assert not np.allclose(before, keras.ops.convert_to_numpy(masked_lm(features)))


def test_compile_defaults():
    masked_lm = AlbertMaskedLM(
        AlbertBackbone(
            vocabulary_size=400,
            num_layers=2,
            num_heads=2,
            embedding_dim=8,
            hidden_dim=16,
            intermediate_dim=32,
        )
    )
    masked_lm.compile()
    assert isinstance(masked_lm.optimizer, keras.optimizers.Adam)
    assert float(keras.ops.convert_to_numpy(masked_lm.optimizer.learning_rate)) == (
        pytest.approx(5e-5)
    )
    assert isinstance(masked_lm.loss, keras.losses.SparseCategoricalCrossentropy)
    assert masked_lm.loss.get_config()["from_logits"] is True
    # The loss is the mean over real masked tokens, not over all slots.
    logits = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]], "float32"))
    value = masked_lm.loss(np.array([[0, 0]]), logits, np.array([[1.0, 0.0]]))
    assert float(keras.ops.convert_to_numpy(value)) == pytest.approx(np.log(2))


def test_invalid_construction(backbone, tokenizer):
    from albert_mlm import AlbertMaskedLMPreprocessor

    with pytest.raises(
        TypeError, match="`backbone` must be an `AlbertBackbone`. Received: str"
    ):
        AlbertMaskedLM("not a backbone")
    with pytest.raises(
        TypeError,
        match="`AlbertMaskedLMPreprocessor` or None. Received: AlbertTokenizer",
    ):
        AlbertMaskedLM(backbone, preprocessor=tokenizer)
    too_long = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=64)
    with pytest.raises(
        ValueError, match=r"\(64\) exceeds the backbone's `max_sequence_length` \(32\)"
    ):
        AlbertMaskedLM(backbone, too_long)


def test_keras_file_round_trip_keeps_predictions_and_preprocessor(masked_lm, tmp_path):
    masked_lm.compile(optimizer=keras.optimizers.Adam(1e-3))
    masked_lm.fit(FEATURES, batch_size=2, verbose=0)
    path = str(tmp_path / "model.keras")
    masked_lm.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, AlbertMaskedLM)
    features = _integer_features()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(features)),
        keras.ops.convert_to_numpy(masked_lm(features)),
        atol=1e-6,
    )
    original_ids = masked_lm.preprocessor.tokenizer(FEATURES)
    restored_ids = restored.preprocessor.tokenizer(FEATURES)
    assert all(np.array_equal(a, b) for a, b in zip(original_ids, restored_ids))
    assert restored.preprocessor.get_config() == masked_lm.preprocessor.get_config()
    assert restored.compiled
    assert np.isfinite(
        restored.fit(FEATURES, batch_size=2, verbose=0).history["loss"][0]
    )


def test_weights_file_round_trip(masked_lm, backbone, tmp_path):
    path = str(tmp_path / "masked_lm.weights.h5")
    masked_lm.save_weights(path)
    other = AlbertMaskedLM(AlbertBackbone.from_config(backbone.get_config()))
    other.load_weights(path)
    features = _integer_features()
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(other(features)),
        keras.ops.convert_to_numpy(masked_lm(features)),
    )


def test_config_round_trip(masked_lm):
    config = masked_lm.get_config()
    clone = AlbertMaskedLM.from_config(config)
    assert clone.backbone.get_config() == masked_lm.backbone.get_config()
    assert clone.preprocessor.sequence_length == masked_lm.preprocessor.sequence_length
    assert clone.head_layer_norm_epsilon == masked_lm.head_layer_norm_epsilon


def _masked_token_losses(logits, labels, weights):
    """Cross-entropy of each real masked token, computed in float64."""
    logits = np.asarray(keras.ops.convert_to_numpy(logits), "float64")
    real = np.asarray(keras.ops.convert_to_numpy(weights)) > 0
    logits, labels = logits[real], np.asarray(keras.ops.convert_to_numpy(labels))[real]
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), labels], logits.argmax(axis=-1)


def test_mixed_bfloat16_loss_stays_close_to_float32():
    # Trained weights, head included (the shipped preset's), on English text:
    # an untrained model's loss is about ln(vocabulary) whatever its encoder
    # computes, so only a trained one shows a broken bfloat16 path.
    models = {
        dtype: AlbertMaskedLM.from_preset(
            "albert_tiny_en_uncased",
            dtype=dtype,
            sequence_length=32,
            mask_selection_length=6,
        )
        for dtype in ("float32", "mixed_bfloat16")
    }
    assert models["mixed_bfloat16"].backbone.compute_dtype == "bfloat16"
    assert models["mixed_bfloat16"].masked_lm_head.compute_dtype == "bfloat16"
    for a, b in zip(
        models["float32"].get_weights(),
        models["mixed_bfloat16"].get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    x, labels, weights = models["float32"].preprocessor(
        cloze_sentences()[:64], seed=[0, 0]
    )
    losses, predictions = {}, {}
    for dtype, model in models.items():
        logits = model(x)
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
        token_losses, predictions[dtype] = _masked_token_losses(logits, labels, weights)
        losses[dtype] = token_losses.mean()
    assert len(token_losses) >= 100
    # Far from knowing nothing (measured: 4.3 against ln(8000) = 9.0).
    vocabulary_size = models["float32"].backbone.vocabulary_size
    assert losses["float32"] < 0.6 * np.log(vocabulary_size)
    # Measured within 0.1% on every backend; bfloat16 keeps 8 bits of mantissa.
    assert losses["mixed_bfloat16"] == pytest.approx(losses["float32"], rel=0.01)
    assert np.mean(predictions["mixed_bfloat16"] == predictions["float32"]) >= 0.9
