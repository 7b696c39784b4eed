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
import math
import os
import shutil
import time

import keras

from albert_mlm.datasets.corpus import corpus_files
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
from albert_mlm.training.devices import (
    require_shardable,
    single_device_copy,
    start_devices,
    weights_digest,
)
from albert_mlm.training.evaluation import (
    evaluate_masked_lm,
    evaluate_sentence_order,
    token_counts,
)
from albert_mlm.training.hosts import require_same_settings
from albert_mlm.training.pretraining_data import (
    pretraining_data,
    token_masking_batches,
)
from albert_mlm.training.pretraining_model import PretrainError, build_model
from albert_mlm.training.recipes import make_optimizer, resolved, warmup_steps
from albert_mlm.training.run_directory import (
    CHECKPOINT_DIR,
    CURVE_FILE,
    LOG_FILE,
    prepare_output,
    record_options,
    require_same_replicas,
    require_shared_directory,
    restore_checkpoint,
    run_metadata,
    saved_backbone_config,
)
from albert_mlm.training.training_curve import plot_training_curve

# A training curve should show this many points, however short the run.
_CURVE_POINTS = 20
# Fewer held-out lines than this give accuracy figures too noisy to compare.
_FEW_HELD_OUT_LINES = 100


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


def _describe_data(data, options, log, layout):
    training, held_out = data.line_counts
    log(
        f"Corpus: {training:,} training lines, {held_out:,} "
        f"held-out lines (every {options.holdout_every}th {data.unit}); "
        f"{data.total_steps:,} steps."
    )
    if layout.replicas > 1:
        log(
            f"This process reads and tokenizes {data.local_lines:,} of the "
            f"{training:,} training lines: the share of replica(s) "
            f"{list(layout.local_replicas)} of {layout.replicas}."
        )
    if held_out < _FEW_HELD_OUT_LINES:
        log(
            f"Warning: only {held_out} held-out lines, so the held-out accuracy "
            "will be noisy; add text or lower --holdout-every."
        )


def pretrain(options, log=print):
    """Run a pretraining job; returns the held-out evaluation dict (`None`
    on the processes other than process 0 of a multi-host run)."""
    started = time.monotonic()
    options = resolved(options)
    layout = start_devices(options)  # First: it must precede any computation.
    keras.utils.set_random_seed(options.seed)
    files = corpus_files(options.corpus)
    require_same_settings(layout, options, files)
    if not layout.is_chief:
        log = _process_log(layout.process_index, log)
    masked_lm = _shared_model(options, files, log, layout)
    backbone = masked_lm.backbone
    log(
        f"Model: {backbone.count_params():,} parameters ({backbone.num_layers} "
        f"layers, {backbone.num_groups} group(s), hidden {backbone.hidden_dim}), "
        f"sequence length {masked_lm.preprocessor.sequence_length}, "
        f"batch {options.batch_size}; recipe {options.recipe} (packing "
        f"{options.packing}, {options.mask_strategy} masking, sentence order "
        f"{options.sentence_order}, {options.optimizer}); {layout.summary()}."
    )
    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    with StopOnInterrupt() as interrupt:
        try:
            deadline = None
            if options.max_minutes is not None:
                deadline = started + 60 * options.max_minutes
            return _train_evaluate_save(
                masked_lm, files, options, log, interrupt, deadline, layout
            )
        except (KeyboardInterrupt, Interrupted):
            log("")  # End the progress bar's line.
            raise PretrainError(
                "Interrupted. Rerun the same command with --resume to continue "
                f"from the last checkpoint in {checkpoints!r} (or from the start, "
                "if none was written yet)."
            ) from None


def _process_log(process_index, log):
    """The log of a process other than process 0: its lines are marked."""

    def marked(message):
        if message:
            log(f"[process {process_index}] {message}")

    return marked


def _shared_model(options, files, log, layout):
    """The model every process starts from. Process 0 builds it (training
    the vocabulary) and saves it untrained, which makes `--resume` possible;
    under a distribution every process then loads that saved model into the
    layout's scope, all at once."""
    if layout.strategy is None:  # One device.
        prepare_output(options)
        masked_lm = build_model(options, files, log)
        if not options.resume:
            _save_untrained(masked_lm, options.out)
        return masked_lm
    if layout.is_chief:
        prepare_output(options)
        if not options.resume:
            _save_untrained(build_model(options, files, log), options.out)
    layout.barrier("albert_mlm: the untrained model is saved")
    require_shared_directory(options.out)
    require_shardable(saved_backbone_config(options.out), layout)
    # Equal initial values on every process (the saved weights replace them).
    keras.utils.set_random_seed(options.seed)
    with layout.scope():
        return build_model(dataclasses.replace(options, resume=True), files, log)


def _save_untrained(masked_lm, out):
    save_task(masked_lm, out)
    os.makedirs(os.path.join(out, CHECKPOINT_DIR), exist_ok=True)


def _train_evaluate_save(masked_lm, files, options, log, interrupt, deadline, layout):
    """The run once its model is built: train (from the last checkpoint, with
    `--resume`), evaluate on the held-out text, save the preset and its curve."""
    sentence_order = options.sentence_order == "on"
    data = pretraining_data(
        options, files, masked_lm.preprocessor, sentence_order, layout
    )
    total_steps = data.total_steps
    _describe_data(data, options, log, layout)
    if options.resume:
        require_same_replicas(options, layout.replicas)
    elif layout.is_chief:  # Every choice made, the warm-up's included.
        record_options(options, total_steps, layout.replicas)
    with layout.scope():
        masked_lm.compile(optimizer=make_optimizer(options, total_steps))
        start_step = 0
        if options.resume:
            start_step = _resume(masked_lm, options, total_steps, log, layout)
        steps_per_epoch = _interval(options.checkpoint_every, total_steps)
        steps = StepCounter(start_step, total_steps)
        stop = Deadline(steps, deadline, layout.gather)
        callbacks = _callbacks(options, layout, steps, stop, steps_per_epoch, interrupt)
        interrupt.check()
        _fit(masked_lm, data, options, log, start_step, steps_per_epoch, callbacks)
    interrupt.check()
    layout.barrier("albert_mlm: training ended")
    if layout.processes > 1:
        log(f"Trained weights at step {steps.step}: {weights_digest(masked_lm)}.")
    if not layout.is_chief:
        layout.barrier("albert_mlm: the preset is saved")
        return None
    copy = single_device_copy(masked_lm, layout)
    results = _evaluate_and_save(copy, data, files, options, log, stop, layout)
    layout.barrier("albert_mlm: the preset is saved")
    return results


def _callbacks(options, layout, steps, stop, steps_per_epoch, interrupt):
    """Every process counts steps and stops together; process 0 also shows
    progress, writes the checkpoints and the training log."""
    callbacks = [steps, StopOnNotFinite(steps), stop]
    if layout.is_chief:
        checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
        callbacks = [
            StepProgress(steps_per_epoch, steps.total_steps),
            *callbacks,  # The deadline before the writer, which then saves.
            CheckpointWriter(checkpoints, steps, options.checkpoint_every),
            keras.callbacks.CSVLogger(
                os.path.join(options.out, LOG_FILE), append=options.resume
            ),
        ]
    return [*callbacks, interrupt]


def _evaluate_and_save(masked_lm, data, files, options, log, stop, layout):
    """Process 0's end of a run: evaluate, save the preset and the curve."""
    total_steps, steps = data.total_steps, stop.steps
    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    sentence_order = options.sentence_order == "on"
    steps_per_epoch = _interval(options.checkpoint_every, total_steps)
    if stop.out_of_time:
        log(
            f"Stopped at step {steps.step} of {total_steps}: --max-minutes "
            f"{options.max_minutes:g} passed. The checkpoint is kept; rerun with "
            "--resume to continue."
        )
    results = _evaluate(masked_lm, data, options, sentence_order)
    metadata = run_metadata(files, options, data, steps.step, results, layout)
    save_task(masked_lm, options.out, extra_metadata=metadata)
    if not stop.out_of_time:
        shutil.rmtree(checkpoints, ignore_errors=True)
    plot_training_curve(
        os.path.join(options.out, LOG_FILE),
        os.path.join(options.out, CURVE_FILE),
        steps_per_epoch,
    )
    return results


def _resume(masked_lm, options, total_steps, log, layout):
    """Restores the last checkpoint into the compiled model; its step."""
    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    start_step = restore_checkpoint(masked_lm, checkpoints, layout)
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
