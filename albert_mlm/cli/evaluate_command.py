"""`albert-mlm evaluate`: masked-token loss and accuracy of a preset on text,
and its accuracy on a cloze set."""

from albert_mlm.cli.options import add_subcommand, positive_int
from albert_mlm.presets.registry import DEFAULT_PRESET


def add_parser(commands):
    parser = add_subcommand(
        commands, "evaluate", "masked-token loss and accuracy on text files", run
    )
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="the model to score")
    parser.add_argument(
        "--corpus", nargs="+", metavar="FILE",
        help="UTF-8 text files, one text per line, single tokens masked at "
        "random (whatever masking the preset was trained with)",
    )  # fmt: skip
    parser.add_argument(
        "--cloze", metavar="JSON",
        help="a cloze set (sentences with one [MASK] and the words accepted "
        "there, as tests/data/cloze_en.json): top-1 and top-5 accuracy",
    )  # fmt: skip
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, help="texts per batch"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the masking"
    )


def run(args):
    from albert_mlm import AlbertMaskedLM

    if not args.corpus and not args.cloze:
        raise ValueError(
            "Nothing to evaluate on: give --corpus FILE, --cloze JSON or both."
        )
    masked_lm = AlbertMaskedLM.from_preset(args.preset)
    if args.corpus:
        _evaluate_on_corpus(masked_lm, args)
    if args.cloze:
        from albert_mlm.training.cloze import cloze_accuracy, read_cloze_set

        results = cloze_accuracy(masked_lm, read_cloze_set(args.cloze))
        print(
            f"cloze items {results['items']}  top-1 {results['top1']:.4f}  "
            f"top-5 {results['top5']:.4f}"
        )


def _evaluate_on_corpus(masked_lm, args):
    import tensorflow as tf

    from albert_mlm.datasets.corpus import corpus_files
    from albert_mlm.training.evaluation import evaluate_masked_lm, token_masking

    files = corpus_files(args.corpus)
    tf.random.set_seed(args.seed)
    batches = (
        tf.data.TextLineDataset(files)
        .filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
        .batch(args.batch_size)
        .map(
            tf.autograph.experimental.do_not_convert(
                token_masking(masked_lm.preprocessor)
            )
        )
    )
    results = evaluate_masked_lm(masked_lm, batches)
    print(
        f"masked tokens {results['masked_tokens']}  loss {results['loss']:.4f}  "
        f"top-1 {results['top1']:.4f}  top-5 {results['top5']:.4f}"
    )
