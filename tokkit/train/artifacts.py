"""Trained-tokenizer artifacts: tokenizer.json and/or a SentencePiece .model, with a tokkit.json card
beside them (parameters, corpus fingerprint, library versions, timings, vocabulary statistics).

Everything is written into a temporary folder that replaces the artifact folder whole at the end
(`tokkit._atomic.atomic_dir`), so a training killed at any moment leaves either no artifact or the previous
complete one, and nothing of an earlier run survives beside the new files. A folder that holds no tokkit
card is never replaced unless the caller forces it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .._atomic import CARD_NAME, atomic_dir, is_tokkit_folder  # noqa: F401  (CARD_NAME, is_tokkit_folder re-exported)
from ..errors import InputError


class Fingerprint:
    """A running digest of the training text: order-sensitive blake2b over documents, plus counts."""

    def __init__(self):
        self._h = hashlib.blake2b(digest_size=16)
        self.documents = self.bytes = self.characters = 0

    def update(self, text: str) -> str:
        data = text.encode("utf-8", "surrogatepass")
        self._h.update(len(data).to_bytes(8, "little"))
        self._h.update(data)
        self.documents += 1
        self.bytes += len(data)
        self.characters += len(text)
        return text

    def wrap(self, texts: Iterable[str]) -> Iterable[str]:
        for t in texts:
            yield self.update(t)

    def as_dict(self) -> dict:
        return dict(blake2b=self._h.hexdigest(), documents=self.documents, bytes=self.bytes,
                    characters=self.characters)


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("tokkit", "tokenizers", "sentencepiece", "numba", "numpy"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


@dataclass
class Card:
    recipe: str
    parameters: dict[str, Any]
    corpus: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    vocabulary: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(tokkit_card=1, recipe=self.recipe, parameters=self.parameters, corpus=self.corpus,
                    timings=self.timings, vocabulary=self.vocabulary, files=self.files,
                    versions=library_versions(), created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def vocabulary_stats(tokens: Iterable[str], *, decode: Callable[[str], str] | None = None) -> dict:
    """Size and token-length distribution (in characters of the decoded token where `decode` is given)."""
    lengths = [len(decode(t) if decode else t) for t in tokens]
    if not lengths:
        return {"size": 0}
    hist: dict[int, int] = {}
    for n in lengths:
        hist[n] = hist.get(n, 0) + 1
    return dict(size=len(lengths), mean_length=sum(lengths) / len(lengths), max_length=max(lengths),
                length_histogram={str(k): hist[k] for k in sorted(hist)})


def write_artifacts(out_dir: str | os.PathLike, card: Card, writers: dict[str, Callable[[str], None]], *,
                    force: bool = False) -> str:
    """Write each file with writers[name](path) into a temporary folder, add the card, then swap the folder
    in as out_dir. Returns out_dir. The old folder is replaced whole: a file an earlier run wrote and this
    one does not (another recipe's model, an earlier --export-size) is gone, so the folder always serves
    what its card says. An existing out_dir without a tokkit card raises InputError unless force=True."""
    out_dir = os.fspath(out_dir)
    if CARD_NAME in writers:
        raise InputError(f"{CARD_NAME}: reserved for the card")
    with atomic_dir(out_dir, force=force) as tmp:
        for name, write in writers.items():
            write(os.path.join(tmp, name))
        card.files = sorted(writers)
        with open(os.path.join(tmp, CARD_NAME), "w", encoding="utf-8") as fh:
            json.dump(card.to_dict(), fh, ensure_ascii=False, indent=2)
            fh.write("\n")
    return out_dir


def read_card(path: str | os.PathLike) -> dict:
    p = os.fspath(path)
    if os.path.isdir(p):
        p = os.path.join(p, CARD_NAME)
    try:
        with open(p, encoding="utf-8") as fh:
            card = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"{p}: no tokkit card") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{p}: not a readable tokkit card ({e})") from None
    if not isinstance(card, dict):
        raise InputError(f"{p}: not a tokkit card")
    return card
