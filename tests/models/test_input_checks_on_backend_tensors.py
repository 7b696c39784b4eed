"""Input checks on eager backend tensors (`models/input_checks.py`): a masked
LM called with tensors of the backend under test (`keras.ops.convert_to_tensor`)
refuses float token ids (`TypeError`), mask positions outside the sequence
and token ids outside the vocabulary (`ValueError`), each naming the input,
and computes what numpy inputs give when they are valid."""

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE, to_numpy

from albert_mlm import AlbertBackbone, AlbertMaskedLM

SEQUENCE_LENGTH = 8


@pytest.fixture(scope="module")
def masked_lm():
    """One tiny masked LM for the module: the checks change nothing."""
    return AlbertMaskedLM(AlbertBackbone(**TINY_BACKBONE), compile=False)


def _numpy_inputs():
    return {
        "token_ids": np.array([[2, 10, 4, 30, 40, 4, 7, 3]], "int32"),
        "segment_ids": np.zeros((1, SEQUENCE_LENGTH), "int32"),
        "padding_mask": np.ones((1, SEQUENCE_LENGTH), "int32"),
        "mask_positions": np.array([[2, 5]], "int32"),
    }


def _tensors(**changes):
    inputs = {**_numpy_inputs(), **changes}
    return {key: keras.ops.convert_to_tensor(value) for key, value in inputs.items()}


def test_valid_backend_tensors_give_the_numpy_result(masked_lm):
    tensors = _tensors()
    assert not isinstance(tensors["token_ids"], np.ndarray)
    np.testing.assert_allclose(
        to_numpy(masked_lm(tensors)),
        to_numpy(masked_lm(_numpy_inputs())),
        atol=1e-6,
    )


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_float_token_ids_are_a_type_error(masked_lm, dtype):
    token_ids = _numpy_inputs()["token_ids"].astype(dtype)
    with pytest.raises(TypeError, match="`token_ids` must hold integers") as info:
        masked_lm(_tensors(token_ids=token_ids))
    assert dtype in str(info.value)


def test_float_mask_positions_are_a_type_error(masked_lm):
    with pytest.raises(
        TypeError, match="`mask_positions` must hold integers. Received dtype float32"
    ):
        masked_lm(_tensors(mask_positions=np.array([[2.0, 5.0]], "float32")))


@pytest.mark.parametrize("positions", [[[-1, 2]], [[2, SEQUENCE_LENGTH]], [[0, 10**6]]])
def test_mask_positions_outside_the_sequence_are_a_value_error(masked_lm, positions):
    with pytest.raises(ValueError, match="`mask_positions` must be in") as info:
        masked_lm(_tensors(mask_positions=np.array(positions, "int32")))
    assert f"[0, {SEQUENCE_LENGTH})" in str(info.value)


@pytest.mark.parametrize("bad_id", [-3, 400, 10**6])
def test_token_ids_outside_the_vocabulary_are_a_value_error(masked_lm, bad_id):
    token_ids = _numpy_inputs()["token_ids"].copy()
    token_ids[0, 3] = bad_id
    with pytest.raises(ValueError, match="`token_ids` must be in") as info:
        masked_lm(_tensors(token_ids=token_ids))
    assert "[0, 400)" in str(info.value)


def test_segment_ids_beyond_num_segments_are_a_value_error(masked_lm):
    segment_ids = np.zeros((1, SEQUENCE_LENGTH), "int32")
    segment_ids[0, -1] = 2
    with pytest.raises(
        ValueError, match=r"`segment_ids` must be in \[0, 2\).* from 0 to 2\.$"
    ):
        masked_lm(_tensors(segment_ids=segment_ids))


def test_backbone_checks_backend_tensors_too(masked_lm):
    backbone = masked_lm.backbone
    inputs = _tensors()
    del inputs["mask_positions"]
    outputs = backbone(inputs)
    assert tuple(outputs["sequence_output"].shape) == (1, SEQUENCE_LENGTH, 16)
    inputs["token_ids"] = keras.ops.convert_to_tensor(
        _numpy_inputs()["token_ids"].astype("float32")
    )
    with pytest.raises(
        TypeError, match="`token_ids` must hold integers. Received dtype float32"
    ):
        backbone(inputs)
