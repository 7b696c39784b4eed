"""The output directory of a pretraining run (`--out`): made ready, shared
by every process, its options recorded, its checkpoint restored.

Layout: the preset files, `pretraining.json` (the options, the warm-up's
steps and the data-parallel replicas included), `training_log.csv`,
`training_curve.png`, and `checkpoints/` while a run is unfinished. In a run
of several processes only process 0 writes here; the others read the
untrained model and the checkpoints, so `--out` must be a directory every
process sees (a shared filesystem).

>>> import tempfile
>>> from albert_mlm.training.pretrain_options import PretrainOptions
>>> options = PretrainOptions(corpus=["unused"], out=tempfile.mkdtemp(), resume=True)
>>> prepare_output(options)  # doctest: +ELLIPSIS
Traceback (most recent call last):
albert_mlm.training.pretraining_model.PretrainError: Nothing to resume: ...
"""

import dataclasses
import json
import os

import keras

from albert_mlm.training.checkpoints import latest_checkpoint
from albert_mlm.training.pretraining_model import PretrainError
from albert_mlm.training.recipes import warmup_steps

CHECKPOINT_DIR = "checkpoints"
LOG_FILE = "training_log.csv"
CURVE_FILE = "training_curve.png"
OPTIONS_FILE = "pretraining.json"


def prepare_output(options):
    """Refuses an `--out` that is not empty (without `--resume`), has
    nothing to resume (with it), or cannot be written."""
    out = options.out
    checkpoints = os.path.join(out, CHECKPOINT_DIR)
    if options.resume:
        if not os.path.isdir(checkpoints):
            raise PretrainError(
                f"Nothing to resume: {checkpoints!r} does not exist (the run "
                "finished, or never started). Run without --resume to start."
            )
        return
    if os.path.isdir(out) and os.listdir(out):
        raise PretrainError(
            f"--out {out!r} exists and is not empty; pass --resume to continue a "
            "run there, or choose a new directory."
        )
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".write-test")
        open(probe, "w").close()
        os.remove(probe)
    except OSError as error:
        raise PretrainError(
            f"Cannot write to --out {out!r}: {error.strerror}."
        ) from None


def require_shared_directory(out):
    """Refuses to go on when process 0's `--out` cannot be seen here."""
    if not os.path.isdir(os.path.join(out, CHECKPOINT_DIR)):
        raise PretrainError(
            f"--out {out!r} holds no checkpoints/ folder here, but process 0 "
            "made one: every process must see the same --out (a shared "
            "filesystem)."
        )


def saved_backbone_config(out):
    """The `AlbertBackbone` arguments of the model saved in `out`."""
    with open(os.path.join(out, "config.json"), encoding="utf-8") as file:
        return json.load(file)["config"]


def record_options(options, total_steps, replicas):
    """Writes `pretraining.json`: the options, the warm-up's steps and the
    data-parallel replicas (which the batches depend on) included."""
    warmup = warmup_steps(options, total_steps)
    record = dataclasses.asdict(dataclasses.replace(options, warmup_steps=warmup))
    record["data_parallel_replicas"] = replicas
    with open(os.path.join(options.out, OPTIONS_FILE), "w") as file:
        json.dump(record, file, indent=2)


def run_metadata(files, options, data, steps, results, layout):
    """The preset's `pretraining` metadata: the run, its devices and
    processes, and its evaluation."""
    return {
        "pretraining": {
            "corpus": [os.path.basename(path) for path in files],
            "recipe": options.recipe,
            "layout": layout.describe(),
            "held_out": f"every {options.holdout_every}th {data.unit}",
            "steps": steps,
            "warmup_steps": warmup_steps(options, data.total_steps),
            **{key: round(float(value), 4) for key, value in results.items()},
        }
    }


def require_same_replicas(options, replicas):
    """Refuses to resume a run on another number of data-parallel replicas:
    each replica reads its own share of the corpus, so the batches would
    not be the ones the run trained on. (Another spread of the same
    replicas over processes resumes exactly.)"""
    path = os.path.join(options.out, OPTIONS_FILE)
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as file:
        recorded = json.load(file).get("data_parallel_replicas", 1)
    if recorded != replicas:
        raise PretrainError(
            f"--resume: the run in {options.out!r} trained on {recorded} "
            f"data-parallel replica(s), this one has {replicas}; the batches "
            f"differ with the replicas, so resume it on {recorded} (devices / "
            "--model-parallel, over any number of processes)."
        )


def restore_checkpoint(masked_lm, checkpoints, layout=None):
    """Loads the newest checkpoint (weights and optimizer) into the compiled
    model; its step, or 0. Every process of `layout` must find the same."""
    step, path = latest_checkpoint(checkpoints)
    if layout is not None:
        steps = layout.gather(step)
        if len(set(steps)) > 1:
            raise PretrainError(
                f"The processes find different checkpoints in {checkpoints!r} "
                f"(steps {steps}): every process must see the same --out."
            )
    if layout is None or layout.is_chief:
        for name in os.listdir(checkpoints):
            if name.startswith("partial-"):  # Torn by a crash mid-write.
                os.remove(os.path.join(checkpoints, name))
    if path is None:
        return 0
    masked_lm.optimizer.build(masked_lm.trainable_variables)
    try:
        masked_lm.load_weights(path)
    except Exception as error:
        raise PretrainError(
            f"Checkpoint {path!r} cannot be loaded ({type(error).__name__}: "
            f"{error}); delete it to resume from the one before, if any."
        ) from None
    # `iterations` counts updates: one per `gradient_accumulation_steps` steps.
    accumulation = masked_lm.optimizer.gradient_accumulation_steps or 1
    updates = int(keras.ops.convert_to_numpy(masked_lm.optimizer.iterations))
    if updates != step // accumulation:
        raise PretrainError(
            f"Checkpoint {path!r} holds the optimizer state of {updates} updates, "
            f"not {step // accumulation} (step {step}); it does not belong to "
            "this run."
        )
    return step
