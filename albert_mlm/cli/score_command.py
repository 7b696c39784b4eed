"""`albert-mlm score`: how likely the model finds each text, as its
pseudo-log-likelihood (PLL) and pseudo-perplexity."""

from albert_mlm.cli.fill_mask_command import (
    add_model_arguments,
    add_text_arguments,
    results_per_text,
    strict_json,
)
from albert_mlm.cli.options import add_subcommand


def add_parser(commands):
    parser = add_subcommand(
        commands,
        "score",
        "pseudo-log-likelihood and pseudo-perplexity of text (higher PLL, "
        "lower pseudo-perplexity: likelier)",
        run,
    )
    add_text_arguments(parser, "text to score")
    parser.add_argument(
        "--within-word-l2r",
        action="store_true",
        help="PLL-word-l2r: when scoring a piece, also mask the later pieces of "
        "its word",
    )
    parser.add_argument(
        "--per-token",
        action="store_true",
        help="also give each piece's log-probability",
    )
    add_model_arguments(parser, json_help="print one JSON object per text instead")


def run(args):
    def compute(masked_lm, texts):
        return masked_lm.score(
            texts,
            batch_size=args.batch_size,
            per_token=args.per_token,
            within_word_l2r=args.within_word_l2r,
        )

    _, pairs = results_per_text(args, compute)
    for text, result in pairs:
        if args.json:
            print(strict_json({"text": text, **result}), flush=True)
            continue
        print(
            f"pll {result['pseudo_log_likelihood']:.4f}  pseudo-perplexity "
            f"{result['pseudo_perplexity']:.4f}  {text}"
        )
        if args.per_token:
            print(
                "  "
                + "  ".join(f"{t['piece']} {t['score']:.3f}" for t in result["tokens"])
            )
