"""`from_preset`, `save_to_preset` and `presets`, shared by the four classes."""

from albert_mlm.presets.registry import PRESETS_METADATA


class PresetMethods:
    """Mixin: preset loading and saving for a class named by `_preset_kind`.

    `_preset_kind` picks `loading.load_<kind>` and `saving.save_<kind>`
    (`backbone`, `tokenizer`, `preprocessor` or `masked_lm`).
    """

    _preset_kind = None
    presets = PRESETS_METADATA

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Build from a built-in name, `kaggle://`/`hf://` handle or directory.

        Directories may hold a KerasHub preset or a transformers checkpoint;
        keyword arguments override the stored config.

        >>> AlbertMaskedLM.from_preset("albert_tiny_en_uncased", sequence_length=64)
        """
        from albert_mlm.presets import loading

        load = getattr(loading, f"load_{cls._preset_kind}")
        return load(preset, load_weights=load_weights, **kwargs)

    def save_to_preset(self, preset_dir):
        """Write a KerasHub-format preset directory (atomically)."""
        from albert_mlm.presets import saving

        getattr(saving, f"save_{self._preset_kind}")(self, preset_dir)
