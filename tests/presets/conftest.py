"""Fixtures of the preset tests: valid files a hostile preset may point at."""

import shutil

import pytest
from helpers import KERAS_HUB_DIR, TRANSFORMERS_DIR


@pytest.fixture
def outside(tmp_path):
    """A folder beside the preset under test holding valid preset files (a
    KerasHub preset and a transformers `model.safetensors`): what a link or
    file name in a preset may try to reach."""
    folder = tmp_path / "outside"
    shutil.copytree(KERAS_HUB_DIR / "groups3_inner2", folder)
    shutil.copy(
        TRANSFORMERS_DIR / "masked_lm_groups2_inner2" / "model.safetensors", folder
    )
    return folder
