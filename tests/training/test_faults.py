"""Faults during long operations: a killed run, a killed save, a NaN loss.

Everything runs as a user would run it, in subprocesses (`albert-mlm
pretrain`, or a short script calling `save_to_preset`), and is killed with
SIGKILL: no cleanup code gets a chance to run.
"""

import os
import re
import signal
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest
from helpers import (
    CLI_ENVIRONMENT,
    KERAS_HUB_DIR,
    VOCABULARY_PATH,
    copy_keras_hub_preset,
    documents_corpus,
    file_contents,
    pretrain_args,
    quiet_free_environment,
    run_cli,
    weight_values,
)

from albert_mlm import AlbertMaskedLM

CHECKPOINT_EVERY = 5
TOTAL_STEPS = 40
CHECKPOINT = re.compile(r"^step-(\d+)\.weights\.h5$")


def _pretrain(corpus, out, *extra):
    """Tiny, seeded pretraining arguments (a fixed vocabulary, no training of
    one, so two runs differ only in how they are interrupted)."""
    return pretrain_args(
        corpus, out, "--vocab", str(VOCABULARY_PATH), "--seed", "7", *extra
    )


def _start(*args, log=None):
    """A Python subprocess; with `log`, its output goes to that file (a pipe
    nobody reads while it runs could fill up and stall it)."""
    output = open(log, "w") if log else subprocess.PIPE
    try:
        return subprocess.Popen(
            [sys.executable, *args],
            stdout=output,
            stderr=subprocess.STDOUT if log else subprocess.PIPE,
            text=True,
            env=CLI_ENVIRONMENT,
        )
    finally:
        if log:
            output.close()


def _checkpoint_steps(out):
    folder = out / "checkpoints"
    names = os.listdir(folder) if folder.is_dir() else []
    return sorted(int(m.group(1)) for n in names if (m := CHECKPOINT.match(n)))


def _arrays(path):
    """Dataset name -> array of an `.h5` file."""
    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


# === A pretraining run killed mid-epoch ===


@pytest.mark.parametrize(
    "recipe",
    [
        # The checkpoint code is the recipes' own; one suite runs `line`.
        pytest.param(
            (),
            marks=pytest.mark.skipif(
                keras.backend.backend() != "tensorflow",
                reason="the albert recipe covers this backend",
            ),
        ),
        pytest.param(
            ("--recipe", "albert"),
            marks=pytest.mark.skipif(
                keras.backend.backend() == "jax",
                reason="the jax suite spends this time on two-process pretraining "
                "(tests/training/test_distributed_pretraining.py); test_pretrain "
                "resumes on jax",
            ),
        ),
    ],
    ids=["line", "albert"],
)
def test_killed_pretraining_resumes_to_the_uninterrupted_weights(
    corpus, tmp_path, recipe
):
    if recipe:  # ALBERT's recipe packs documents: give it some.
        corpus = documents_corpus(corpus, tmp_path)
    reference_out, killed_out = tmp_path / "reference", tmp_path / "killed"
    steps = (
        "--steps", str(TOTAL_STEPS), "--checkpoint-every", str(CHECKPOINT_EVERY),
        *recipe,
    )  # fmt: skip
    logs = {name: tmp_path / f"{name}.log" for name in ("reference", "killed")}
    reference = _start(
        "-m", "albert_mlm", *_pretrain(corpus, reference_out, *steps),
        log=logs["reference"],
    )  # fmt: skip
    killed = _start(
        "-m", "albert_mlm", *_pretrain(corpus, killed_out, *steps), log=logs["killed"]
    )
    deadline = time.time() + 240
    while not _checkpoint_steps(killed_out) and killed.poll() is None:
        assert time.time() < deadline, "no checkpoint within 240 s"
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL, logs["killed"].read_text()[-3000:]
    reference.wait(timeout=300)
    assert reference.returncode == 0, logs["reference"].read_text()[-3000:]

    # Complete checkpoints only (a torn write never carries the final name);
    # a kill between writing one and deleting its predecessor leaves two.
    last = _checkpoint_steps(killed_out)[-1]
    assert last % CHECKPOINT_EVERY == 0 and CHECKPOINT_EVERY <= last < TOTAL_STEPS
    # In a user's shell (no TF_CPP_MIN_LOG_LEVEL) a finished run prints
    # nothing on stderr, not even TensorFlow's line about a generator
    # iterator still alive at interpreter exit.
    resumed = subprocess.run(
        [sys.executable, "-m", "albert_mlm",
         *_pretrain(corpus, killed_out, *steps, "--resume")],
        capture_output=True, text=True, timeout=300, env=quiet_free_environment(),
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stderr == ""
    # It restarts from that checkpoint: only steps after it were lost.
    assert f"Resuming from step {last} of {TOTAL_STEPS}." in resumed.stdout
    assert not (killed_out / "checkpoints").exists()

    for name in ("model.weights.h5", "task.weights.h5"):
        ours, theirs = _arrays(killed_out / name), _arrays(reference_out / name)
        assert sorted(ours) == sorted(theirs)
        for key in theirs:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=1e-6)


# === save_to_preset killed mid-write ===

# Saves one preset over another, pausing (for SIGKILL) when an audit event
# names a file in the staging directory: `open` of a JSON file for writing,
# or `shutil.rmtree` of the staging directory once the new preset is in place.
SAVE_SCRIPT = """
import os, sys, time
from albert_mlm import AlbertMaskedLM

source, target, event_name, file_name = sys.argv[1:]


def pause(event, args):
    path = str(args[0]) if args else ""
    if event == event_name and ".partial" in path and (
        file_name == "*" or (os.path.basename(path) == file_name and args[1] == "w")
    ):
        print("paused", flush=True)
        time.sleep(600)


masked_lm = AlbertMaskedLM.from_preset(source)
sys.addaudithook(pause)
masked_lm.save_to_preset(target)
print("saved", flush=True)
"""
KILL_POINTS = {
    "first-file": ("open", "config.json"),
    "after-weights": ("open", "tokenizer.json"),
    "after-exchange": ("shutil.rmtree", "*"),
}


def test_killed_save_leaves_a_complete_preset(tmp_path):
    script = tmp_path / "save_and_pause.py"
    script.write_text(SAVE_SCRIPT)
    new = str(KERAS_HUB_DIR / "groups3_inner2")
    targets, processes = {}, {}
    for point, (event, file_name) in KILL_POINTS.items():
        parent = tmp_path / point
        parent.mkdir()
        targets[point] = copy_keras_hub_preset(parent, "groups2_inner2")
        processes[point] = _start(
            str(script), new, str(targets[point]), event, file_name
        )
    before = file_contents(targets["first-file"])
    for point, process in processes.items():
        line = process.stdout.readline()
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        assert line == "paused\n", (point, stderr[-3000:])

    old = weight_values(
        AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups2_inner2"))
    )
    new_weights = weight_values(AlbertMaskedLM.from_preset(new))
    for point, target in targets.items():
        expected = new_weights if point == "after-exchange" else old
        if point != "after-exchange":
            assert file_contents(target) == before, point
        loaded = AlbertMaskedLM.from_preset(str(target))
        assert len(loaded.weights) == len(expected), point
        for ours, theirs in zip(weight_values(loaded), expected):
            np.testing.assert_array_equal(ours, theirs)
        # What the kill leaves besides the preset: one hidden staging folder.
        (leftover,) = [p for p in target.parent.iterdir() if p != target]
        assert leftover.name.startswith(".preset.") and leftover.name.endswith(
            ".partial"
        )


# === A loss that becomes NaN ===


def test_nan_loss_stops_with_one_line_and_keeps_a_good_checkpoint(corpus, tmp_path):
    out = tmp_path / "diverging"
    # With this learning rate Adam's first update moves every weight by
    # about 1e30; the next forward pass overflows float32.
    result = run_cli(
        *_pretrain(
            corpus, out, "--steps", "20", "--checkpoint-every", "1",
            "--learning-rate", "1e30",
        )
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("albert-mlm pretrain: error:")
    ]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0])
    match = re.search(
        r"loss became NaN or infinite at step (\d+); .* last good checkpoint "
        r"\(step (\d+)\) is in .*--resume",
        errors[0],
    )
    assert match, errors[0]
    failed_step, kept_step = map(int, match.groups())
    assert kept_step == failed_step - 1 >= 1
    assert _checkpoint_steps(out) == [kept_step]

    # The checkpoint loads (weights and optimizer state) and is finite; the
    # preset on disk is still the untrained model, not a NaN one.
    masked_lm = AlbertMaskedLM.from_preset(str(out))
    untrained = weight_values(masked_lm)
    masked_lm.compile(optimizer=keras.optimizers.Adam())
    masked_lm.optimizer.build(masked_lm.trainable_variables)
    masked_lm.load_weights(
        str(out / "checkpoints" / f"step-{kept_step:09d}.weights.h5")
    )
    assert int(keras.ops.convert_to_numpy(masked_lm.optimizer.iterations)) == kept_step
    trained = weight_values(masked_lm)
    assert all(np.isfinite(w).all() for w in trained)
    assert any(not np.array_equal(a, b) for a, b in zip(trained, untrained))
