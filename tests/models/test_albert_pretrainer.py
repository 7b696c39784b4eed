"""`AlbertPreTrainer`: transformers' `AlbertForPreTraining` parity, presets
that load as pretrainer, masked LM and backbone, and training on preprocessed
batches and on raw documents.

No test here touches the network (see conftest.py's `_offline_hubs`).
"""

import json
import math
import re
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import (
    TINY_BACKBONE,
    TRANSFORMERS_TOLERANCE,
    copy_transformers_checkpoint,
    max_error,
    to_numpy,
    transformers_goldens,
    transformers_inputs,
)

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertMaskedLMPreprocessor
from albert_mlm.datasets.batches import document_batches
from albert_mlm.models.albert_pretrainer import AlbertPreTrainer

pytestmark = pytest.mark.usefixtures("_offline_hubs")

DOCUMENTS = [
    "the cat sat on the mat.\nit purred.\nthen it slept.",
    "a dog ran to the river.\nit barked at the moon.\nmy sister laughed.",
    "the old man sees the red ball.\nhe likes it.",
    "the small bird follows a green tree.\nit sings.\nthe moon rose.",
]
NO_PAIR_WARNING = "No document has two sentences"
# One block: TensorFlow traces the train step in a fraction of the time.
ONE_BLOCK = {
    **TINY_BACKBONE,
    "num_layers": 1,
    "num_groups": 1,
    "num_inner_repetitions": 1,
}


def _features(batch_size=4, length=12, mask_slots=3):
    """A fixed preprocessed batch with its labels and weights."""
    rng = np.random.default_rng(0)
    token_ids = rng.integers(5, 400, (batch_size, length)).astype("int32")
    segment_ids = (np.arange(length) >= length // 2).astype("int32")
    x = {
        "token_ids": token_ids,
        "segment_ids": np.tile(segment_ids, (batch_size, 1)),
        "padding_mask": np.ones((batch_size, length), "int32"),
        "mask_positions": np.tile(np.arange(1, 1 + mask_slots), (batch_size, 1)),
    }
    y = {
        "masked_lm": token_ids[:, 1 : 1 + mask_slots],
        "sentence_order": np.array([0, 1] * (batch_size // 2), "int32"),
    }
    weights = {
        "masked_lm": np.ones((batch_size, mask_slots), "float32"),
        "sentence_order": np.ones((batch_size,), "float32"),
    }
    return x, y, weights


def _pretrainer(preprocessor=None, learning_rate=1e-2, architecture=ONE_BLOCK):
    model = AlbertPreTrainer(AlbertBackbone(**architecture), preprocessor)
    # XLA would double TensorFlow's time for these few steps.
    jit_compile = "auto" if keras.backend.backend() != "tensorflow" else False
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), jit_compile=jit_compile
    )
    return model


def _outputs(model, x):
    outputs = model(x)
    if isinstance(outputs, dict):
        return {key: to_numpy(value) for key, value in outputs.items()}
    return to_numpy(outputs)


# === transformers' AlbertForPreTraining ===


def test_transformers_pretraining_checkpoint_matches_goldens(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "pretraining_gelu")
    goldens = transformers_goldens("pretraining_gelu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Every head has its weights.
        pretrainer = AlbertPreTrainer.from_preset(str(directory))
    outputs = _outputs(
        pretrainer,
        {**transformers_inputs(goldens), "mask_positions": goldens["mask_positions"]},
    )
    # Logits far apart, so that matching them within the tolerance means
    # something.
    assert np.ptp(goldens["sop_logits"]) > 1000 * TRANSFORMERS_TOLERANCE
    assert max_error(outputs["sentence_order"], goldens["sop_logits"]) <= (
        TRANSFORMERS_TOLERANCE
    )
    assert max_error(outputs["masked_lm"], goldens["mask_logits"]) <= (
        TRANSFORMERS_TOLERANCE
    )


# === Presets ===


@pytest.fixture
def pretrainer_preset(tmp_path, preprocessor):
    """A preset saved from a pretrainer whose every weight is random (a fresh
    head's zero biases would hide a bias that is not saved)."""
    pretrainer = _pretrainer(
        architecture=TINY_BACKBONE,
        preprocessor=AlbertMaskedLMPreprocessor(
            preprocessor.tokenizer,
            sequence_length=16,
            mask_selection_length=4,
            mask_strategy="ngram",
            max_ngram=2,
        ),
    )
    rng = np.random.default_rng(0)
    for variable in pretrainer.weights:
        variable.assign(rng.normal(0, 0.2, variable.shape).astype("float32"))
    directory = tmp_path / "pretrainer"
    pretrainer.save_to_preset(str(directory))
    return pretrainer, directory


def test_preset_loads_as_pretrainer_masked_lm_and_backbone(pretrainer_preset):
    pretrainer, directory = pretrainer_preset
    x = _features()[0]
    expected = _outputs(pretrainer, x)

    task = json.loads((directory / "task.json").read_text())
    assert task["class_name"] == "AlbertPreTrainer"
    assert task["registered_name"] == "albert_mlm>AlbertPreTrainer"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Nothing is left at its initial value.
        reloaded = AlbertPreTrainer.from_preset(str(directory))
        masked_lm = AlbertMaskedLM.from_preset(str(directory))
        backbone = AlbertBackbone.from_preset(str(directory))
    assert type(reloaded) is AlbertPreTrainer
    assert reloaded.preprocessor.mask_strategy == "ngram"
    assert reloaded.preprocessor.max_ngram == 2
    outputs = _outputs(reloaded, x)
    for key in ("masked_lm", "sentence_order"):
        np.testing.assert_allclose(outputs[key], expected[key], atol=1e-6, rtol=0)

    assert type(masked_lm) is AlbertMaskedLM
    np.testing.assert_allclose(
        _outputs(masked_lm, x), expected["masked_lm"], atol=1e-6, rtol=0
    )

    backbone_inputs = {key: x[key] for key in backbone.input}
    np.testing.assert_allclose(
        to_numpy(backbone(backbone_inputs)["sequence_output"]),
        to_numpy(pretrainer.backbone(backbone_inputs)["sequence_output"]),
        atol=1e-6,
        rtol=0,
    )


def test_masked_lm_preset_loads_as_pretrainer_with_a_fresh_sop_head(
    tmp_path, masked_lm
):
    masked_lm.save_to_preset(str(tmp_path / "masked_lm"))
    with pytest.warns(UserWarning, match="sentence-order head"):
        pretrainer = AlbertPreTrainer.from_preset(str(tmp_path / "masked_lm"))
    x = _features()[0]
    np.testing.assert_allclose(
        _outputs(pretrainer, x)["masked_lm"], _outputs(masked_lm, x), atol=1e-6
    )


# === Training on preprocessed batches ===


def test_fit_lowers_the_loss_and_reports_both_accuracies():
    pretrainer = _pretrainer()
    # One batch, five times an epoch.
    x, y, weights = tf.nest.map_structure(
        lambda array: np.concatenate([array] * 5), _features()
    )
    history = pretrainer.fit(
        x, y, sample_weight=weights, batch_size=4, epochs=5, shuffle=False, verbose=0
    ).history
    assert {"masked_lm_accuracy", "sentence_order_accuracy"} <= set(history)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    # The total is the sum of the two objectives.
    np.testing.assert_allclose(
        history["loss"][-1],
        history["masked_lm_loss"][-1] + history["sentence_order_loss"][-1],
        rtol=1e-4,
    )
    assert history["sentence_order_accuracy"][-1] == 1.0  # Four labels, learnt.
    assert history["masked_lm_accuracy"][-1] > history["masked_lm_accuracy"][0]


# === Training on raw documents ===


@pytest.fixture
def ngram_preprocessor(preprocessor):
    # 32 tokens: the 400-piece test vocabulary needs 7 to 17 a sentence.
    return AlbertMaskedLMPreprocessor(
        preprocessor.tokenizer,
        sequence_length=32,
        mask_selection_length=5,
        mask_strategy="ngram",
    )


def _first_batches(batches, count):
    return [
        tf.nest.map_structure(lambda t: t.numpy(), batch)
        for batch in batches.take(count)
    ]


def test_documents_become_masked_sentence_order_batches(ngram_preprocessor):
    documents = tf.data.Dataset.from_tensor_slices(DOCUMENTS)
    batches, steps = document_batches(documents, ngram_preprocessor, 2, seed=3)
    again, _ = document_batches(documents, ngram_preprocessor, 2, seed=3)
    other, _ = document_batches(documents, ngram_preprocessor, 2, seed=4)
    first = _first_batches(batches, 6)
    assert steps >= 2
    cls = ngram_preprocessor.tokenizer.cls_token_id
    for x, _, weights in first:
        assert x["token_ids"].shape == (2, 32)
        assert (x["token_ids"][:, 0] == cls).all()
        assert weights["masked_lm"].sum(axis=1).min() >= 1
        # A pair has a second segment and a sentence-order label to learn.
        has_b = x["segment_ids"].max(axis=1) == 1
        assert has_b.tolist() == (weights["sentence_order"] == 1).tolist()
    pairs = np.concatenate([w["sentence_order"] for _, _, w in first]) == 1
    labels = np.concatenate([y["sentence_order"] for _, y, _ in first])
    assert pairs.mean() > 0.5
    assert set(labels[pairs]) == {0, 1}  # Both orders occur.
    # A seed fixes packing, swaps and masking; another seed changes them.
    tf.nest.map_structure(
        np.testing.assert_array_equal, first, _first_batches(again, 6)
    )
    assert any(
        not np.array_equal(a[0]["token_ids"], b[0]["token_ids"])
        for a, b in zip(first, _first_batches(other, 6))
    )


def test_fit_on_documents_lowers_the_loss_and_is_fixed_by_its_seed(
    ngram_preprocessor,
):
    def fit(documents):
        keras.utils.set_random_seed(0)  # The same initial weights.
        pretrainer = _pretrainer(ngram_preprocessor)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Sentence pairs, a known length.
            history = pretrainer.fit(
                documents,
                batch_size=2,
                epochs=6,
                validation_data=DOCUMENTS[:2],
                seed=5,
                verbose=0,
            ).history
        return pretrainer, history

    pretrainer, history = fit(DOCUMENTS)
    assert {"masked_lm_accuracy", "sentence_order_accuracy"} <= set(history)
    assert {"val_loss", "val_sentence_order_accuracy"} <= set(history)
    assert len(history["loss"]) == 6
    assert history["loss"][-1] < history["loss"][0]
    assert history["masked_lm_loss"][-1] < history["masked_lm_loss"][0]
    # The same documents as a dataset of batches of strings, the same seed:
    # the same run.
    batched = tf.data.Dataset.from_tensor_slices(DOCUMENTS).batch(3)
    again, history_again = fit(batched)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history_again[key], history[key], rtol=1e-5)

    results = [
        model.evaluate(DOCUMENTS, batch_size=2, seed=1, return_dict=True, verbose=0)
        for model in (pretrainer, again)
    ]
    assert math.isfinite(results[0]["loss"])
    for key in results[0]:
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=1e-5)


def test_one_sentence_documents_train_the_masked_lm_only(ngram_preprocessor):
    one_line_documents = ["the cat sat on the mat.", "a dog ran to the river."]
    batches, _ = document_batches(
        tf.data.Dataset.from_tensor_slices(one_line_documents),
        ngram_preprocessor,
        2,
        seed=0,
        endless=False,
    )
    for _, _, weights in _first_batches(batches, 2):
        assert weights["masked_lm"].sum() > 0
        assert weights["sentence_order"].sum() == 0

    pretrainer = _pretrainer(ngram_preprocessor)
    with pytest.warns(UserWarning, match=NO_PAIR_WARNING) as caught:
        history = pretrainer.fit(
            one_line_documents, batch_size=2, epochs=2, seed=0, verbose=0
        ).history
    # The warning names the line that called `fit`, not one of ours.
    ours = [w for w in caught if re.search(NO_PAIR_WARNING, str(w.message))]
    assert [warning.filename for warning in ours] == [__file__]
    assert history["sentence_order_loss"] == [0.0, 0.0]
    assert all(0 < loss < 10 for loss in history["masked_lm_loss"])

    # Beside documents of several sentences, a one-sentence document is
    # packed with them, and nothing warns.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document_batches(
            tf.data.Dataset.from_tensor_slices(DOCUMENTS + ["a lone sentence."]),
            ngram_preprocessor,
            2,
            seed=0,
        )


def test_sentence_pairs_are_refused_with_the_reason(ngram_preprocessor):
    pretrainer = _pretrainer(ngram_preprocessor)
    with pytest.raises(TypeError, match="reads documents, not sentence pairs"):
        pretrainer.fit((["the cat sat."], ["it purred."]), verbose=0)
