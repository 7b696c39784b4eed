"""`albert-mlm fill-mask` (`albert_mlm/cli/fill_mask_command.py`) with the
shipped default preset: `--targets` and `--joint` equal to
`AlbertMaskedLM.fill_mask`; texts from `--file` or stdin, one JSON object
per line; bad input as one line on stderr and exit status 1. Run through
`albert_mlm.cli.main` in this process, handed the model the test compares
with (`model_loaded_once`: no load and compilation per run), and once as a
user would, loading the preset in a subprocess with text piped in.

Scope of the bad-input table: the `fill-mask` command's own inputs (texts
as arguments, `--file` or stdin) and the API's checks as the command reports
them; the exact messages of the API's checks are tested in
`tests/inference/test_inference_bad_input.py`."""

import io
import json
import subprocess
import sys

import cli_fixtures
import pytest
from helpers import CLI_ENVIRONMENT, assert_same_results, run_cli_in_process

TEXTS = ["the [MASK] barked at the [mask].", "a [MASK] of the united states."]
# "new york" takes several pieces, the others one.
TARGETS = ["dog", "cat", "new york", "president"]

# The shared fixtures (`cli_fixtures.py`), as this module's own.
shipped_masked_lm = cli_fixtures.shipped_masked_lm
model_loaded_once = cli_fixtures.model_loaded_once


def _json_lines(stdout):
    return [json.loads(line) for line in stdout.splitlines()]


def test_targets_equal_the_api(model_loaded_once, shipped_masked_lm):
    tokenizer = shipped_masked_lm.preprocessor.tokenizer
    assert sorted(len(tokenizer(target)) for target in TARGETS)[-1] > 1
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", *TEXTS, "--targets", *TARGETS, "--top-k", "3", "--json"
    )
    assert code == 0, stderr
    entries = json.loads(stdout)
    assert [entry["text"] for entry in entries] == TEXTS
    expected = shipped_masked_lm.fill_mask(TEXTS, targets=TARGETS, top_k=3)
    assert_same_results([entry["masks"] for entry in entries], expected)
    assert [len(masks) for masks in expected] == [2, 1]

    code, stdout, stderr = run_cli_in_process(
        "fill-mask", TEXTS[1], "--targets", *TARGETS, "--top-k", "3"
    )
    assert code == 0, stderr
    ((ranked,),) = expected[1:]
    assert stdout.splitlines() == [
        TEXTS[1],
        "  [MASK] 1: "
        + "  ".join(
            f"{c['token']} ({c['probability']:.3g}, log-probability {c['score']:.3f})"
            for c in ranked
        ),
    ]


def test_joint_equals_the_api(model_loaded_once, shipped_masked_lm):
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", *TEXTS, "--joint", "--top-k", "3", "--json"
    )
    assert code == 0, stderr
    entries = json.loads(stdout)
    assert [entry["text"] for entry in entries] == TEXTS
    expected = shipped_masked_lm.fill_mask(TEXTS, top_k=3, decoding="joint")
    assert_same_results([entry["fillings"] for entry in entries], expected)
    assert [len(filling["tokens"]) for filling in expected[0]] == [2, 2, 2]

    code, stdout, stderr = run_cli_in_process(
        "fill-mask", TEXTS[0], "--joint", "--top-k", "3"
    )
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == TEXTS[0] and len(lines) == 4
    for rank, (line, filling) in enumerate(zip(lines[1:], expected[0]), start=1):
        assert line.startswith(f"  {rank}: ")
        assert line.endswith(f" (log-probability {filling['score']:.3f})")


def test_file_and_stdin_give_one_json_object_per_line(
    model_loaded_once, tmp_path, monkeypatch, shipped_masked_lm
):
    content = f"{TEXTS[0]}\n\n  \n{TEXTS[1]}\r\n"
    path = tmp_path / "texts.txt"
    path.write_text(content, encoding="utf-8")
    expected = shipped_masked_lm.fill_mask(TEXTS, top_k=2)
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", "--file", path, "--json", "--top-k", "2", "--batch-size", "1"
    )
    assert code == 0, stderr
    entries = _json_lines(stdout)
    assert [entry["text"] for entry in entries] == TEXTS  # Blank lines skipped.
    assert_same_results([entry["masks"] for entry in entries], expected)

    # "-" reads stdin (no text with stdin piped: the subprocess test below).
    monkeypatch.setattr(sys, "stdin", io.StringIO(content))
    code, from_stdin, stderr = run_cli_in_process(
        "fill-mask", "-", "--json", "--top-k", "2"
    )
    assert code == 0, stderr
    assert_same_results(_json_lines(from_stdin), entries)
    assert not sys.stdin.closed  # Read to its end, left to its owner.


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            [TEXTS[0], "--file", "texts.txt"],
            "Give texts as arguments or with --file, not both. Received --file "
            "'texts.txt' and 1 text argument(s).",
        ),
        (["--file", "missing.txt"], "No such file or directory: 'missing.txt'"),
        (["--file", "no_mask.txt"], "No [MASK] in the text 'a dog barked.'."),
        ([], "No text: give TEXT arguments, --file PATH, or pipe text in."),
        (
            [TEXTS[0], "--targets", "dog", ""],
            "`targets` holds an empty target at index 1: ''",
        ),
        (
            [TEXTS[0], "--joint", "--targets", "dog"],
            "`targets` are scored at each mask independently; they cannot be "
            "combined with decoding='joint'.",
        ),
        (
            ["[MASK]" + " dog" * (cli_fixtures.SHIPPED_SEQUENCE_LENGTH + 8)],
            f"is {cli_fixtures.SHIPPED_SEQUENCE_LENGTH + 11} tokens long with "
            "[CLS] and [SEP], 11 more than the sequence_length "
            f"{cli_fixtures.SHIPPED_SEQUENCE_LENGTH} allows",
        ),
    ],
    ids=[
        "texts-and-file",
        "missing-file",
        "no-mask-in-file",
        "no-text",
        "empty-target",
        "targets-with-joint",
        "too-long",
    ],
)
def test_bad_input_is_one_line_on_stderr(
    model_loaded_once, arguments, message, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "texts.txt").write_text(f"{TEXTS[0]}\n")
    (tmp_path / "no_mask.txt").write_text("a dog barked.\n")
    monkeypatch.setattr(sys, "stdin", _Terminal())
    code, stdout, stderr = run_cli_in_process("fill-mask", *arguments)
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("albert-mlm fill-mask: error: ")
    assert message in stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n")


def test_piped_text_streams_json_lines_then_stops_at_a_bad_line(shipped_masked_lm):
    """In a real process reading a pipe: each good line's JSON object is out
    before the bad line stops the run with one line on stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "albert_mlm", "fill-mask", "--json", "--top-k", "2",
         "--batch-size", "1"],
        input=f"{TEXTS[0]}\n{TEXTS[1]}\nno mask here.\n{TEXTS[0]}\n",
        capture_output=True,
        text=True,
        timeout=300,
        env=CLI_ENVIRONMENT,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "albert-mlm fill-mask: error: No [MASK] in the text 'no mask here.'.\n"
    )
    entries = _json_lines(result.stdout)
    assert [entry["text"] for entry in entries] == TEXTS
    assert_same_results(
        [entry["masks"] for entry in entries],
        shipped_masked_lm.fill_mask(TEXTS, top_k=2),
    )
