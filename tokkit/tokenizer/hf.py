"""Hugging Face `tokenizers` files: a tokenizer.json or a saved folder holding one."""

from __future__ import annotations

import json
import os
import re
from functools import cached_property
from typing import Sequence

from ..errors import InputError
from .base import Tokenizer

_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")


class HFTokenizer(Tokenizer):
    kind = "hf"

    def __init__(self, path: str | None, *, name: str | None = None, engine=None):
        from tokenizers import Tokenizer as _T

        if engine is not None:
            self._tok = engine
        else:
            try:
                self._tok = _T.from_file(path)
            except Exception as e:  # the Rust side raises plain Exceptions with a serde message
                raise InputError(f"{path}: not a loadable Hugging Face tokenizer.json ({e})") from None
        # a saved tokenizer may carry padding or truncation (kl3m's pads batches with <|pad|>): counts must
        # be of the text alone
        self._tok.no_padding()
        self._tok.no_truncation()
        self.source = path or ""
        self.name = name or (_default_name(path) if path else "tokenizer")
        try:
            spec = json.loads(self._tok.to_str())
        except Exception:
            spec = {}
        self._model = spec.get("model") or {}
        pre = json.dumps(spec.get("pre_tokenizer") or {})
        # byte-level tokens decode to their own text and re-encode alone; pieces of Metaspace / WordPiece
        # models depend on their place in a word, so the isolated round trip says nothing about them
        self.isolated_roundtrip = '"ByteLevel"' in pre and self._model.get("type") == "BPE"
        self.may_drop_characters = ('"ByteLevel"' not in pre and not self._model.get("byte_fallback")
                                    and self._model.get("unk_token") is None and self._model.get("unk_id") is None)

    @classmethod
    def from_engine(cls, engine, *, name: str = "tokenizer") -> "HFTokenizer":
        """Wrap an in-memory `tokenizers.Tokenizer` (e.g. one just trained)."""
        return cls(None, name=name, engine=engine)

    @property
    def engine(self):
        return self._tok

    @cached_property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    @cached_property
    def unk_id(self) -> int | None:
        m = self._model
        if m.get("type") == "Unigram":
            return m.get("unk_id")
        tok = m.get("unk_token")
        return self._tok.token_to_id(tok) if tok is not None else None

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        if not self._model.get("byte_fallback"):
            return frozenset()
        return frozenset(i for t, i in self._tok.get_vocab(with_added_tokens=False).items() if _BYTE_PIECE.match(t))

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(i for i, t in self._tok.get_added_tokens_decoder().items() if t.special)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch_fast(list(texts), add_special_tokens=False)]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(e) for e in self._tok.encode_batch_fast(list(texts), add_special_tokens=False)]

    def encode_with_offsets(self, text: str):
        e = self._tok.encode(text, add_special_tokens=False)
        return e.ids, list(e.offsets)

    def encode_batch_with_offsets(self, texts: Sequence[str]):
        return [(e.ids, list(e.offsets)) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=False)

    def id_to_token(self, i: int) -> str:
        t = self._tok.id_to_token(i)
        if t is None:
            raise InputError(f"{self.name}: id {i} is outside the vocabulary (size {self.vocab_size})")
        return t


def _default_name(path: str) -> str:
    base = os.path.basename(path)
    if base in ("tokenizer.json", "tokenizer.model", "tokenizer.model.v3"):
        return os.path.basename(os.path.dirname(os.path.abspath(path))) or base
    return base.split(".")[0]
