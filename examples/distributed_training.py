"""Data-parallel masked-LM training on raw text files, on one host or several.

Every non-empty line of the files is one example. `--batch-size` is the global
batch: it must be a multiple of the number of devices (of all hosts), and each
device gets `batch_size / devices` rows of every batch. JAX uses
`keras.distribution.DataParallel` (or `ModelParallel` with
`AlbertBackbone.get_layout_map` when `--model-parallel N` is given);
TensorFlow uses `tf.distribute.MirroredStrategy`, or
`MultiWorkerMirroredStrategy` when `TF_CONFIG` is set.

One host. Every local accelerator is used; on a CPU-only machine,
`--virtual-devices N` splits the CPU into N devices to try it out:

    KERAS_BACKEND=jax python examples/distributed_training.py corpus.txt \\
        --virtual-devices 2
    KERAS_BACKEND=tensorflow python examples/distributed_training.py corpus.txt \\
        --virtual-devices 2
    KERAS_BACKEND=jax python examples/distributed_training.py corpus.txt \\
        --virtual-devices 4 --model-parallel 2

Several hosts, JAX: the same command on every host, each with its own
`--process-id` (or the environment variables COORDINATOR_ADDRESS,
NUM_PROCESSES and PROCESS_ID); host 0 serves as coordinator:

    KERAS_BACKEND=jax python examples/distributed_training.py corpus.txt \\
        --coordinator-address host0:1234 --num-processes 2 --process-id 0

Several hosts, TensorFlow: the same command on every host; TF_CONFIG lists
the workers and gives this host's index. Keras 3 (3.15 included) cannot yet
`fit()` under `MultiWorkerMirroredStrategy` (keras-team/keras#20585,
tensorflow/tensorflow#72388): use JAX across hosts until it can.

    TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]},
        "task": {"type": "worker", "index": 0}}' \\
        KERAS_BACKEND=tensorflow python examples/distributed_training.py corpus.txt

Each host reads all the files; Keras hands each device its share of every
batch. The shuffle is seeded so that every host sees the same order. For
ALBERT's pretraining recipe, `albert-mlm pretrain` takes the same options and
has each host read only its share of the corpus, checkpoint and resume
(docs/pretraining_at_scale.md).
"""

import argparse
import os


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="text files, one example a line")
    parser.add_argument("--preset", default="albert_tiny_en_uncased")
    parser.add_argument("--batch-size", type=int, default=64, help="global batch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="save the trained preset here (host 0)")
    parser.add_argument(
        "--virtual-devices", type=int, help="split the CPU into this many devices"
    )
    parser.add_argument(
        "--model-parallel",
        type=int,
        default=1,
        help="JAX: devices each weight is split over (the rest split the batch)",
    )
    parser.add_argument(
        "--coordinator-address", default=os.environ.get("COORDINATOR_ADDRESS")
    )
    parser.add_argument(
        "--num-processes", type=int, default=os.environ.get("NUM_PROCESSES")
    )
    parser.add_argument("--process-id", type=int, default=os.environ.get("PROCESS_ID"))
    return parser.parse_args()


def jax_distribution(args):
    """Joins the other hosts, then lays out data (and weights) over devices."""
    import jax
    import keras

    from albert_mlm import AlbertBackbone

    if args.coordinator_address:
        jax.distributed.initialize(
            coordinator_address=args.coordinator_address,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
    devices = keras.distribution.list_devices()
    if args.model_parallel == 1:
        return keras.distribution.DataParallel(devices=devices), jax.process_index()
    mesh = keras.distribution.DeviceMesh(
        (len(devices) // args.model_parallel, args.model_parallel),
        ("batch", "model"),
        devices=devices,
    )
    distribution = keras.distribution.ModelParallel(
        layout_map=AlbertBackbone.get_layout_map(mesh), batch_dim_name="batch"
    )
    return distribution, jax.process_index()


def tensorflow_strategy(args):
    """Several workers with TF_CONFIG, else every local device."""
    import tensorflow as tf

    if "TF_CONFIG" in os.environ:
        print("Warning: Keras 3 fit() fails under MultiWorkerMirroredStrategy")
        print("(keras-team/keras#20585); use KERAS_BACKEND=jax across hosts.")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        return strategy, strategy.cluster_resolver.task_id
    if args.virtual_devices:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * args.virtual_devices,
        )
        cpus = [f"/cpu:{index}" for index in range(args.virtual_devices)]
        return tf.distribute.MirroredStrategy(cpus), 0
    return tf.distribute.MirroredStrategy(), 0


def main():
    args = parse_args()
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if args.virtual_devices and backend == "jax":
        # Read when JAX starts, so set before Keras imports it.
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "")
            + f" --xla_force_host_platform_device_count={args.virtual_devices}"
        )

    import keras
    import tensorflow as tf

    from albert_mlm import AlbertMaskedLM

    if backend == "jax":
        distribution, host = jax_distribution(args)
        scope, replicas = distribution.scope(), distribution.device_mesh.shape[0]
    elif backend == "tensorflow":
        strategy, host = tensorflow_strategy(args)
        scope, replicas = strategy.scope(), strategy.num_replicas_in_sync
    else:
        raise SystemExit("Set KERAS_BACKEND to jax or tensorflow.")
    if args.batch_size % replicas:
        raise SystemExit(
            f"--batch-size must be a multiple of the {replicas} data-parallel "
            f"devices. Received: {args.batch_size}"
        )
    print(f"{replicas} data-parallel replicas, {args.batch_size // replicas} rows each")

    # Split batches between TensorFlow workers, not files (there may be one).
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    lines = (
        tf.data.TextLineDataset(args.files)
        .filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
        .shuffle(10_000, seed=args.seed)
        # Every step needs a full global batch to split evenly.
        .batch(args.batch_size, drop_remainder=True)
        .with_options(options)
    )
    keras.utils.set_random_seed(args.seed)
    with scope:
        masked_lm = AlbertMaskedLM.from_preset(args.preset)
        masked_lm.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
        history = masked_lm.fit(lines, epochs=args.epochs, verbose=0 if host else 1)
    print(f"final loss: {history.history['loss'][-1]:.4f}")
    if args.out and host == 0:
        masked_lm.save_to_preset(args.out)
        print(f"Saved {args.out}")


if __name__ == "__main__":
    main()
