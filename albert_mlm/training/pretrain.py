"""`albert-mlm pretrain`: a masked-LM pretraining run from raw text files.

Trains (or reuses) a SentencePiece vocabulary, builds the model, streams the
corpus through dynamic masking, checkpoints every `checkpoint_every` steps
(`keras.callbacks.BackupAndRestore`), resumes from the last checkpoint, and
saves a KerasHub-format preset whose metadata holds the held-out masked-token
accuracy next to a unigram-frequency baseline.

Output directory layout: the preset files, `training_log.csv`,
`training_curve.png` (with matplotlib), and `checkpoints/` while a run is
unfinished.
"""

import dataclasses
import json
import math
import os
import shutil
import signal
import threading

import keras

from albert_mlm.architectures import PRETRAINING_ARCHITECTURES
from albert_mlm.models.albert_backbone import AlbertBackbone
from albert_mlm.models.albert_masked_lm import AlbertMaskedLM
from albert_mlm.presets.saving import save_masked_lm
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor
from albert_mlm.text.albert_tokenizer import AlbertTokenizer
from albert_mlm.training.corpus import CorpusError, corpus_files, split_lines
from albert_mlm.training.evaluation import evaluate_masked_lm, token_counts
from albert_mlm.training.training_curve import plot_training_curve
from albert_mlm.training.vocabulary import train_vocabulary

CHECKPOINT_DIR = "checkpoints"
LOG_FILE = "training_log.csv"
CURVE_FILE = "training_curve.png"
OPTIONS_FILE = "pretraining.json"


class PretrainError(RuntimeError):
    """A pretraining failure with a one-line, actionable message."""


class _Interrupted(Exception):
    """Raised between training steps after Ctrl-C."""


class _StopOnInterrupt(keras.callbacks.Callback):
    """Turns Ctrl-C into a clean stop at the end of the current step.

    A KeyboardInterrupt raised mid-step could land inside a checkpoint write
    and leave it unreadable; instead the signal only sets a flag, and training
    leaves between steps (by raising `_Interrupted`, so no validation runs on
    a half-finished epoch), with the last completed checkpoint intact. A second
    Ctrl-C interrupts at once.
    """

    def __init__(self):
        super().__init__()
        self.interrupted = False
        self._previous_handler = None

    def _handle(self, signal_number, frame):
        self.interrupted = True
        signal.signal(
            signal.SIGINT, self._previous_handler or signal.default_int_handler
        )

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._handle)

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupted:
            raise _Interrupted()

    def on_train_end(self, logs=None):
        self._restore()

    def _restore(self):
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None


@dataclasses.dataclass
class PretrainOptions:
    corpus: list
    out: str
    vocab_size: int = 8000
    vocab: str | None = None
    preset: str | None = None
    architecture: str = "tiny"
    config: str | None = None
    sequence_length: int = 128
    batch_size: int = 32
    epochs: int | None = None
    steps: int | None = None
    resume: bool = False
    dtype: str = "float32"
    learning_rate: float = 5e-4
    holdout_every: int = 20
    checkpoint_every: int = 200
    evaluation_batches: int = 50
    seed: int = 0


def _prepare_output(options):
    out = options.out
    checkpoints = os.path.join(out, CHECKPOINT_DIR)
    if options.resume:
        if not os.path.isdir(checkpoints):
            raise PretrainError(
                f"Nothing to resume: {checkpoints!r} does not exist. Run without "
                "--resume to start."
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


def _build_masked_lm(options, files):
    """The model and preprocessor: fresh, from --preset, or saved by a run."""
    if options.resume or options.preset:
        source = options.out if options.resume else options.preset
        return AlbertMaskedLM.from_preset(
            source, sequence_length=options.sequence_length, dtype=options.dtype
        )
    if options.vocab:
        tokenizer = AlbertTokenizer(options.vocab)
    else:
        tokenizer = AlbertTokenizer(train_vocabulary(files, options.vocab_size))
    if options.config:
        with open(options.config, encoding="utf-8") as file:
            architecture = json.load(file)
    else:
        architecture = dict(PRETRAINING_ARCHITECTURES[options.architecture])
    architecture["vocabulary_size"] = tokenizer.vocabulary_size()
    architecture["max_sequence_length"] = max(
        architecture.get("max_sequence_length", 512), options.sequence_length
    )
    backbone = AlbertBackbone(**architecture, dtype=options.dtype)
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=options.sequence_length,
        mask_selection_length=max(1, math.ceil(options.sequence_length * 0.15)),
    )
    return AlbertMaskedLM(backbone, preprocessor)


def pretrain(options, log=print):
    """Run a pretraining job; returns the held-out evaluation dict."""
    import tensorflow as tf

    keras.utils.set_random_seed(options.seed)
    files = corpus_files(options.corpus)
    _prepare_output(options)
    masked_lm = _build_masked_lm(options, files)
    if not options.resume:
        # The untrained model and its vocabulary make `--resume` possible.
        save_masked_lm(masked_lm, options.out)
        with open(os.path.join(options.out, OPTIONS_FILE), "w") as file:
            json.dump(dataclasses.asdict(options), file, indent=2)
    preprocessor = masked_lm.preprocessor

    train_lines, held_out_lines = split_lines(files, options.holdout_every)
    train = train_lines.shuffle(10_000, seed=options.seed)
    train = train.batch(options.batch_size).map(
        preprocessor, num_parallel_calls=tf.data.AUTOTUNE
    )
    held_out = (
        held_out_lines.batch(options.batch_size)
        .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .take(options.evaluation_batches)
        .cache()
    )
    if next(iter(held_out), None) is None:
        raise CorpusError("The corpus has too few lines to hold any out; add text.")
    steps_per_epoch, epochs = None, options.epochs or 1
    if options.steps:
        train = train.repeat()
        steps_per_epoch = min(options.steps, max(options.checkpoint_every, 1))
        epochs = math.ceil(options.steps / steps_per_epoch)

    masked_lm.compile(
        optimizer=keras.optimizers.Adam(options.learning_rate, clipnorm=1.0)
    )
    callbacks = [
        keras.callbacks.BackupAndRestore(
            os.path.join(options.out, CHECKPOINT_DIR),
            save_freq=options.checkpoint_every,
            delete_checkpoint=False,
        ),
        keras.callbacks.CSVLogger(
            os.path.join(options.out, LOG_FILE), append=options.resume
        ),
        keras.callbacks.TerminateOnNaN(),
        interrupt := _StopOnInterrupt(),
    ]
    try:
        history = masked_lm.fit(
            train.prefetch(tf.data.AUTOTUNE),
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            validation_data=held_out,
            callbacks=callbacks,
            verbose=1 if log is print else 0,
        )
    except (KeyboardInterrupt, _Interrupted):
        interrupt.interrupted = True
    finally:
        interrupt._restore()
    if interrupt.interrupted:
        raise PretrainError(
            "Interrupted. The last checkpoint is kept in "
            f"{os.path.join(options.out, CHECKPOINT_DIR)!r}; rerun the same "
            "command with --resume to continue."
        )
    losses = history.history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        raise PretrainError(
            "The loss became NaN; training stopped. The last good checkpoint is in "
            f"{os.path.join(options.out, CHECKPOINT_DIR)!r}: lower --learning-rate "
            "and rerun with --resume."
        )

    tf.random.set_seed(options.seed)  # The same held-out masks every time.
    counts = token_counts(preprocessor.tokenizer, train_lines.take(200_000))
    results = evaluate_masked_lm(masked_lm, held_out, counts)
    metadata = {
        "pretraining": {
            "corpus": [os.path.basename(path) for path in files],
            "held_out": f"every {options.holdout_every}th line",
            **{key: round(float(value), 4) for key, value in results.items()},
        }
    }
    save_masked_lm(masked_lm, options.out, extra_metadata=metadata)
    shutil.rmtree(os.path.join(options.out, CHECKPOINT_DIR), ignore_errors=True)
    plot_training_curve(
        os.path.join(options.out, LOG_FILE), os.path.join(options.out, CURVE_FILE)
    )
    return results
