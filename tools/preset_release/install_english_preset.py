"""Install a finished `albert-mlm pretrain` run as the shipped English preset,
`presets/albert_tiny_en_uncased`, with its evaluation in `metadata.json`.

    python tools/preset_release/evaluate_english_preset.py --preset new=/tmp/run \\
        --preset old=albert_tiny_en_uncased --train /tmp/english_corpus/train.txt \\
        --held-out /tmp/english_corpus/held_out.txt --json /tmp/evaluation.json
    python tools/preset_release/install_english_preset.py --run /tmp/run \\
        --evaluation /tmp/evaluation.json \\
        --corpus-stats /tmp/english_corpus/stats.json \\
        --cpu-seconds 12345

The run's pretraining preset (an `AlbertPreTrainer` whose preprocessor masks
n-grams) is saved as a masked-LM preset in float32 with single-token masking,
the preprocessor KerasHub knows, so KerasHub reads the shipped preset too.
The run's options, training log and curve are copied beside it.
"""

import argparse
import json
import pathlib
import sys

from evaluate_english_preset import PREDICTION_SLOTS, SEED, SEQUENCE_LENGTH

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PRESET = ROOT / "presets" / "albert_tiny_en_uncased"
RUN_FILES = ("pretraining.json", "training_log.csv", "training_curve.png")
HELD_OUT_KEYS = (
    "masked_tokens",
    "loss",
    "top1",
    "top5",
    "unigram_top1",
    "unigram_top5",
)


def pretraining_record(run, evaluation, corpus_stats, cpu_seconds, started_from):
    """The `"pretraining"` entry of the preset's `metadata.json`."""
    trained = json.loads((run / "metadata.json").read_text())["pretraining"]
    new, old = evaluation["new"], evaluation["old"]
    words = {
        source["source"]: source["train"]["words"] for source in corpus_stats["sources"]
    }
    held_out_words = sum(s["held_out"]["words"] for s in corpus_stats["sources"])
    held_out = new["held_out"]
    return {
        "corpus": "train.txt of tools/corpus/build_english_corpus.py",
        "corpus_words": words,
        "recipe": "albert",
        "started_from": started_from,
        "steps": trained["steps"],
        "sentence_order_accuracy": trained.get("sentence_order_accuracy"),
        "cpu_seconds": cpu_seconds,
        "held_out": (
            "held_out.txt of tools/corpus/build_english_corpus.py: every "
            f"{corpus_stats['held_out_every']}th document, {held_out_words} words; "
            f"one line per sequence of {SEQUENCE_LENGTH} tokens, single tokens "
            f"masked ({PREDICTION_SLOTS} slots), seed {SEED}"
        ),
        **{key: held_out[key] for key in HELD_OUT_KEYS},
        "cloze": {"set": "tests/data/cloze_en.json", **new["cloze"]},
        "cloze_previous_preset": old["cloze"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="the pretrain --out directory")
    parser.add_argument(
        "--evaluation", required=True,
        help="tools/preset_release/evaluate_english_preset.py --json output "
        "with 'new' and 'old'",
    )  # fmt: skip
    parser.add_argument(
        "--corpus-stats", required=True,
        help="stats.json of tools/corpus/build_english_corpus.py",
    )  # fmt: skip
    parser.add_argument(
        "--cpu-seconds", type=int, required=True,
        help="CPU time of every training stage, in seconds",
    )  # fmt: skip
    parser.add_argument(
        "--started-from", default="",
        help="what the run continued from, in words, for metadata.json",
    )  # fmt: skip
    args = parser.parse_args()

    from albert_mlm import AlbertMaskedLM
    from albert_mlm.presets.saving import save_task

    run = pathlib.Path(args.run)
    record = pretraining_record(
        run,
        json.loads(pathlib.Path(args.evaluation).read_text()),
        json.loads(pathlib.Path(args.corpus_stats).read_text()),
        args.cpu_seconds,
        args.started_from,
    )
    masked_lm = AlbertMaskedLM.from_preset(
        str(run), mask_strategy="token", dtype="float32"
    )
    save_task(
        masked_lm,
        str(PRESET),
        extra_metadata={"pretraining": record},
        replace=True,
        extra_files=[str(run / name) for name in RUN_FILES if (run / name).exists()],
    )
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
