"""Text to batches: corpus files, document packing, and the masked batches
every task, trainer and inference call reads (`batches.py`)."""
