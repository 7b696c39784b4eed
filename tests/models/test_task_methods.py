"""Task weights (the head without the backbone) and `preprocess_samples`,
as KerasHub's `Task` defines them."""

import os

import h5py
import numpy as np
import pytest
from helpers import TINY_BACKBONE, to_numpy, weight_values

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertPreTrainer


def _head_values(task):
    backbone_ids = {id(variable) for variable in task.backbone.weights}
    return [to_numpy(v) for v in task.weights if id(v) not in backbone_ids]


def _scramble(variables):
    for variable in variables:
        variable.assign(np.random.default_rng(7).normal(size=variable.shape))


def test_task_weights_round_trip_the_head_only(masked_lm, tmp_path):
    path = tmp_path / "head.weights.h5"
    assert masked_lm.has_task_weights()
    saved_head = _head_values(masked_lm)
    masked_lm.save_task_weights(path)
    with h5py.File(path) as file:
        stored = []
        file.visititems(lambda name, item: stored.append(name))
    # The backbone's layers are not in the file.
    assert not [name for name in stored if "embedding" in name]
    backbone_before = weight_values(masked_lm.backbone)
    _scramble(masked_lm.masked_lm_head.weights)
    masked_lm.load_task_weights(path)
    for restored, saved in zip(_head_values(masked_lm), saved_head, strict=True):
        np.testing.assert_array_equal(restored, saved)
    for after, before in zip(
        weight_values(masked_lm.backbone), backbone_before, strict=True
    ):
        np.testing.assert_array_equal(after, before)


def test_a_pretrainer_carries_its_sentence_order_head(preprocessor, tmp_path):
    pretrainer = AlbertPreTrainer(AlbertBackbone(**TINY_BACKBONE), preprocessor)
    path = tmp_path / "heads.weights.h5"
    pretrainer.save_task_weights(path)
    expected = to_numpy(pretrainer.sentence_order_head.kernel)
    _scramble(pretrainer.sentence_order_head.weights)
    pretrainer.load_task_weights(path)
    np.testing.assert_array_equal(
        to_numpy(pretrainer.sentence_order_head.kernel), expected
    )


def test_another_architectures_head_is_refused_and_changes_nothing(
    masked_lm, preprocessor, tmp_path
):
    wider = AlbertMaskedLM(
        AlbertBackbone(**{**TINY_BACKBONE, "hidden_dim": 24, "num_heads": 2}),
        preprocessor,
    )
    path = tmp_path / "wider.weights.h5"
    wider.save_task_weights(path)
    before = _head_values(masked_lm)
    with pytest.raises(ValueError, match="do not fit this AlbertMaskedLM's head"):
        masked_lm.load_task_weights(path)
    for after, kept in zip(_head_values(masked_lm), before, strict=True):
        np.testing.assert_array_equal(after, kept)


def test_file_names_and_missing_files_are_refused(masked_lm, tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        masked_lm.save_task_weights(tmp_path / "head.h5")
    with pytest.raises(FileNotFoundError, match="No task weights file"):
        masked_lm.load_task_weights(tmp_path / "absent.weights.h5")
    (tmp_path / "text.weights.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="is not a Keras weights file"):
        masked_lm.load_task_weights(tmp_path / "text.weights.h5")
    assert os.listdir(tmp_path) == ["text.weights.h5"]


def test_preprocess_samples_is_what_fit_feeds_the_model(masked_lm):
    texts = ["the quick brown fox.", "a dog barked."]
    x, y, sample_weight = masked_lm.preprocess_samples(texts)
    tokens = masked_lm.preprocessor.tokenizer(texts[0])
    assert set(x) == {"token_ids", "segment_ids", "padding_mask", "mask_positions"}
    real = int(np.sum(to_numpy(x["padding_mask"])[0]))
    assert real == len(tokens) + 2  # [CLS] text [SEP]
    # The labels are the original ids at the masked positions.
    positions = to_numpy(x["mask_positions"])[0]
    weights = to_numpy(sample_weight)[0]
    full = [masked_lm.preprocessor.tokenizer.cls_token_id, *tokens]
    for position, label, weight in zip(positions, to_numpy(y)[0], weights):
        if weight:
            assert label == full[position]
    masked_lm.preprocessor = None
    packed = masked_lm.preprocess_samples({"token_ids": [1]}, y=[2])
    assert packed == ({"token_ids": [1]}, [2])
