"""Presets shipped with albert_mlm (installed as the `albert_mlm_presets` package)."""
