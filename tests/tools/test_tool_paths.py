"""The scripts in tools/, one folder per purpose, find this checkout's files
from where they sit."""

import pathlib

from helpers import DATA_DIR, VOCABULARY_PATH, tool_module

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_golden_file_scripts_read_and_write_tests_data():
    with tool_module("golden_files/golden_data") as golden_data:
        vocabulary = pathlib.Path(golden_data.VOCABULARY_PATH)
        assert vocabulary == VOCABULARY_PATH.resolve()
        assert pathlib.Path(golden_data.DATA_DIR) == DATA_DIR.resolve()


def test_preset_release_scripts_read_the_cloze_set_and_install_the_preset():
    with tool_module("preset_release/install_english_preset") as install:
        assert install.ROOT == ROOT
        assert (install.PRESET / "metadata.json").is_file()
    with tool_module("preset_release/evaluate_english_preset") as evaluate:
        assert evaluate.CLOZE_SET == DATA_DIR.resolve() / "cloze_en.json"
        assert evaluate.CLOZE_SET.is_file()
