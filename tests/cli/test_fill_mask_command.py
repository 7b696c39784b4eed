"""`albert-mlm fill-mask` (`albert_mlm/cli/fill_mask_command.py`), run through
`albert_mlm.cli.main` in this process: `--top-k` validation and its largest
values, `[mask]` in any case, `--sequence-length`, strict `--json` output and
the `##` mark of a piece that continues a word.

The small KerasHub test preset keeps each run to a fraction of a second.
"""

import json

import pytest
from helpers import KERAS_HUB_DIR, run_cli_in_process

from albert_mlm import AlbertMaskedLM

PRESET = str(KERAS_HUB_DIR / "groups2_inner2")
SPECIAL_PIECES = {"<pad>", "[CLS]", "[SEP]", "[MASK]", "<unk>"}
VOCABULARY_SIZE = 400
# 23 tokens: too long for the preset's sequence_length 16, fits 32.
LONG_TEXT = "the [MASK] sat near the river with a small dog and the old man."


def _strict_json(text):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("top_k", ["0", "-1", "two", "1.5"])
def test_top_k_below_one_is_an_argparse_error(top_k):
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", "the [MASK] sat.", "--preset", PRESET, "--top-k", top_k
    )
    assert code == 2
    assert stdout == ""
    assert "--top-k" in stderr and "usage: albert-mlm fill-mask" in stderr


def test_a_huge_top_k_lists_every_ordinary_piece_once():
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", "the [MASK] sat.", "--preset", PRESET, "--top-k", "100000",
        "--json",
    )  # fmt: skip
    assert code == 0, stderr
    ((entry,),) = [_strict_json(stdout)]
    (candidates,) = entry["masks"]
    assert len(candidates) == VOCABULARY_SIZE - len(SPECIAL_PIECES)
    assert not {c["piece"] for c in candidates} & SPECIAL_PIECES
    assert len({c["id"] for c in candidates}) == len(candidates)
    probabilities = [c["probability"] for c in candidates]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0.9 < sum(probabilities) <= 1.0 + 1e-9


def _assert_same_candidates(masks, expected_masks):
    """Equal candidates; probabilities up to the rounding of another batch row."""
    assert len(masks) == len(expected_masks)
    for candidates, expected in zip(masks, expected_masks):
        assert [c["id"] for c in candidates] == [c["id"] for c in expected]
        assert [c["probability"] for c in candidates] == pytest.approx(
            [c["probability"] for c in expected], rel=1e-5
        )


def test_mask_is_recognised_in_any_case():
    texts = [
        f"the {mask} sat near the {mask}." for mask in ("[MASK]", "[mask]", "[Mask]")
    ]
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", *texts, "--preset", PRESET, "--top-k", "2", "--json"
    )
    assert code == 0, stderr
    entries = _strict_json(stdout)
    assert [entry["text"] for entry in entries] == texts
    assert [len(candidates) for candidates in entries[0]["masks"]] == [2, 2]
    for entry in entries[1:]:
        _assert_same_candidates(entry["masks"], entries[0]["masks"])


def test_text_longer_than_the_sequence_length_names_the_option():
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", LONG_TEXT, "--preset", PRESET
    )
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("albert-mlm fill-mask: error: ")
    assert "--sequence-length" in stderr
    assert len(stderr.strip().splitlines()) == 1

    code, stdout, stderr = run_cli_in_process(
        "fill-mask", LONG_TEXT, "--preset", PRESET, "--sequence-length", "32"
    )
    assert code == 0, stderr
    assert stdout.splitlines()[0] == LONG_TEXT
    assert stdout.splitlines()[1].startswith("  [MASK] 1: ")


def test_json_output_is_strict_json_with_the_documented_keys():
    texts = ["the [MASK] sat.", "a [MASK] and a [MASK]."]
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", *texts, "--preset", PRESET, "--top-k", "3", "--json"
    )
    assert code == 0, stderr
    assert len(stdout.strip().splitlines()) == 1
    entries = _strict_json(stdout)
    assert [entry["text"] for entry in entries] == texts
    assert [len(entry["masks"]) for entry in entries] == [1, 2]
    for entry in entries:
        for candidates in entry["masks"]:
            assert len(candidates) == 3
            for candidate in candidates:
                assert set(candidate) == {"token", "piece", "id", "probability"}
                assert isinstance(candidate["id"], int)
                assert 0 <= candidate["probability"] <= 1
                assert candidate["token"] == (
                    candidate["piece"].replace("\u2581", "") or candidate["piece"]
                )


def test_text_output_marks_pieces_that_continue_a_word():
    text = "the [MASK] sat."
    top_k = 10
    masked_lm = AlbertMaskedLM.from_preset(PRESET)
    ((candidates,),) = masked_lm.fill_mask([text], top_k=top_k)
    continuing = [c for c in candidates if not c["piece"].startswith("\u2581")]
    starting = [c for c in candidates if c["piece"].startswith("\u2581")]
    # The test vocabulary's candidates include both kinds.
    assert continuing and starting

    code, stdout, stderr = run_cli_in_process(
        "fill-mask", text, "--preset", PRESET, "--top-k", str(top_k)
    )
    assert code == 0, stderr
    assert stdout.splitlines() == [
        text,
        "  [MASK] 1: "
        + "  ".join(
            f"{'' if c in starting else '##'}{c['token']} ({c['probability']:.3f})"
            for c in candidates
        ),
    ]
    shown = stdout.splitlines()[1]
    for candidate in continuing:
        assert f"##{candidate['token']} (" in shown
    for candidate in starting:
        assert f"##{candidate['token']} (" not in shown


def test_text_without_a_mask_is_a_one_line_error():
    code, stdout, stderr = run_cli_in_process(
        "fill-mask", "no mask here.", "--preset", PRESET
    )
    assert code == 1
    assert (
        stderr
        == "albert-mlm fill-mask: error: No [MASK] in the text 'no mask here.'.\n"
    )
