"""Text processing: normalisation, tokenization, packing and masking."""
