"""`albert-mlm pretrain` on several devices and several processes.

Every run is a user's command in subprocesses: virtual CPU devices
(`--virtual-devices`), and local processes joined over 127.0.0.1
(`--coordinator-address`, `--num-processes`, `--process-id`, gloo CPU
collectives). The runs that start several processes are marked `extended`
but one, so that the suite runs one multi-process run per backend that has
them (JAX); `pytest -m extended tests/training/test_distributed_pretraining.py`
runs the rest.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest
from helpers import (
    CLI_ENVIRONMENT,
    DATA_DIR,
    VOCABULARY_PATH,
    documents_corpus,
    pretrain_args,
    run_cli,
    run_cli_in_process,
)

BACKEND = keras.backend.backend()
STEPS = ("--steps", "6", "--checkpoint-every", "2", "--recipe", "albert")
SHARE = re.compile(r"reads and tokenizes ([\d,]+) of the ([\d,]+) training lines")
DIGEST = re.compile(r"Trained weights at step (\d+): (\w+)\.")
# Seconds after which a process whose partner is gone gives up.
HOST_TIMEOUT = "20"

jax_only = pytest.mark.skipif(
    BACKEND != "jax", reason="several processes: JAX's distributed runtime"
)


def _arguments(corpus, out, *extra):
    """A tiny seeded ALBERT-recipe run with a fixed vocabulary."""
    return pretrain_args(
        corpus, out, "--vocab", str(VOCABULARY_PATH), "--seed", "3",
        "--evaluation-batches", "2", *STEPS, *extra,
    )  # fmt: skip


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_processes(arguments, tmp_path, name, count=2, extra=lambda index: ()):
    """`count` processes of one run, each logging to `<name>-<index>.log`."""
    address = f"127.0.0.1:{_free_port()}"
    processes, logs = [], []
    for index in range(count):
        logs.append(tmp_path / f"{name}-{index}.log")
        with open(logs[-1], "w") as log:
            command = [
                sys.executable, "-m", "albert_mlm", *arguments,
                "--coordinator-address", address, "--num-processes", str(count),
                "--process-id", str(index), "--host-timeout", HOST_TIMEOUT,
                *extra(index),
            ]  # fmt: skip
            processes.append(
                subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, env=CLI_ENVIRONMENT
                )
            )
    return processes, logs


def _wait(processes, logs, timeout=300):
    for process, log in zip(processes, logs):
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            output = log.read_text()[-3000:]
            raise AssertionError(f"no end within {timeout} s: {output}") from None
    return [log.read_text() for log in logs]


def _weights(preset):
    """`file/dataset` name -> array, of a preset's two weight files."""
    arrays = {}

    def add(prefix):
        def visit(key, item):
            if isinstance(item, h5py.Dataset):
                arrays[f"{prefix}/{key}"] = item[()]

        return visit

    for name in ("model.weights.h5", "task.weights.h5"):
        with h5py.File(preset / name, "r") as file:
            file.visititems(add(name))
    return arrays


def _assert_same_weights(ours, theirs, atol):
    ours, theirs = _weights(ours), _weights(theirs)
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(
            ours[key], theirs[key], rtol=0, atol=atol, err_msg=key
        )


@jax_only
def test_two_processes_train_what_two_devices_of_one_process_train(corpus, tmp_path):
    corpus = documents_corpus(corpus, tmp_path)
    devices_out, processes_out = tmp_path / "devices", tmp_path / "processes"
    one_process = run_cli(*_arguments(corpus, devices_out, "--virtual-devices", "2"))
    assert one_process.returncode == 0, one_process.stderr[-3000:]
    arguments = _arguments(corpus, processes_out)
    processes, logs = _start_processes(arguments, tmp_path, "run")
    outputs = _wait(processes, logs)
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]

    # Each process read and tokenized its replica's half of the documents.
    shares = [SHARE.search(output).groups() for output in outputs]
    local = [int(share[0].replace(",", "")) for share in shares]
    total = int(shares[0][1].replace(",", ""))
    assert sum(local) == total and all(0.4 * total < n < 0.6 * total for n in local)
    # Both ended on the same weights; process 0 alone saved them.
    digests = [DIGEST.search(output).groups() for output in outputs]
    assert digests[0] == digests[1] and digests[0][0] == "6"
    assert "Trained; process 0 saved" in outputs[1]
    layout = (processes_out / "metadata.json").read_text()
    assert '"processes": 2' in layout and '"replicas": 2' in layout
    # What a global batch holds depends on the replicas only.
    _assert_same_weights(processes_out, devices_out, atol=1e-5)


@jax_only
@pytest.mark.extended
def test_killed_process_stops_the_other_and_both_resume(corpus, tmp_path):
    corpus = documents_corpus(corpus, tmp_path)
    reference_out, killed_out = tmp_path / "reference", tmp_path / "killed"
    reference = run_cli(*_arguments(corpus, reference_out, "--virtual-devices", "2"))
    assert reference.returncode == 0, reference.stderr[-3000:]
    processes, logs = _start_processes(_arguments(corpus, killed_out), tmp_path, "kill")
    checkpoints = killed_out / "checkpoints"
    deadline = time.time() + 240
    while not any(name.startswith("step-") for name in _names(checkpoints)):
        assert time.time() < deadline and processes[1].poll() is None, logs[
            1
        ].read_text()[-3000:]
        time.sleep(0.02)
    processes[1].send_signal(signal.SIGKILL)
    killed_at = time.time()
    processes[0].wait(timeout=3 * int(HOST_TIMEOUT) + 60)
    # The survivor stops within a bounded time instead of hanging.
    assert processes[0].returncode != 0
    assert time.time() - killed_at < 3 * int(HOST_TIMEOUT) + 60
    # JAX's runtime names the process it lost.
    assert "Task 1 heartbeat timeout" in logs[0].read_text()

    resumed, logs = _start_processes(
        _arguments(corpus, killed_out, "--resume"), tmp_path, "resume"
    )
    outputs = _wait(resumed, logs)
    for process, output in zip(resumed, outputs):
        assert process.returncode == 0, output[-3000:]
    assert "Resuming from step" in outputs[0]
    _assert_same_weights(killed_out, reference_out, atol=1e-6)


def _names(folder):
    return os.listdir(folder) if folder.is_dir() else []


@jax_only
@pytest.mark.extended
def test_processes_started_with_other_settings_are_refused(corpus, tmp_path):
    corpus = documents_corpus(corpus, tmp_path)
    processes, logs = _start_processes(
        _arguments(corpus, tmp_path / "out"),
        tmp_path,
        "seeds",
        extra=lambda index: ("--learning-rate", str(0.001 * (index + 1))),
    )
    outputs = _wait(processes, logs, timeout=120)
    for process, output in zip(processes, outputs):
        assert process.returncode != 0
        assert "were started with other options, seed or corpus files" in output


@jax_only
def test_an_unreachable_coordinator_is_refused_within_the_time_out(corpus, tmp_path):
    started = time.time()
    result = run_cli(
        *_arguments(corpus, tmp_path / "out"),
        "--coordinator-address", f"127.0.0.1:{_free_port()}",
        "--num-processes", "2", "--process-id", "1", "--host-timeout", "3",
    )  # fmt: skip
    assert result.returncode != 0
    assert "Process 1 of 2 could not reach the coordinator" in result.stderr
    assert "within 3 seconds (--host-timeout)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert time.time() - started < 120


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--num-processes", "2", "--process-id", "2",
          "--coordinator-address", "127.0.0.1:1"), "--process-id must be in"),
        (("--num-processes", "2"), "needs --coordinator-address, --num-processes"),
    ],
    ids=["process-id", "incomplete"],
)  # fmt: skip
def test_bad_process_settings_are_one_line_errors(corpus, tmp_path, extra, message):
    # Refused before any device starts, so in this process.
    code, _, stderr = run_cli_in_process(*_arguments(corpus, tmp_path / "out"), *extra)
    assert code != 0
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.skipif(
    BACKEND == "jax", reason="one check for every backend: tensorflow runs it"
)
def test_a_batch_the_replicas_cannot_split_is_refused(corpus, tmp_path):
    result = run_cli(
        *_arguments(corpus, tmp_path / "out"),
        "--virtual-devices", "3", "--batch-size", "8",
    )  # fmt: skip
    assert result.returncode != 0
    if BACKEND == "torch":
        assert "KERAS_BACKEND=jax" in result.stderr
        assert "KERAS_BACKEND=tensorflow" in result.stderr
    else:
        assert "--batch-size 8 must be a multiple of the 3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# `pretrain` under MirroredStrategy on 2 virtual CPU devices, then one device
# trained on the same global batches from the same start; prints the largest
# weight difference and the run's layout.
MIRRORED_AGAINST_ONE_DEVICE = """
import json, sys
import keras, numpy as np
from albert_mlm.datasets.corpus import corpus_files
from albert_mlm.models.albert_pretrainer import AlbertPreTrainer
from albert_mlm.training.devices import DeviceLayout
from albert_mlm.training.pretrain import pretrain
from albert_mlm.training.pretrain_options import PretrainOptions
from albert_mlm.training.pretraining_data import pretraining_data
from albert_mlm.training.pretraining_model import build_model
from albert_mlm.training.recipes import make_optimizer, resolved

corpus, out, vocabulary, config = sys.argv[1:]
options = PretrainOptions(
    corpus=[corpus], out=out, vocab=vocabulary, config=config, sequence_length=16,
    batch_size=8, steps=6, checkpoint_every=2, recipe="albert", seed=3,
    virtual_devices=2,
)
pretrain(options, log=lambda message: None)
options = resolved(options)
keras.utils.set_random_seed(options.seed)
files = corpus_files(options.corpus)
model = build_model(options, files, log=lambda message: None)
two_replicas = DeviceLayout("tensorflow", devices=2)
data = pretraining_data(options, files, model.preprocessor, True, two_replicas)
model.compile(optimizer=make_optimizer(options, data.total_steps))
model.fit(data.train, steps_per_epoch=data.total_steps, epochs=1, verbose=0)
trained = AlbertPreTrainer.from_preset(out)
difference = max(
    float(np.abs(ours - theirs).max())
    for ours, theirs in zip(trained.get_weights(), model.get_weights())
)
moved = min(
    float(np.abs(ours - theirs).max())
    for ours, theirs in zip(
        trained.get_weights(), build_model(options, files, print).get_weights()
    )
)
metadata = json.load(open(out + "/metadata.json"))
print(json.dumps({"difference": difference, "moved": moved,
                  "layout": metadata["pretraining"]["layout"]}))
"""


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute: tensorflow")
def test_mirrored_strategy_pretrains_as_one_device_on_the_same_batches(
    corpus, tmp_path
):
    corpus = documents_corpus(corpus, tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_AGAINST_ONE_DEVICE, str(corpus),
         str(tmp_path / "out"), str(VOCABULARY_PATH),
         str(DATA_DIR / "tiny_architecture.json")],
        capture_output=True, text=True, timeout=300, env=CLI_ENVIRONMENT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["layout"]["devices"] == 2 and measured["layout"]["replicas"] == 2
    # Training moved every weight by more than the gap below.
    assert measured["moved"] > 1e-4
    # docs/pretraining_at_scale.md states this bound for TensorFlow: each
    # replica averages the loss over its own masked tokens (9.3e-3 measured
    # here after 6 LAMB steps; JAX, which averages over the global batch,
    # stays within 1e-5 of one device).
    assert measured["difference"] < 2e-2


@jax_only
@pytest.mark.extended
def test_model_parallel_pretraining_records_its_mesh(corpus, tmp_path):
    corpus = documents_corpus(corpus, tmp_path)
    out = tmp_path / "out"
    result = run_cli(
        *_arguments(corpus, out, "--virtual-devices", "4", "--model-parallel", "2")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    layout = json.loads((out / "metadata.json").read_text())["pretraining"]["layout"]
    assert layout == {
        "backend": "jax", "devices": 4, "processes": 1, "replicas": 2,
        "model_parallel": 2,
    }  # fmt: skip


@jax_only
@pytest.mark.parametrize(
    "extra, message",
    [
        pytest.param(
            ("--virtual-devices", "4", "--model-parallel", "4"),
            "--model-parallel 4: the model's num_heads (2) must be a multiple of "
            "the model axis",
            marks=pytest.mark.extended,  # It builds and saves the model first.
        ),
        (("--virtual-devices", "2", "--model-parallel", "3"),
         "--model-parallel 3 must divide the 2 devices"),
    ],
    ids=["heads", "devices"],
)  # fmt: skip
def test_a_model_the_mesh_cannot_split_is_refused(corpus, tmp_path, extra, message):
    corpus = documents_corpus(corpus, tmp_path)
    result = run_cli(*_arguments(corpus, tmp_path / "out", "--batch-size", "4", *extra))
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.skipif(BACKEND != "tensorflow", reason="one backend shows the check")
def test_resuming_on_another_replica_count_is_refused_by_name(corpus, tmp_path):
    corpus, out = documents_corpus(corpus, tmp_path), tmp_path / "out"
    # Stopped at its first log row: the checkpoint is kept for --resume.
    stopped = run_cli(*_arguments(corpus, out, "--max-minutes", "0.0001"))
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert (out / "checkpoints").is_dir()
    resumed = run_cli(*_arguments(corpus, out, "--resume", "--virtual-devices", "2"))
    assert resumed.returncode != 0
    assert "trained on 1 data-parallel replica(s), this one has 2" in resumed.stderr
    assert len(resumed.stderr.strip().splitlines()) == 1, resumed.stderr
    # The refusal left the checkpoint in place.
    assert (out / "checkpoints").is_dir()
