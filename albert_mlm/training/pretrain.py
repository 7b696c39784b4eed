"""`albert-mlm pretrain`: a masked-LM pretraining run from raw text files.

Trains (or reuses) a SentencePiece vocabulary, builds the model, streams the
corpus through dynamic masking, checkpoints every `checkpoint_every` steps,
resumes from the last checkpoint, and saves a KerasHub-format preset whose
metadata holds the held-out accuracy next to a unigram-frequency baseline.

Runs are reproducible step by step: with the same `seed`, batch `n` is the
same in every run (the shuffled, masked stream is drawn in one order and a
resumed run skips the batches already trained on), so a run killed at any
moment and resumed with `--resume` ends with the weights an uninterrupted run
has at the same step. Exactly so without dropout, as in every built-in
architecture: Keras does not save the dropout layers' random state, so with
dropout a resumed run draws different (equally random) dropout masks. A
checkpoint (weights and optimizer state) is written to a temporary name and
renamed, so a crash never leaves a torn one; a loss or weight that stops
being finite ends the run before it is checkpointed.

Output directory layout: the preset files, `pretraining.json`,
`training_log.csv` (one row per `checkpoint_every` steps),
`training_curve.png` (with matplotlib), and `checkpoints/` while a run is
unfinished. A run given `max_minutes` stops at the first log row past them,
saves the preset evaluated as far as it got and keeps its checkpoint, so a
long run can be trained in sessions of a set length, each ending in a preset.
"""

import dataclasses
import json
import math
import os
import shutil
import time

import keras

from albert_mlm.datasets.corpus import corpus_files
from albert_mlm.datasets.corpus_documents import check_document_format
from albert_mlm.presets.saving import save_task
from albert_mlm.training.checkpoints import (
    CheckpointWriter,
    Deadline,
    Interrupted,
    NotFinite,
    StepCounter,
    StepProgress,
    StopOnInterrupt,
    StopOnNotFinite,
    latest_checkpoint,
)
from albert_mlm.training.evaluation import (
    evaluate_masked_lm,
    evaluate_sentence_order,
    token_counts,
)
from albert_mlm.training.pretraining_data import (
    pretraining_data,
    token_masking_batches,
)
from albert_mlm.training.pretraining_model import PretrainError, build_model
from albert_mlm.training.recipes import make_optimizer, resolved, warmup_steps
from albert_mlm.training.training_curve import plot_training_curve

CHECKPOINT_DIR = "checkpoints"
LOG_FILE = "training_log.csv"
CURVE_FILE = "training_curve.png"
OPTIONS_FILE = "pretraining.json"
# A training curve should show this many points, however short the run.
_CURVE_POINTS = 20
# Fewer held-out lines than this give accuracy figures too noisy to compare.
_FEW_HELD_OUT_LINES = 100


def _prepare_output(options):
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


def _restore(masked_lm, checkpoints):
    """Load the newest checkpoint (weights and optimizer); its step, or 0."""
    step, path = latest_checkpoint(checkpoints)
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


def _interval(checkpoint_every, total_steps):
    """Steps between training-log rows: `checkpoint_every`, or in a short run
    its largest divisor that gives the curve `_CURVE_POINTS` points (so that
    checkpoints still fall on interval ends)."""
    wanted = max(1, math.ceil(total_steps / _CURVE_POINTS))
    return max(
        divisor
        for divisor in range(1, min(checkpoint_every, wanted) + 1)
        if checkpoint_every % divisor == 0
    )


def _describe_data(data, options, log):
    training, held_out = data.line_counts
    log(
        f"Corpus: {training:,} training lines, {held_out:,} "
        f"held-out lines (every {options.holdout_every}th {data.unit}); "
        f"{data.total_steps:,} steps."
    )
    if held_out < _FEW_HELD_OUT_LINES:
        log(
            f"Warning: only {held_out} held-out lines, so the held-out accuracy "
            "will be noisy; add text or lower --holdout-every."
        )


def pretrain(options, log=print):
    """Run a pretraining job; returns the held-out evaluation dict."""
    started = time.monotonic()
    options = resolved(options)
    keras.utils.set_random_seed(options.seed)
    files = corpus_files(options.corpus)
    if options.packing == "documents":
        check_document_format(files)  # Warns about a likely wrong format.
    _prepare_output(options)
    masked_lm = build_model(options, files, log)
    backbone = masked_lm.backbone
    log(
        f"Model: {backbone.count_params():,} parameters ({backbone.num_layers} "
        f"layers, {backbone.num_groups} group(s), hidden {backbone.hidden_dim}), "
        f"sequence length {masked_lm.preprocessor.sequence_length}, "
        f"batch {options.batch_size}; recipe {options.recipe} (packing "
        f"{options.packing}, {options.mask_strategy} masking, sentence order "
        f"{options.sentence_order}, {options.optimizer})."
    )
    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    if not options.resume:
        # The untrained model and its vocabulary make `--resume` possible.
        save_task(masked_lm, options.out)
        os.makedirs(checkpoints, exist_ok=True)
    with StopOnInterrupt() as interrupt:
        try:
            deadline = None
            if options.max_minutes is not None:
                deadline = started + 60 * options.max_minutes
            return _train_evaluate_save(
                masked_lm, files, options, log, interrupt, deadline
            )
        except (KeyboardInterrupt, Interrupted):
            log("")  # End the progress bar's line.
            raise PretrainError(
                "Interrupted. Rerun the same command with --resume to continue "
                f"from the last checkpoint in {checkpoints!r} (or from the start, "
                "if none was written yet)."
            ) from None


def _train_evaluate_save(masked_lm, files, options, log, interrupt, deadline):
    """The run once its model is built: train (from the last checkpoint, with
    `--resume`), evaluate on the held-out text, save the preset and its curve."""
    sentence_order = options.sentence_order == "on"
    data = pretraining_data(options, files, masked_lm.preprocessor, sentence_order)
    total_steps = data.total_steps
    _describe_data(data, options, log)
    if not options.resume:  # Every choice made, the warm-up's included.
        _record_options(options, total_steps)
    masked_lm.compile(optimizer=make_optimizer(options, total_steps))
    start_step = _resume(masked_lm, options, total_steps, log) if options.resume else 0
    steps_per_epoch = _interval(options.checkpoint_every, total_steps)
    steps = StepCounter(start_step, total_steps)
    stop = Deadline(steps, deadline)
    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    callbacks = [
        StepProgress(steps_per_epoch, total_steps),
        steps,
        StopOnNotFinite(steps),
        stop,  # Before the writer, which checkpoints where the run stops.
        CheckpointWriter(checkpoints, steps, options.checkpoint_every),
        keras.callbacks.CSVLogger(
            os.path.join(options.out, LOG_FILE), append=options.resume
        ),
        interrupt,
    ]
    interrupt.check()
    _fit(masked_lm, data, options, log, start_step, steps_per_epoch, callbacks)
    interrupt.check()
    if stop.out_of_time:
        log(
            f"Stopped at step {steps.step} of {total_steps}: --max-minutes "
            f"{options.max_minutes:g} passed. The checkpoint is kept; rerun with "
            "--resume to continue."
        )
    results = _evaluate(masked_lm, data, options, sentence_order)
    interrupt.check()
    metadata = _metadata(files, options, data, steps.step, results)
    save_task(masked_lm, options.out, extra_metadata=metadata)
    if not stop.out_of_time:
        shutil.rmtree(checkpoints, ignore_errors=True)
    plot_training_curve(
        os.path.join(options.out, LOG_FILE),
        os.path.join(options.out, CURVE_FILE),
        steps_per_epoch,
    )
    return results


def _record_options(options, total_steps):
    """Writes `pretraining.json`: the options, the warm-up's steps included."""
    warmup = warmup_steps(options, total_steps)
    with open(os.path.join(options.out, OPTIONS_FILE), "w") as file:
        record = dataclasses.replace(options, warmup_steps=warmup)
        json.dump(dataclasses.asdict(record), file, indent=2)


def _resume(masked_lm, options, total_steps, log):
    """Restores the last checkpoint into the compiled model; its step."""
    start_step = _restore(masked_lm, os.path.join(options.out, CHECKPOINT_DIR))
    if warmup_steps(options, total_steps) is None:
        # The restored state holds the old rate; the command wins.
        masked_lm.optimizer.learning_rate = options.learning_rate
    log(f"Resuming from step {start_step} of {total_steps}.")
    return start_step


def _fit(masked_lm, data, options, log, start_step, steps_per_epoch, callbacks):
    """Trains from `start_step` to the end or a stop; a NaN or infinite loss or
    weight becomes a `PretrainError` naming the step and the checkpoint kept."""
    import tensorflow as tf

    initial_epoch = start_step // steps_per_epoch
    epochs = initial_epoch + math.ceil(
        max(data.total_steps - start_step, 0) / steps_per_epoch
    )
    if epochs <= initial_epoch:
        return
    try:
        masked_lm.fit(
            data.train.skip(start_step).prefetch(tf.data.AUTOTUNE),
            initial_epoch=initial_epoch,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            validation_data=data.validation,
            callbacks=callbacks,
            verbose=1 if log is print else 0,
        )
    except NotFinite as error:
        checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
        last_step, _ = latest_checkpoint(checkpoints)
        kept = (
            f"the last good checkpoint (step {last_step}) is in {checkpoints!r}"
            if last_step
            else f"no checkpoint was written yet; {options.out!r} holds the "
            "untrained model"
        )
        raise PretrainError(
            f"The {error.what} became NaN or infinite at step {error.step}; "
            f"training stopped and {kept}. Lower --learning-rate and rerun "
            "with --resume."
        ) from None


def _evaluate(masked_lm, data, options, sentence_order):
    """Held-out masked-token accuracy against the unigram baseline, and the
    sentence-order accuracy when the model learns it."""
    preprocessor = masked_lm.preprocessor
    counts = token_counts(preprocessor.tokenizer, data.train_lines.take(200_000))
    held_out = token_masking_batches(data.held_out_lines, preprocessor, options)
    results = evaluate_masked_lm(masked_lm, held_out, counts)
    if sentence_order:
        accuracy = evaluate_sentence_order(masked_lm, data.validation)
        if accuracy is not None:
            results["sentence_order_accuracy"] = accuracy
    return results


def _metadata(files, options, data, steps, results):
    """The preset's `pretraining` metadata: the run and its evaluation."""
    return {
        "pretraining": {
            "corpus": [os.path.basename(path) for path in files],
            "recipe": options.recipe,
            "held_out": f"every {options.holdout_every}th {data.unit}",
            "steps": steps,
            "warmup_steps": warmup_steps(options, data.total_steps),
            **{key: round(float(value), 4) for key, value in results.items()},
        }
    }
