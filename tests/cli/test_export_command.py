"""`albert-mlm export` (`albert_mlm/cli/export_command.py`), run through
`albert_mlm.cli.main` in this process on tensorflow: a preset becomes a
SavedModel with the options it was given (`tests/serving` compares its
answers with `fill_mask`'s); a folder that is not an export is refused,
unchanged."""

import json

import keras
import pytest
from helpers import KERAS_HUB_DIR, file_contents, run_cli_in_process

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="exports in this process, which needs the tensorflow backend",
)
PRESET = KERAS_HUB_DIR / "groups2_inner2"


def test_export_writes_a_served_fill_mask(tmp_path):
    import tensorflow as tf

    code, stdout, stderr = run_cli_in_process(
        "export", PRESET, tmp_path / "served", "--top-k", "2", "--max-masks", "1",
        "--sequence-length", "12",
    )  # fmt: skip
    assert code == 0, stderr
    assert stdout.startswith("Wrote ")
    marker = json.loads((tmp_path / "served" / "serving.json").read_text())
    assert [marker[key] for key in ("top_k", "max_masks", "sequence_length")] == [
        2, 1, 12
    ]  # fmt: skip
    served = tf.saved_model.load(str(tmp_path / "served")).signatures
    texts = ["the [MASK] sat.", "the [MASK] sat on the mat by the door of the house."]
    outputs = served["serving_default"](texts=tf.constant(texts))
    assert outputs["status"].numpy().tolist() == [0, 2]
    ids = outputs["ids"].numpy()
    assert ids.shape == (2, 1, 2)
    assert (ids[0] >= 5).all() and (ids[1] == -1).all()  # 0-4: special tokens.


def test_export_refuses_a_folder_that_is_not_an_export(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("keep me")
    before = file_contents(tmp_path)
    code, stdout, stderr = run_cli_in_process("export", PRESET, tmp_path / "work")
    assert code == 1
    assert stderr.startswith("albert-mlm export: error: ")
    assert "not a SavedModel written by" in stderr
    assert "Wrote" not in stdout
    assert file_contents(tmp_path) == before
