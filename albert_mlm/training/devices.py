"""Where a pretraining run trains: its devices, processes and replicas.

`start_devices(options)` joins the other processes of a multi-host run
(`--coordinator-address`, `--num-processes`, `--process-id`, or the
environment variables COORDINATOR_ADDRESS, NUM_PROCESSES and PROCESS_ID),
splits the CPU into `--virtual-devices`, and returns a `DeviceLayout`: the
Keras distribution (JAX: `DataParallel`, or `ModelParallel` with
`AlbertBackbone.get_layout_map` under `--model-parallel`) or
`tf.distribute.MirroredStrategy` (TensorFlow) to build and train in, how
many data-parallel replicas split each batch, and which of them this process
feeds. One device gives a layout without a distribution, and the run is the
single-device run it always was.

Each data-parallel replica reads its own share of the corpus, and process
`p` feeds its replicas' rows of every global batch (Keras' `DataParallel`
with `auto_shard_dataset=False`), so what a global batch holds depends only
on the number of replicas: 2 processes of 1 device train what 1 process of
2 devices trains.

>>> from albert_mlm.training.pretrain_options import PretrainOptions
>>> layout = start_devices(PretrainOptions(corpus=["unused"], out="unused"))
>>> layout.replicas, layout.local_replicas, layout.is_chief
(1, (0,), True)
"""

import contextlib
import dataclasses
import hashlib

import keras
import numpy as np

from albert_mlm.training.hosts import join_processes, process_settings, refuse_started
from albert_mlm.training.pretraining_model import PretrainError


@dataclasses.dataclass(frozen=True)
class DeviceLayout:
    """The devices and processes of a run.

    Attributes:
        backend: the Keras backend.
        devices: devices training, over every process.
        processes: processes taking part (hosts, usually).
        process_index: this process's number, 0 for the one that writes.
        model_parallel: devices each weight is split over (JAX).
        strategy: the Keras distribution (JAX) or `tf.distribute` strategy
            (TensorFlow) to build and train in; `None` on one device.
    """

    backend: str
    devices: int = 1
    processes: int = 1
    process_index: int = 0
    model_parallel: int = 1
    strategy: object = None

    @property
    def replicas(self):
        """Data-parallel replicas: each takes an equal part of every batch."""
        return self.devices // self.model_parallel

    @property
    def local_replicas(self):
        """The replicas whose rows of every batch this process feeds."""
        per_process = self.replicas // self.processes
        first = self.process_index * per_process
        return tuple(range(first, first + per_process))

    @property
    def is_chief(self):
        """Whether this process writes the preset, logs and checkpoints."""
        return self.process_index == 0

    def scope(self):
        """The context to build, compile and train the model in."""
        if self.strategy is None:
            return contextlib.nullcontext()
        return self.strategy.scope()

    def summary(self):
        """The layout in words, for the run's log."""
        if self.strategy is None:
            return "1 device"
        words = f"{self.devices} {self.backend} devices, {self.replicas} replicas"
        if self.model_parallel > 1:
            words += f" of {self.model_parallel} model-parallel devices"
        if self.processes > 1:
            words += f", {self.processes} processes (this one is {self.process_index})"
        return words

    def describe(self):
        """The layout as recorded in a preset's metadata."""
        return {
            "backend": self.backend,
            "devices": self.devices,
            "processes": self.processes,
            "replicas": self.replicas,
            "model_parallel": self.model_parallel,
        }

    def barrier(self, name):
        """Waits until every process gets here (nothing with one process)."""
        if self.processes > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices(name)

    def gather(self, value):
        """Every process's integer `value`, in process order."""
        if self.processes == 1:
            return [int(value)]
        from jax.experimental import multihost_utils

        gathered = multihost_utils.process_allgather(np.array([value], "int64"))
        return [int(item) for item in np.asarray(gathered).reshape(-1)]


def start_devices(options):
    """The `DeviceLayout` of a run with these `PretrainOptions`: joins the
    other processes and sets up the devices; refuses (`PretrainError`, one
    line) a layout that cannot train these options."""
    address, processes, process_id = process_settings(options)
    backend = keras.backend.backend()
    wants_more = (
        processes > 1
        or (options.devices or 1) > 1
        or (options.virtual_devices or 1) > 1
        or options.model_parallel > 1
    )
    if backend == "torch" and wants_more:
        raise PretrainError(
            "The torch backend trains on one device only here: for several "
            "devices or hosts use KERAS_BACKEND=jax (keras.distribution) or, "
            "on one host, KERAS_BACKEND=tensorflow (MirroredStrategy)."
        )
    if backend == "tensorflow" and (processes > 1 or options.model_parallel > 1):
        raise PretrainError(
            "--num-processes and --model-parallel need KERAS_BACKEND=jax: Keras "
            "cannot fit() under TensorFlow's MultiWorkerMirroredStrategy, and "
            "its model parallelism is keras.distribution's, on JAX."
        )
    if backend == "jax":
        layout = _jax_layout(options, address, processes, process_id)
    elif backend == "tensorflow":
        layout = _tensorflow_layout(options)
    else:
        layout = DeviceLayout(backend)
    _require_divisible(options, layout)
    return layout


def _jax_layout(options, address, processes, process_id):
    import jax

    if options.virtual_devices:
        try:
            jax.config.update("jax_num_cpu_devices", options.virtual_devices)
        except RuntimeError:
            refuse_started("--virtual-devices")
    if processes > 1:
        join_processes(jax, address, processes, process_id, options.host_timeout)
    platform = "cpu" if options.virtual_devices else None
    devices = _chosen_devices(jax.devices(platform), processes, options.devices)
    layout = DeviceLayout(
        "jax",
        devices=len(devices),
        processes=processes,
        process_index=process_id,
        model_parallel=options.model_parallel,
    )
    _require_model_parallel(options, layout)
    if len(devices) == 1:
        return layout
    names = [f"{device.platform}:{device.id}" for device in devices]
    return dataclasses.replace(layout, strategy=_jax_distribution(names, layout))


def _chosen_devices(devices, processes, per_process):
    """The first `per_process` devices of each process (all by default), in
    process order, so that a process's replicas are neighbours."""
    chosen = []
    for process in range(processes):
        local = sorted(
            (device for device in devices if device.process_index == process),
            key=lambda device: device.id,
        )
        if per_process is not None and per_process > len(local):
            raise PretrainError(
                f"--devices {per_process}: process {process} has only "
                f"{len(local)} device(s)."
            )
        chosen += local[:per_process]
    return chosen


def _require_model_parallel(options, layout):
    parallel = options.model_parallel
    if layout.devices % parallel:
        raise PretrainError(
            f"--model-parallel {parallel} must divide the {layout.devices} "
            "devices (the rest split the batch)."
        )
    if parallel > 1 and layout.processes > 1:
        raise PretrainError(
            "--model-parallel with several processes is not supported: "
            "checkpoints and the preset are written from whole weights on "
            "process 0. Use --model-parallel on one host, or data parallelism "
            "across hosts."
        )


def _jax_distribution(device_names, layout):
    from albert_mlm.models.albert_backbone import AlbertBackbone

    distribution = keras.distribution
    if layout.model_parallel == 1:
        return distribution.DataParallel(devices=device_names, auto_shard_dataset=False)
    mesh = distribution.DeviceMesh(
        (layout.replicas, layout.model_parallel),
        ("batch", "model"),
        devices=device_names,
    )
    return distribution.ModelParallel(
        layout_map=AlbertBackbone.get_layout_map(mesh),
        batch_dim_name="batch",
        auto_shard_dataset=False,
    )


def _tensorflow_layout(options):
    import tensorflow as tf

    if options.virtual_devices:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * options.virtual_devices
            )
        except RuntimeError:
            refuse_started("--virtual-devices")
        names = [device.name for device in tf.config.list_logical_devices("CPU")]
    else:
        names = [device.name for device in tf.config.list_logical_devices("GPU")]
        names = names or [tf.config.list_logical_devices("CPU")[0].name]
    if options.devices is not None:
        if options.devices > len(names):
            raise PretrainError(
                f"--devices {options.devices}: this host has only {len(names)}."
            )
        names = names[: options.devices]
    layout = DeviceLayout("tensorflow", devices=len(names))
    if len(names) == 1:
        return layout
    return dataclasses.replace(layout, strategy=tf.distribute.MirroredStrategy(names))


def _require_divisible(options, layout):
    if options.batch_size % layout.replicas:
        raise PretrainError(
            f"--batch-size {options.batch_size} must be a multiple of the "
            f"{layout.replicas} data-parallel replicas (each takes an equal part "
            "of every batch)."
        )


def single_device_copy(masked_lm, layout):
    """`masked_lm` itself on one device; else a copy of it outside the
    distribution, for what runs on process 0 alone (evaluation, saving)."""
    if layout.strategy is None:
        return masked_lm
    backbone = masked_lm.backbone
    copy = type(masked_lm)(
        type(backbone).from_config(backbone.get_config()), masked_lm.preprocessor
    )
    copy.set_weights(masked_lm.get_weights())
    return copy


def weights_digest(model):
    """A short hash of `model`'s weights: equal on every process of a run
    whose replicas agree, which each process logs at the end."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def require_shardable(config, layout):
    """Refuses a backbone (its `config` dict) whose weights
    `AlbertBackbone.get_layout_map` cannot split evenly over this layout's
    mesh: the model axis splits the vocabulary, the heads, the hidden and
    the feed-forward sizes; the batch axis splits the embedding and the
    hidden sizes."""
    if layout.model_parallel == 1:
        return
    axes = {"model": layout.model_parallel, "batch": layout.replicas}
    dimensions = [
        ("vocabulary_size", "model"),
        ("num_heads", "model"),
        ("hidden_dim", "model"),
        ("intermediate_dim", "model"),
        ("embedding_dim", "batch"),
        ("hidden_dim", "batch"),
    ]
    for name, axis in dimensions:
        if config[name] % axes[axis]:
            raise PretrainError(
                f"--model-parallel {layout.model_parallel}: the model's "
                f"{name} ({config[name]}) must be a multiple of the {axis} "
                f"axis of the device mesh ({axes[axis]} devices)."
            )
