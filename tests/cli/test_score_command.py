"""`albert-mlm score` (`albert_mlm/cli/score_command.py`), run through
`albert_mlm.cli.main` in this process with the shipped default preset: its
PLL and pseudo-perplexity per line, `--json`, `--per-token` and
`--within-word-l2r` equal to `AlbertMaskedLM.score`; texts from `--file` or
stdin; bad input as one line on stderr and exit status 1.

One test loads the preset as the command does; the others hand the command
the model the test compares with (`model_loaded_once`), which saves a load
and a compilation per run."""

import io
import json
import re
import sys

import cli_fixtures
import pytest
from helpers import assert_same_results, run_cli_in_process

TEXTS = ["the dog barked.", "a small bird sings in the old tree."]
LINE = re.compile(r"pll (-\d+\.\d{4})  pseudo-perplexity (\d+\.\d{4})  (.*)")

# The shared fixtures (`cli_fixtures.py`), as this module's own.
shipped_masked_lm = cli_fixtures.shipped_masked_lm
model_loaded_once = cli_fixtures.model_loaded_once


def _json_lines(stdout):
    entries = [json.loads(line) for line in stdout.splitlines()]
    return [entry.pop("text") for entry in entries], entries


def test_prints_pll_pseudo_perplexity_and_pieces_per_text(shipped_masked_lm):
    code, stdout, stderr = run_cli_in_process("score", *TEXTS, "--per-token")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 2 * len(TEXTS)
    results = shipped_masked_lm.score(TEXTS, per_token=True)
    for summary, pieces, text, result in zip(lines[::2], lines[1::2], TEXTS, results):
        match = LINE.fullmatch(summary)
        assert match, summary
        assert match[3] == text
        assert float(match[1]) == pytest.approx(
            result["pseudo_log_likelihood"], abs=1e-4
        )
        assert float(match[2]) == pytest.approx(result["pseudo_perplexity"], abs=1e-4)
        assert pieces == "  " + "  ".join(
            f"{token['piece']} {token['score']:.3f}" for token in result["tokens"]
        )


@pytest.mark.parametrize(
    "options",
    [[], ["--per-token", "--within-word-l2r"]],
    ids=["pll", "per-token-word-l2r"],
)
def test_json_equals_the_api(model_loaded_once, shipped_masked_lm, options):
    code, stdout, stderr = run_cli_in_process("score", *TEXTS, "--json", *options)
    assert code == 0, stderr
    texts, results = _json_lines(stdout)
    assert texts == TEXTS
    expected = shipped_masked_lm.score(
        TEXTS,
        per_token="--per-token" in options,
        within_word_l2r="--within-word-l2r" in options,
    )
    assert_same_results(results, expected)


def test_file_and_stdin_give_one_json_object_per_line(
    model_loaded_once, tmp_path, monkeypatch, shipped_masked_lm
):
    content = f"{TEXTS[0]}\n\n   \n{TEXTS[1]}\r\n"
    path = tmp_path / "texts.txt"
    # A byte-order mark, as some editors write, is not part of the text.
    path.write_text("\ufeff" + content, encoding="utf-8")
    code, stdout, stderr = run_cli_in_process(
        "score", "--file", path, "--json", "--batch-size", "1"
    )
    assert code == 0, stderr
    texts, results = _json_lines(stdout)
    assert texts == TEXTS  # Blank lines skipped, line ends dropped.
    assert_same_results(results, shipped_masked_lm.score(TEXTS))

    # No text with stdin not a terminal ("-" is tested with fill-mask).
    monkeypatch.setattr(sys, "stdin", io.StringIO(content))
    code, from_stdin, stderr = run_cli_in_process("score", "--json")
    assert code == 0, stderr
    assert _json_lines(from_stdin)[0] == TEXTS
    assert_same_results(_json_lines(from_stdin)[1], results)
    assert not sys.stdin.closed  # Read to its end, left to its owner.


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["the [MASK] sat."],
            "`texts` holds a [MASK] in the text 'the [MASK] sat.'; score rates text "
            "as written: fill the mask first (fill_mask).",
        ),
        (
            ["a dog.", ""],
            "`texts` holds an empty text (no pieces once tokenized) at index 1: ''",
        ),
        (
            ["dog " * (cli_fixtures.SHIPPED_SEQUENCE_LENGTH + 8)],
            f"is {cli_fixtures.SHIPPED_SEQUENCE_LENGTH + 10} tokens long with "
            "[CLS] and [SEP], 10 more than the sequence_length "
            f"{cli_fixtures.SHIPPED_SEQUENCE_LENGTH} allows",
        ),
        (
            ["a dog.", "--file", "texts.txt"],
            "Give texts as arguments or with --file, not both. Received --file "
            "'texts.txt' and 1 text argument(s).",
        ),
        (["--file", "missing.txt"], "No such file or directory: 'missing.txt'"),
        ([], "No text: give TEXT arguments, --file PATH, or pipe text in."),
    ],
    ids=["mask", "empty-text", "too-long", "texts-and-file", "missing-file", "none"],
)
def test_bad_input_is_one_line_on_stderr(
    model_loaded_once, arguments, message, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "texts.txt").write_text("a dog.\n")
    monkeypatch.setattr(sys, "stdin", _Terminal())
    code, stdout, stderr = run_cli_in_process("score", *arguments)
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("albert-mlm score: error: ")
    assert message in stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n")
