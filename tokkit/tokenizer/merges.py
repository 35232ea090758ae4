"""Merges I/O: the one parser of the merges in a Hugging Face tokenizer.json (both spellings: "a b"
strings of older files, [a, b] pairs of newer ones)."""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import InputError


def parse_merges(model: dict) -> list[tuple[str, str]]:
    """The merges of a tokenizer.json's "model" object, as (left, right) string pairs, in rank order."""
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model.get("merges", [])]


def special_tokens_of(spec: dict) -> list[str]:
    """The special added tokens of a tokenizer.json, in id order."""
    added = sorted(spec.get("added_tokens", []), key=lambda t: t.get("id", 0))
    return [t["content"] for t in added if t.get("special")]


def tokenizer_spec(source: Any, *, what: str = "tokenizer.json") -> dict:
    """The parsed tokenizer.json of a path (a file, or a folder holding tokenizer.json), a
    `tokenizers.Tokenizer`, or a tokkit HF tokenizer."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: cannot read a {what} ({e})") from None
    engine = getattr(source, "engine", source)
    if hasattr(engine, "to_str"):
        return json.loads(engine.to_str())
    raise InputError(f"{type(source).__name__}: expected a tokenizer.json path or a Hugging Face tokenizer")


def read_merges(source: Any, *, what: str = "tokenizer.json") -> tuple[list[str], list[tuple[str, str]]]:
    """(special tokens, merges) of a BPE tokenizer.json (see `tokenizer_spec` for the sources)."""
    spec = tokenizer_spec(source, what=what)
    model = spec.get("model") or {}
    if model.get("type") != "BPE":
        raise InputError(f"{source if isinstance(source, (str, os.PathLike)) else 'tokenizer'}: not a BPE "
                         f"tokenizer.json (model type {model.get('type')!r})")
    return special_tokens_of(spec), parse_merges(model)
