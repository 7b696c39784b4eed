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
unfinished.
"""

import dataclasses
import json
import math
import os
import shutil

import keras

from albert_mlm.architectures import PRETRAINING_ARCHITECTURES
from albert_mlm.models.albert_backbone import AlbertBackbone
from albert_mlm.models.albert_masked_lm import AlbertMaskedLM
from albert_mlm.presets.saving import save_task
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor
from albert_mlm.text.albert_tokenizer import AlbertTokenizer
from albert_mlm.training.checkpoints import (
    Checkpoints,
    Interrupted,
    NotFinite,
    StepProgress,
    StopOnInterrupt,
    latest_checkpoint,
)
from albert_mlm.training.corpus import CorpusError, corpus_files, split_lines
from albert_mlm.training.evaluation import evaluate_masked_lm, token_counts
from albert_mlm.training.training_curve import plot_training_curve
from albert_mlm.training.vocabulary import train_vocabulary

CHECKPOINT_DIR = "checkpoints"
LOG_FILE = "training_log.csv"
CURVE_FILE = "training_curve.png"
OPTIONS_FILE = "pretraining.json"
# A training curve should show this many points, however short the run.
_CURVE_POINTS = 20
# Fewer held-out lines than this give accuracy figures too noisy to compare.
_FEW_HELD_OUT_LINES = 100


class PretrainError(RuntimeError):
    """A pretraining failure with a one-line, actionable message."""


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


def _build_masked_lm(options, files, log):
    """The model and preprocessor: fresh, from --preset, or saved by a run."""
    if options.resume or options.preset:
        source = options.out if options.resume else options.preset
        log(f"Model and vocabulary: from {source}.")
        return AlbertMaskedLM.from_preset(
            source, sequence_length=options.sequence_length, dtype=options.dtype
        )
    if options.config:  # Read first: a bad file fails before minutes of work.
        architecture = _read_config(options.config)
    else:
        architecture = dict(PRETRAINING_ARCHITECTURES[options.architecture])
    if options.vocab:
        tokenizer = AlbertTokenizer(options.vocab)
        log(f"Vocabulary: {tokenizer.vocabulary_size()} pieces from {options.vocab}.")
    else:
        log(f"Vocabulary: training {options.vocab_size} SentencePiece pieces...")
        tokenizer = AlbertTokenizer(train_vocabulary(files, options.vocab_size))
    architecture["vocabulary_size"] = tokenizer.vocabulary_size()
    architecture["max_sequence_length"] = max(
        architecture.get("max_sequence_length", 512), options.sequence_length
    )
    try:
        backbone = AlbertBackbone(**architecture, dtype=options.dtype)
    except TypeError as error:
        raise PretrainError(
            f"--config {options.config!r} does not describe an AlbertBackbone: {error}"
        ) from None
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=options.sequence_length,
        mask_selection_length=max(1, math.ceil(options.sequence_length * 0.15)),
    )
    return AlbertMaskedLM(backbone, preprocessor)


def _read_config(path):
    """The `AlbertBackbone` arguments in the JSON file `--config` names."""
    try:
        with open(path, encoding="utf-8") as file:
            architecture = json.load(file)
    except OSError as error:
        raise PretrainError(
            f"Cannot read --config {path!r}: {error.strerror}."
        ) from None
    except (ValueError, RecursionError) as error:
        raise PretrainError(
            f"--config {path!r} is not valid JSON ({type(error).__name__}: "
            f"{str(error)[:100]})."
        ) from None
    if not isinstance(architecture, dict):
        raise PretrainError(
            f"--config {path!r} must hold a JSON object of AlbertBackbone "
            f"arguments. Received a {type(architecture).__name__}."
        )
    return architecture


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
    if int(keras.ops.convert_to_numpy(masked_lm.optimizer.iterations)) != step:
        raise PretrainError(
            f"Checkpoint {path!r} holds the optimizer state of step "
            f"{int(keras.ops.convert_to_numpy(masked_lm.optimizer.iterations))}, "
            f"not {step}; it does not belong to this run."
        )
    return step


def _training_batches(train_lines, preprocessor, options):
    """The endless, reproducible stream of masked training batches, and the
    number of steps to train: `steps`, or `epochs` passes over the corpus."""
    if next(iter(train_lines), None) is None:
        raise CorpusError("The corpus has too few lines to train on; add text.")
    total_steps = options.steps
    if not total_steps:
        per_pass = train_lines.batch(options.batch_size).reduce(0, lambda n, _: n + 1)
        total_steps = (options.epochs or 1) * int(per_pass)
    batches = train_lines.shuffle(10_000, seed=options.seed).batch(options.batch_size)
    return _masked(batches.repeat(), preprocessor, options.seed), total_steps


def _masked(batches, preprocessor, seed):
    """Batches masked with seeds (`seed`, batch number): the same masks in
    every run, so a resumed run sees the batches an unbroken one would, and
    the map may run in parallel."""
    import tensorflow as tf

    def mask(index, texts):
        return preprocessor(texts, seed=tf.stack([tf.constant(seed, "int64"), index]))

    return batches.enumerate().map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def _interval(checkpoint_every, total_steps):
    """Steps between checkpoints (and training-log rows): `checkpoint_every`,
    or fewer in a short run, so that its curve has `_CURVE_POINTS` points."""
    return max(1, min(checkpoint_every, math.ceil(total_steps / _CURVE_POINTS)))


def _describe_split(train_lines, held_out_lines, total_steps, options, log):
    held_out = int(held_out_lines.reduce(0, lambda n, _: n + 1))
    log(
        f"Corpus: {int(train_lines.reduce(0, lambda n, _: n + 1)):,} training "
        f"lines, {held_out:,} held out (every {options.holdout_every}th line); "
        f"{total_steps:,} steps."
    )
    if held_out < _FEW_HELD_OUT_LINES:
        log(
            f"Warning: only {held_out} held-out lines, so the held-out accuracy "
            "will be noisy; add text or lower --holdout-every."
        )


def _held_out_batches(held_out_lines, preprocessor, options):
    """Held-out batches, masked once (with their own seeds) and cached."""
    import tensorflow as tf

    batches = held_out_lines.batch(options.batch_size)
    held_out = (
        _masked(batches, preprocessor, options.seed + 1)
        .take(options.evaluation_batches)
        .cache()
    )
    count = int(held_out.reduce(0, lambda n, _: n + 1))  # Fills the cache.
    if not count:
        raise CorpusError("The corpus has too few lines to hold any out; add text.")
    return held_out.apply(tf.data.experimental.assert_cardinality(count))


def pretrain(options, log=print):
    """Run a pretraining job; returns the held-out evaluation dict."""
    keras.utils.set_random_seed(options.seed)
    files = corpus_files(options.corpus)
    _prepare_output(options)
    masked_lm = _build_masked_lm(options, files, log)
    backbone = masked_lm.backbone
    log(
        f"Model: {backbone.count_params():,} parameters ({backbone.num_layers} "
        f"layers, {backbone.num_groups} group(s), hidden {backbone.hidden_dim}), "
        f"sequence length {masked_lm.preprocessor.sequence_length}, "
        f"batch {options.batch_size}."
    )
    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    if not options.resume:
        # The untrained model and its vocabulary make `--resume` possible.
        save_task(masked_lm, options.out)
        with open(os.path.join(options.out, OPTIONS_FILE), "w") as file:
            json.dump(dataclasses.asdict(options), file, indent=2)
        os.makedirs(checkpoints, exist_ok=True)
    with StopOnInterrupt() as interrupt:
        try:
            return _train_evaluate_save(masked_lm, files, options, log, interrupt)
        except (KeyboardInterrupt, Interrupted):
            log("")  # End the progress bar's line.
            raise PretrainError(
                "Interrupted. Rerun the same command with --resume to continue "
                f"from the last checkpoint in {checkpoints!r} (or from the start, "
                "if none was written yet)."
            ) from None


def _train_evaluate_save(masked_lm, files, options, log, interrupt):
    import tensorflow as tf

    checkpoints = os.path.join(options.out, CHECKPOINT_DIR)
    preprocessor = masked_lm.preprocessor
    train_lines, held_out_lines = split_lines(files, options.holdout_every)
    train, total_steps = _training_batches(train_lines, preprocessor, options)
    held_out = _held_out_batches(held_out_lines, preprocessor, options)
    _describe_split(train_lines, held_out_lines, total_steps, options, log)

    masked_lm.compile(
        optimizer=keras.optimizers.Adam(options.learning_rate, clipnorm=1.0)
    )
    start_step = 0
    if options.resume:
        start_step = _restore(masked_lm, checkpoints)
        # The restored optimizer state holds the old rate; the command wins.
        masked_lm.optimizer.learning_rate = options.learning_rate
        log(f"Resuming from step {start_step} of {total_steps}.")
    steps_per_epoch = _interval(options.checkpoint_every, total_steps)
    initial_epoch = start_step // steps_per_epoch
    epochs = initial_epoch + math.ceil(
        max(total_steps - start_step, 0) / steps_per_epoch
    )
    callbacks = [
        StepProgress(steps_per_epoch, total_steps),
        Checkpoints(checkpoints, start_step, total_steps),
        keras.callbacks.CSVLogger(
            os.path.join(options.out, LOG_FILE), append=options.resume
        ),
        interrupt,
    ]
    interrupt.check()
    try:
        if epochs > initial_epoch:
            masked_lm.fit(
                train.skip(start_step).prefetch(tf.data.AUTOTUNE),
                initial_epoch=initial_epoch,
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                validation_data=held_out,
                callbacks=callbacks,
                verbose=1 if log is print else 0,
            )
    except NotFinite as error:
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

    interrupt.check()
    counts = token_counts(preprocessor.tokenizer, train_lines.take(200_000))
    results = evaluate_masked_lm(masked_lm, held_out, counts)
    interrupt.check()
    metadata = {
        "pretraining": {
            "corpus": [os.path.basename(path) for path in files],
            "held_out": f"every {options.holdout_every}th line",
            "steps": max(start_step, total_steps),
            **{key: round(float(value), 4) for key, value in results.items()},
        }
    }
    save_task(masked_lm, options.out, extra_metadata=metadata)
    shutil.rmtree(checkpoints, ignore_errors=True)
    plot_training_curve(
        os.path.join(options.out, LOG_FILE),
        os.path.join(options.out, CURVE_FILE),
        steps_per_epoch,
    )
    return results
