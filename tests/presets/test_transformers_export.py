"""Exports to Hugging Face transformers (`albert_mlm.presets.transformers_export`):
each test checkpoint read, exported and read by transformers gives its
goldens, and read back by us gives the same weights bit for bit; random
architectures give our outputs in transformers; the shipped preset fills
masks in transformers' pipeline as ours does; refusals write nothing."""

import json
import os
import warnings

import keras
import numpy as np
import pytest
from helpers import (
    copy_transformers_checkpoint,
    max_error,
    quantize_quickly,
    to_numpy,
    transformers_goldens,
    transformers_inputs,
    tree_contents,
    weight_values,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertPreTrainer,
)

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("_offline_hubs")

EXPORT_TOLERANCE = 1e-5

# Test checkpoint -> (our class, the transformers class its export is).
CHECKPOINTS = {
    "masked_lm_groups2_inner2": (AlbertMaskedLM, "AlbertForMaskedLM"),
    "masked_lm_gelu_fast_sharded": (AlbertMaskedLM, "AlbertForMaskedLM"),
    "pretraining_gelu": (AlbertPreTrainer, "AlbertForPreTraining"),
    "model_relu_groups3": (AlbertBackbone, "AlbertModel"),
}


def _load_in_transformers(directory, class_name):
    """The exported model in transformers, after checking that every one of
    its weights was in the file and every weight in the file was used."""
    model_cls = getattr(transformers, class_name)
    model, info = model_cls.from_pretrained(str(directory), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    return model.eval()


def _run_transformers(model, inputs, mask_positions=None):
    """`{name: numpy array}` of what `model` computes on our `inputs`."""
    tensors = {
        "input_ids": torch.tensor(np.asarray(inputs["token_ids"], "int64")),
        "token_type_ids": torch.tensor(np.asarray(inputs["segment_ids"], "int64")),
        "attention_mask": torch.tensor(np.asarray(inputs["padding_mask"], "int64")),
    }
    body = getattr(model, "albert", model)
    results = {}
    with torch.no_grad():
        outputs = body(**tensors)
        results["last_hidden_state"] = outputs.last_hidden_state.numpy()
        if outputs.pooler_output is not None:
            results["pooler_output"] = outputs.pooler_output.numpy()
        if body is not model:
            full = model(**tensors)
            logits = getattr(full, "logits", None)
            if logits is None:
                logits = full.prediction_logits
                results["sop_logits"] = full.sop_logits.numpy()
            positions = torch.tensor(np.asarray(mask_positions, "int64"))
            gathered = torch.take_along_dim(logits, positions[..., None], dim=1)
            results["mask_logits"] = gathered.numpy()
    return results


# The jax suite is the slowest: it runs the cases marked here on the other
# backends only (the pretraining checkpoint, and two architectures that hold
# 1 to 3 heads, type vocabularies of 1 and 3, exact and tanh GELU, stay).
_NOT_ON_JAX = pytest.mark.skipif(
    keras.backend.backend() == "jax", reason="tensorflow and torch run this case"
)


def _few_on_jax(values, kept):
    return [
        value if value in kept else pytest.param(value, marks=_NOT_ON_JAX)
        for value in values
    ]


@pytest.mark.parametrize(
    "case", _few_on_jax(sorted(CHECKPOINTS), kept=["pretraining_gelu"])
)
def test_checkpoint_round_trip(tmp_path, case):
    our_cls, class_name = CHECKPOINTS[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # A fresh pooler, said by the reader.
        model = our_cls.from_preset(str(copy_transformers_checkpoint(tmp_path, case)))
    export = tmp_path / "export"
    model.export_to_transformers(str(export))
    config = json.loads((export / "config.json").read_text())
    assert config["architectures"] == [class_name]

    goldens = transformers_goldens(case)
    outputs = _run_transformers(
        _load_in_transformers(export, class_name),
        transformers_inputs(goldens),
        goldens["mask_positions"],
    )
    real = goldens["attention_mask"] == 1
    compared = [key for key in outputs if key in goldens]
    assert "last_hidden_state" in compared and len(compared) == len(outputs)
    for key in compared:
        where = real if key == "last_hidden_state" else None
        assert max_error(outputs[key], goldens[key], where) <= EXPORT_TOLERANCE, key

    # Ours -> transformers -> ours changes no bit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # No tokenizer/pooler where not exported.
        back = (
            our_cls.from_preset(str(export), preprocessor=None)
            if (our_cls is not AlbertBackbone)
            else our_cls.from_preset(str(export))
        )
    exported = {v.path: to_numpy(v) for v in model.weights}
    for variable, value in zip(back.weights, weight_values(back)):
        if "pooled_dense" in variable.path and class_name == "AlbertForMaskedLM":
            continue  # AlbertForMaskedLM has no pooler.
        assert np.array_equal(value, exported[variable.path]), variable.path


# Odd widths, 1 to 3 heads, 1 or 3 segment types, both GELUs. Widths repeat
# across cases: under JAX each new weight shape costs initialiser compilations.
ARCHITECTURES = [
    dict(num_layers=2, num_groups=1, num_inner_repetitions=1, num_heads=1,
         hidden_dim=15, num_segments=1, activation="gelu"),
    dict(num_layers=4, num_groups=2, num_inner_repetitions=3, num_heads=3,
         hidden_dim=15, num_segments=3, activation="gelu_approximate"),
    dict(num_layers=6, num_groups=3, num_inner_repetitions=1, num_heads=2,
         hidden_dim=14, num_segments=1, activation="gelu_approximate",
         layer_norm_epsilon=1e-5),
    dict(num_layers=3, num_groups=1, num_inner_repetitions=2, num_heads=3,
         hidden_dim=15, num_segments=3, activation="gelu"),
    dict(num_layers=2, num_groups=2, num_inner_repetitions=2, num_heads=2,
         hidden_dim=14, num_segments=3, activation="relu"),
]  # fmt: skip


@pytest.mark.parametrize("architecture", _few_on_jax(ARCHITECTURES, ARCHITECTURES[:2]))
def test_random_architectures_compute_the_same_in_transformers(tmp_path, architecture):
    backbone = AlbertBackbone(
        vocabulary_size=37,
        embedding_dim=7,
        intermediate_dim=19,
        max_sequence_length=9,
        **architecture,
    )
    epsilon = backbone.layer_norm_epsilon
    model = AlbertPreTrainer(backbone, head_layer_norm_epsilon=epsilon, compile=False)
    rng = np.random.default_rng(len(model.weights))
    for variable in model.weights:  # Not the initialisers' zeros and ones.
        variable.assign(rng.normal(0.0, 0.5, variable.shape).astype("float32"))
    inputs = {
        "token_ids": rng.integers(0, 37, (2, 7)).astype("int32"),
        "segment_ids": rng.integers(0, backbone.num_segments, (2, 7)).astype("int32"),
        "padding_mask": np.array([[1] * 7, [1] * 5 + [0] * 2], "int32"),
        "mask_positions": np.array([[1, 3], [0, 4]], "int32"),
    }
    # One compiled call for all four outputs (eager calls compile op by op
    # under JAX).
    body = backbone({name: model.input[name] for name in backbone.input})
    ours = keras.Model(model.input, {**model.output, **body}).predict_on_batch(inputs)
    with pytest.warns(UserWarning, match="no preprocessor"):
        model.export_to_transformers(str(tmp_path / "export"))
    theirs = _run_transformers(
        _load_in_transformers(tmp_path / "export", "AlbertForPreTraining"),
        inputs,
        inputs["mask_positions"],
    )
    real = inputs["padding_mask"] == 1
    pairs = {
        "last_hidden_state": (ours["sequence_output"], real),
        "pooler_output": (ours["pooled_output"], None),
        "mask_logits": (ours["masked_lm"], None),
        "sop_logits": (ours["sentence_order"], None),
    }
    for key, (value, where) in pairs.items():
        assert max_error(theirs[key], to_numpy(value), where) <= EXPORT_TOLERANCE, key


FILL_MASK_TEXTS = [
    "the [MASK] barked at the moon.",
    "she drank a cup of [MASK].",
    "Paris is the capital of [MASK].",
]


def test_shipped_preset_fills_masks_alike_in_transformers(tmp_path):
    masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
    with pytest.warns(UserWarning, match=r"differ from this model's by at most"):
        masked_lm.export_to_transformers(str(tmp_path / "export"))
    pipeline = transformers.pipeline("fill-mask", model=str(tmp_path / "export"))
    theirs = pipeline(FILL_MASK_TEXTS, top_k=5)
    ours = masked_lm.fill_mask(FILL_MASK_TEXTS, top_k=5)
    for our_masks, their_candidates in zip(ours, theirs):
        (our_candidates,) = our_masks
        assert [c["id"] for c in our_candidates] == [
            c["token"] for c in their_candidates
        ]
        ours_p = np.array([c["probability"] for c in our_candidates])
        theirs_p = np.array([c["score"] for c in their_candidates])
        assert np.abs(ours_p - theirs_p).max() <= EXPORT_TOLERANCE


# === Refusals ===


def test_foreign_folders_are_refused_untouched(tmp_path, backbone):
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("keep me")
    other_model = tmp_path / "other"
    other_model.mkdir()
    (other_model / "config.json").write_text(json.dumps({"model_type": "bert"}))
    for directory in (project, other_model):
        before = tree_contents(directory)
        with pytest.raises(ValueError, match="not a transformers ALBERT export"):
            backbone.export_to_transformers(str(directory))
        assert tree_contents(directory) == before
    # An earlier export is replaced.
    backbone.export_to_transformers(str(tmp_path / "export"))
    backbone.export_to_transformers(str(tmp_path / "export"))
    assert sorted(os.listdir(tmp_path / "export")) == [
        "config.json",
        "model.safetensors",
    ]


def test_quantized_model_is_refused(tmp_path, backbone):
    quantize_quickly(backbone)
    with pytest.raises(ValueError, match="Cannot export a quantized AlbertBackbone"):
        backbone.export_to_transformers(str(tmp_path / "export"))
    assert not (tmp_path / "export").exists()


def test_head_epsilon_warning_states_the_difference(tmp_path, masked_lm):
    assert masked_lm.head_layer_norm_epsilon != masked_lm.backbone.layer_norm_epsilon
    with pytest.warns(UserWarning) as caught:
        masked_lm.export_to_transformers(str(tmp_path / "export"))
    (message,) = [str(w.message) for w in caught if "layer_norm_eps" in str(w.message)]
    assert "head_layer_norm_epsilon=1e-05" in message
    measured = float(message.split("by at most ")[1].split(" ")[0])
    assert 0 < measured < 1e-2


def test_a_failed_write_leaves_nothing(tmp_path, masked_lm, monkeypatch):
    import safetensors.numpy

    masked_lm.export_to_transformers(str(tmp_path / "existing"))  # Warns.
    before = tree_contents(tmp_path)

    def full_disk(tensors, path, metadata=None):
        with open(path, "wb") as file:
            file.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.numpy, "save_file", full_disk)
    for name in ("existing", "new"):
        with pytest.raises(OSError, match="No space left"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                masked_lm.export_to_transformers(str(tmp_path / name))
    assert tree_contents(tmp_path) == before
