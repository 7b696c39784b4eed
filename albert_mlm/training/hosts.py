"""The processes of a multi-host run: who they are, joining them, and
checking that they were started alike.

A run of several processes (one per host, usually) is started with the same
command on every host, only the process number differing:
`--coordinator-address HOST:PORT --num-processes P --process-id I`, or the
environment variables COORDINATOR_ADDRESS, NUM_PROCESSES and PROCESS_ID.
JAX's distributed runtime (`jax.distributed.initialize`, which
`keras.distribution.initialize` calls) joins them: process 0 serves as the
coordinator, each process sends it heartbeats, and a process that stops
sending them stops the others.

>>> from albert_mlm.training.pretrain_options import PretrainOptions
>>> process_settings(PretrainOptions(corpus=["unused"], out="unused"))
(None, 1, 0)
"""

import dataclasses
import hashlib
import json
import os
import socket
import time

from albert_mlm.datasets.corpus_storage import size
from albert_mlm.training.pretraining_model import PretrainError

ENVIRONMENT_VARIABLES = {
    "coordinator_address": "COORDINATOR_ADDRESS",
    "num_processes": "NUM_PROCESSES",
    "process_id": "PROCESS_ID",
}


def process_settings(options):
    """`(coordinator_address, num_processes, process_id)` from the options,
    else from the environment variables, checked."""
    values = {}
    for name, variable in ENVIRONMENT_VARIABLES.items():
        value = getattr(options, name)
        if value is None and os.environ.get(variable):
            value = os.environ[variable]
            if name != "coordinator_address":
                try:
                    value = int(value)
                except ValueError:
                    raise PretrainError(
                        f"{variable} must be an integer. Received: {value!r}"
                    ) from None
        values[name] = value
    address, processes, process_id = values.values()
    given = [value is not None for value in values.values()]
    if any(given) and not all(given):
        raise PretrainError(
            "A multi-host run needs --coordinator-address, --num-processes and "
            "--process-id together (or COORDINATOR_ADDRESS, NUM_PROCESSES and "
            f"PROCESS_ID). Received: {values}"
        )
    if not any(given):
        return None, 1, 0
    if processes < 1 or not 0 <= process_id < processes:
        raise PretrainError(
            f"--process-id must be in [0, --num-processes): 0 to "
            f"{processes - 1}. Received: process_id={process_id}, "
            f"num_processes={processes}"
        )
    return address, processes, process_id


def refuse_started(option):
    raise PretrainError(
        f"{option} must be set before the framework starts its devices; it "
        "already has in this process (a model or tensor was made before). "
        "Run `albert-mlm pretrain` in a fresh process."
    )


def join_processes(jax, address, processes, process_id, timeout):
    """Joins the coordinator at `address` (`HOST:PORT`), refusing within
    `timeout` seconds if it does not answer; a process lost later stops the
    others within about `timeout` seconds (JAX's heartbeat)."""
    if process_id != 0:  # JAX would end the process, not raise, at the time-out.
        _wait_for_coordinator(address, processes, process_id, timeout)
    seconds = max(1, round(timeout))
    try:
        jax.distributed.initialize(
            coordinator_address=address,
            num_processes=processes,
            process_id=process_id,
            initialization_timeout=seconds,
            heartbeat_timeout_seconds=seconds,
            shutdown_timeout_seconds=seconds,
        )
    except RuntimeError as error:
        if "before any JAX calls" in str(error):
            refuse_started("--coordinator-address")
        raise PretrainError(
            f"Process {process_id} of {processes} could not join the coordinator "
            f"at {address!r}: {str(error).splitlines()[0][:200]}"
        ) from None


def _wait_for_coordinator(address, processes, process_id, timeout):
    """Waits until something listens at `address`, at most `timeout` seconds."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise PretrainError(
            f"--coordinator-address must be HOST:PORT. Received: {address!r}"
        )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise PretrainError(
                    f"Process {process_id} of {processes} could not reach the "
                    f"coordinator (process 0) at {address!r} within {timeout:g} "
                    f"seconds (--host-timeout): {error.strerror or error}."
                ) from None
        time.sleep(0.2)


def settings_digest(options, files):
    """A number that differs between runs of different settings or corpora:
    processes of one run must agree on it."""
    settings = dataclasses.asdict(options)
    settings.pop("process_id")
    settings["corpus_files"] = [(os.path.basename(path), size(path)) for path in files]
    text = json.dumps(settings, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:7], "big")


def require_same_settings(layout, options, files):
    """Refuses to go on when the processes were started with different
    options, seeds or corpora."""
    digests = layout.gather(settings_digest(options, files))
    differing = [index for index, digest in enumerate(digests) if digest != digests[0]]
    if differing:
        raise PretrainError(
            f"Process(es) {differing} were started with other options, seed or "
            "corpus files than process 0; start every process with the same "
            "command (only --process-id differs)."
        )
