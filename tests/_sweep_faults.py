"""Sweep algorithms that fail on purpose, importable by Ray workers and pool processes (not collected)."""

import os
from pathlib import Path


def _marker(vocab_size: int, language: str) -> Path:
    return Path(os.environ["TOKKIT_FAULT_DIR"]) / f"{language}-{vocab_size}"


def kill_once(counts, vocab_size, seed):
    """Kills its worker process the first time it meets size 1024 of each language, then trains normally."""
    from tokkit.train.registry import train_hf_bpe

    marker = _marker(vocab_size, counts.source)
    if vocab_size == 1024 and not marker.exists():
        marker.write_text("killed")
        os._exit(9)
    return train_hf_bpe(counts, vocab_size, seed)


def always_fails(counts, vocab_size, seed):
    if vocab_size == 1024:
        raise RuntimeError(f"cannot train {counts.source} at {vocab_size}")
    from tokkit.train.registry import train_hf_bpe

    return train_hf_bpe(counts, vocab_size, seed)
