"""Saves under pressure (`presets/atomic_directory.py`, `presets/saving.py`):
two processes saving different models to one new directory at the same
moment both succeed and leave one complete, loadable preset; a save that
runs out of file space (`RLIMIT_FSIZE`) fails with a Python `OSError`, not
a crash, and leaves neither a partial preset nor a staging directory."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import (
    CLI_ENVIRONMENT,
    KERAS_HUB_DIR,
    copy_keras_hub_preset,
    file_contents,
    weight_values,
)

from albert_mlm import AlbertMaskedLM

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="file locks and resource limits are POSIX"
)

INPUTS = {
    "token_ids": np.array([[2, 10, 4, 30, 40, 3]], "int32"),
    "segment_ids": np.zeros((1, 6), "int32"),
    "padding_mask": np.ones((1, 6), "int32"),
    "mask_positions": np.array([[2, 4]], "int32"),
}

# Loads a preset, says it is ready, waits for the go file, then saves the
# model to the target.
SAVE_AT_ONCE = """
import os, sys, time
from albert_mlm import AlbertMaskedLM
source, target, ready, go = sys.argv[1:]
masked_lm = AlbertMaskedLM.from_preset(source)
open(ready, "w").close()
deadline = time.time() + 120
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.002)
masked_lm.save_to_preset(target)
print("saved")
"""


def _environment():
    import keras

    return {**CLI_ENVIRONMENT, "KERAS_BACKEND": keras.backend.backend()}


def test_two_processes_saving_to_one_new_directory_at_once(tmp_path):
    script = tmp_path / "save_at_once.py"
    script.write_text(SAVE_AT_ONCE)
    target = tmp_path / "shared" / "preset"
    go = tmp_path / "go"
    sources = {2: KERAS_HUB_DIR / "groups2_inner2", 3: KERAS_HUB_DIR / "groups3_inner2"}
    processes, ready_files = [], []
    for source in sources.values():
        ready_files.append(tmp_path / f"ready_{source.name}")
        process = subprocess.Popen(
            [sys.executable, str(script), str(source), str(target),
             str(ready_files[-1]), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_environment(),
        )  # fmt: skip
        processes.append(process)
    deadline = time.time() + 240
    while not all(f.exists() for f in ready_files) and time.time() < deadline:
        assert all(p.poll() is None for p in processes), [
            p.communicate()[1][-2000:] for p in processes
        ]
        time.sleep(0.05)
    go.touch()  # Both start saving now.
    for process in processes:
        stdout, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr[-3000:]
        assert stdout == "saved\n"

    # One complete preset, wholly one of the two models; no staging left.
    assert sorted(p.name for p in target.parent.iterdir()) == ["preset"]
    loaded = AlbertMaskedLM.from_preset(target)
    source = AlbertMaskedLM.from_preset(sources[loaded.backbone.num_groups])
    assert len(loaded.weights) == len(source.weights)
    for ours, theirs in zip(weight_values(loaded), weight_values(source)):
        np.testing.assert_array_equal(ours, theirs)
    assert loaded.predict_on_batch(INPUTS).shape == (1, 2, 400)


# Saves a preset into each target with at most `limit` bytes per file and
# SIGXFSZ ignored, so a write past it fails with EFBIG as on a full disk;
# prints one line per target: "OSError", the class raised and whether it
# says "File too large"; or "saved".
# Anything but an `OSError` ends the script with its traceback.
SAVE_WITH_FILE_LIMIT = """
import resource, signal, sys
from albert_mlm import AlbertMaskedLM
source, limit, *targets = sys.argv[1:]
masked_lm = AlbertMaskedLM.from_preset(source)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
for target in targets:
    try:
        masked_lm.save_to_preset(target)
        print("saved")
    except OSError as error:
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        print("OSError", kind, "File too large" in str(error))
"""


def test_saves_without_room_fail_with_os_error_and_leave_nothing(tmp_path):
    script = tmp_path / "save_with_file_limit.py"
    script.write_text(SAVE_WITH_FILE_LIMIT)
    new_parent = tmp_path / "new"
    new_parent.mkdir()
    existing_parent = tmp_path / "existing"
    existing_parent.mkdir()
    preset = copy_keras_hub_preset(existing_parent)
    before = file_contents(preset)
    result = subprocess.run(
        [sys.executable, str(script), str(KERAS_HUB_DIR / "groups3_inner2"),
         "20000", str(new_parent / "preset"), str(preset)],
        capture_output=True, text=True, timeout=240, env=_environment(),
    )  # fmt: skip
    # Python exceptions, not a SIGXFSZ crash or another error.
    assert result.returncode == 0, (result.returncode, result.stderr[-3000:])
    outcomes = [line.split() for line in result.stdout.splitlines()]
    assert len(outcomes) == 2, result.stdout
    for outcome in outcomes:
        assert outcome[0] == "OSError" and outcome[2] == "True", outcome
    # A new directory: nothing at all; an existing preset: untouched.
    assert list(new_parent.iterdir()) == []
    assert file_contents(preset) == before
    assert list(existing_parent.iterdir()) == [preset]
    AlbertMaskedLM.from_preset(preset)
