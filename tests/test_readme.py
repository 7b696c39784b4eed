"""Every python and bash block of README.md and docs/*.md runs as pasted, from
a directory outside the repository, on the current backend.

A ```text block after a block (with only prose between) is what the block
prints. A block under `<!-- not run: why -->` is skipped for that reason; one
under `<!-- runs on: backend -->` runs on that backend only. The working
directory holds what the pages use: `corpus.txt` and `albert_from_kaggle/`
(a preset written by KerasHub's `save_to_preset`). Every docs/ page is linked
from the README.
"""

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys

import keras
import pytest
from helpers import KERAS_HUB_DIR

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
BACKENDS = ("tensorflow", "jax", "torch")

_BLOCK = re.compile(
    r"(?:^<!-- (?P<marker>not run|runs on): (?P<value>[^>]+?) -->\n)?"
    r"^```(?P<language>python|bash)\n(?P<code>.*?)^```\n"
    r"(?:(?:(?!```)[^\n]*\n)*?^```text\n(?P<output>.*?)^```\n)?",
    re.DOTALL | re.MULTILINE,
)
_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


@dataclasses.dataclass
class Block:
    page: str
    index: int
    language: str
    code: str
    marker: str | None
    value: str | None
    output: str | None


def _blocks(page):
    text = page.read_text(encoding="utf-8")
    name = str(page.relative_to(ROOT))
    return [
        Block(
            name,
            index,
            *match.group("language", "code", "marker", "value"),
            match.group("output"),
        )
        for index, match in enumerate(_BLOCK.finditer(text), 1)
    ]


BLOCKS = [block for page in PAGES for block in _blocks(page)]


def _param(block):
    return pytest.param(block, id=f"{block.page}-{block.language}-{block.index}")


def _environment():
    env = dict(os.environ)
    # The `albert-mlm` of the interpreter running the tests.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    if keras.backend.backend() == "jax":
        # Two CPU devices, for the pages' data- and model-parallel blocks.
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count=2"
    return env


def _run(command, directory):
    result = subprocess.run(
        command,
        cwd=directory,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _assert_same_output(actual, expected):
    """Equal text; each number equal to one unit of its last shown digit."""
    assert _NUMBER.sub("#", actual) == _NUMBER.sub("#", expected), actual
    for got, shown in zip(_NUMBER.finditer(actual), _NUMBER.finditer(expected)):
        decimals = len(shown.group(1) or "")
        tolerance = 1.01 * 10**-decimals if decimals else 0
        assert float(got.group()) == pytest.approx(
            float(shown.group()), abs=tolerance
        ), actual


@pytest.fixture
def working_directory(tmp_path):
    # 32 documents of four sentences, a blank line between them.
    sentences = [
        "the dog barked at the cat.",
        "she drank a cup of tea.",
        "they lived in a small house near the river.",
        "he opened the door and walked into the room.",
    ]
    documents = ["\n".join(sentences[(i + j) % 4] for j in range(4)) for i in range(32)]
    corpus = "\n\n".join(documents) + "\n"
    (tmp_path / "corpus.txt").write_text(corpus, encoding="utf-8")
    shutil.copytree(KERAS_HUB_DIR / "groups2_inner2", tmp_path / "albert_from_kaggle")
    return tmp_path


@pytest.mark.parametrize("block", [_param(block) for block in BLOCKS])
def test_block_runs_as_pasted(block, working_directory):
    if block.marker == "not run":
        pytest.skip(block.value)
    backend = keras.backend.backend()
    if block.marker == "runs on" and block.value != backend:
        pytest.skip(f"runs on {block.value} only")
    assert "tests/data" not in block.code  # A pip user has no tests/ folder.
    if block.language == "python":
        command = [sys.executable, "-c", block.code]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.code]
    result = _run(command, working_directory)
    if block.output is not None:
        _assert_same_output(result.stdout, block.output)


def test_every_block_is_found_and_every_marker_is_known():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        fences = re.findall(r"^```(?:python|bash)$", text, re.MULTILINE)
        assert len(fences) == len(_blocks(page)), page
        markers = re.findall(r"^<!-- (?:not run|runs on):", text, re.MULTILINE)
        assert len(markers) == sum(b.marker is not None for b in _blocks(page)), page
    for block in BLOCKS:
        if block.marker == "runs on":
            assert block.value in BACKENDS, block


def test_the_readme_and_every_page_with_code_run_a_block():
    # The premise of the parametrized test. Only the reference data's one
    # block (it installs KerasHub and transformers) is not run.
    run = [block for block in BLOCKS if block.marker != "not run"]
    readme_code = "".join(block.code for block in run if block.page == "README.md")
    assert "AlbertMaskedLM.from_preset" in readme_code
    assert "albert-mlm fill-mask" in readme_code
    skipped_pages = {block.page for block in BLOCKS} - {block.page for block in run}
    assert skipped_pages == {"docs/reference_data.md"}
    assert sum(block.output is not None for block in run) >= 2


def test_shown_output_allows_only_the_last_digits_rounding():
    _assert_same_output("a 0.085 b -6.72 [MASK] 1\n", "a 0.084 b -6.71 [MASK] 1\n")
    for actual in (
        "a 0.087 b -6.72 [MASK] 1\n",
        "a 0.085 b -6.72 [MASK] 2\n",
        "a 0.085 c -6.72 [MASK] 1\n",
    ):
        with pytest.raises(AssertionError):
            _assert_same_output(actual, "a 0.085 b -6.72 [MASK] 1\n")


def test_setup_command_fills_a_mask_with_the_shipped_preset(tmp_path):
    # The first set-up command (not run: it installs from PyPI) ends with this
    # fill-mask call.
    text = README.read_text(encoding="utf-8")
    call = re.search(r'albert-mlm (fill-mask "[^"]*")', text).group(1)
    text_argument = re.search(r'"([^"]*)"', call).group(1)
    result = _run(
        [sys.executable, "-m", "albert_mlm", "fill-mask", text_argument], tmp_path
    )
    assert "[MASK] 1:" in result.stdout


def test_every_docs_page_is_linked_from_the_readme():
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)", README.read_text("utf-8")))
    pages = {str(page.relative_to(ROOT)) for page in DOCS.glob("*.md")}
    assert pages, "docs/ holds no pages"
    assert linked == pages


def test_links_between_pages_lead_to_pages():
    for page in PAGES:
        for target in re.findall(r"\]\(([^):#]+\.md)", page.read_text("utf-8")):
            assert (page.parent / target).is_file(), (page, target)


def test_the_docs_name_every_mask_strategy_and_preset_format():
    """The tables of extension points and the pages that describe them agree:
    an entry added to a table without a word in the docs fails here."""
    from albert_mlm.presets.loading import PRESET_READERS
    from albert_mlm.text.mask_generator import MASK_STRATEGIES

    architecture = (DOCS / "architecture.md").read_text("utf-8")
    option = re.search(
        r"--mask-strategy ([\w|]+)", (DOCS / "pretraining.md").read_text()
    )
    assert option.group(1).split("|") == list(MASK_STRATEGIES)
    for name in MASK_STRATEGIES:
        assert f"`{name}`" in architecture, name
    for reader in PRESET_READERS:
        assert f"`{reader.__name__}`" in architecture, reader.__name__
