"""`albert-mlm evaluate --cloze`: the cloze accuracy of a preset, as
`training/cloze.py` computes it, and a clear error with nothing to do."""

import re

import pytest
from helpers import DATA_DIR, run_cli_in_process

from albert_mlm import AlbertMaskedLM, AlbertMaskedLMPreprocessor
from albert_mlm.training.cloze import cloze_accuracy, read_cloze_set


def test_cloze_figures_are_the_module_s():
    code, out, err = run_cli_in_process(
        "evaluate", "--cloze", str(DATA_DIR / "cloze_en.json")
    )
    assert code == 0, err
    shown = dict(re.findall(r"(items|top-1|top-5) ([0-9.]+)", out))
    expected = cloze_accuracy(
        AlbertMaskedLM.from_preset("albert_tiny_en_uncased"),
        read_cloze_set(str(DATA_DIR / "cloze_en.json")),
    )
    assert int(shown["items"]) == expected["items"]
    assert float(shown["top-1"]) == pytest.approx(expected["top1"], abs=5e-5)
    assert float(shown["top-5"]) == pytest.approx(expected["top5"], abs=5e-5)


def test_nothing_to_evaluate_is_a_one_line_error():
    code, out, err = run_cli_in_process("evaluate")
    assert code != 0 and not out
    assert "--corpus" in err and "--cloze" in err
    assert len(err.strip().splitlines()) == 1


def test_corpus_figures_use_token_masking_whatever_the_preset_trained_with(
    tmp_path, corpus
):
    """A preset whose preprocessor masks n-grams is measured with the same
    single-token masking as any other: the figures equal its token twin's."""
    masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
    lines = tmp_path / "lines.txt"  # One batch of 64: one compiled shape.
    lines.write_text("\n".join(corpus.read_text().splitlines()[:64]) + "\n")
    outputs = {}
    tokenizer = masked_lm.preprocessor.tokenizer
    for strategy in ("token", "ngram"):
        masked_lm.preprocessor = AlbertMaskedLMPreprocessor(
            tokenizer, sequence_length=32, mask_strategy=strategy
        )
        masked_lm.save_to_preset(str(tmp_path / strategy))
        code, out, err = run_cli_in_process(
            "evaluate", "--preset", str(tmp_path / strategy), "--corpus", str(lines)
        )
        assert code == 0, err
        outputs[strategy] = out
    assert "top-1" in outputs["ngram"]
    assert outputs["ngram"] == outputs["token"]
