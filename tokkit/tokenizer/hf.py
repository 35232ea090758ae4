"""Hugging Face `tokenizers` files: a tokenizer.json or a saved folder holding one."""

from __future__ import annotations

import json
import os
import re
from functools import cached_property
from typing import Callable, Sequence

from ..errors import InputError
from .base import Tokenizer

_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")


class HFTokenizer(Tokenizer):
    kind = "hf"

    def __init__(self, path: str | None, *, name: str | None = None, engine=None,
                 build: Callable[[], object] | None = None, write_json: Callable[[str], None] | None = None,
                 save_artifact: Callable[[str], str] | None = None, card: dict | None = None):
        """path: a tokenizer.json to load; or engine: a `tokenizers.Tokenizer` in memory; or build: a function
        that makes one, called when the tokenizer is first used (a trainer that writes its tokenizer.json
        without one passes this, and write_json). save_artifact(folder): how `save` writes an artifact
        folder (a trainer's tokenizer.json + config + card); card: the trainer's card."""
        if engine is None and build is None:
            from tokenizers import Tokenizer as _T

            try:
                engine = _T.from_file(path)
            except Exception as e:  # the Rust side raises plain Exceptions with a serde message
                raise InputError(f"{path}: not a loadable Hugging Face tokenizer.json ({e})") from None
        self._built = None
        self._build = build
        if engine is not None:
            self._set_engine(engine)
        self._write_json = write_json
        self._save_artifact = save_artifact
        self.card = card
        self.source = path or ""
        self.name = name or (_default_name(path) if path else "tokenizer")

    def _set_engine(self, engine) -> None:
        # a saved tokenizer may carry padding or truncation (kl3m's pads batches with <|pad|>): counts must
        # be of the text alone
        engine.no_padding()
        engine.no_truncation()
        # special tokens in text are plain text (tokenizer.base): tokenizers then never matches an added
        # token marked special, in encode, encode_batch(_fast) and offsets alike. The flag is not saved in
        # tokenizer.json, so it is set on every engine tokkit loads or trains.
        engine.encode_special_tokens = True
        self._built = engine

    @property
    def _tok(self):
        if self._built is None:
            self._set_engine(self._build())
        return self._built

    @cached_property
    def _spec(self) -> dict:
        try:
            return json.loads(self._tok.to_str())
        except Exception:
            return {}

    @cached_property
    def _model(self) -> dict:
        return self._spec.get("model") or {}

    @cached_property
    def isolated_roundtrip(self) -> bool:
        # byte-level tokens decode to their own text and re-encode alone; pieces of Metaspace / WordPiece
        # models depend on their place in a word, so the isolated round trip says nothing about them
        pre = json.dumps(self._spec.get("pre_tokenizer") or {})
        return '"ByteLevel"' in pre and self._model.get("type") == "BPE"

    @cached_property
    def may_drop_characters(self) -> bool:
        pre = json.dumps(self._spec.get("pre_tokenizer") or {})
        return ('"ByteLevel"' not in pre and not self._model.get("byte_fallback")
                and self._model.get("unk_token") is None and self._model.get("unk_id") is None)

    @classmethod
    def from_engine(cls, engine, *, name: str = "tokenizer", card: dict | None = None) -> "HFTokenizer":
        """Wrap an in-memory `tokenizers.Tokenizer` (e.g. one just trained)."""
        return cls(None, name=name, engine=engine, card=card)

    @property
    def engine(self):
        """The `tokenizers.Tokenizer` underneath (built on first use for a freshly trained one)."""
        return self._tok

    def save(self, path) -> str:
        p = os.fspath(path)
        if p.endswith(".json"):
            if self._write_json is not None:
                self._write_json(p)
            else:
                self._tok.save(p, pretty=True)
            return p
        if self._save_artifact is not None:
            return self._save_artifact(p)
        os.makedirs(p, exist_ok=True)
        self.save(os.path.join(p, "tokenizer.json"))
        return p

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

    @cached_property
    def special_tokens(self) -> dict[str, int]:
        return {t.content: i for i, t in self._tok.get_added_tokens_decoder().items() if t.special}

    def encode_ordinary(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch_fast(list(texts), add_special_tokens=False)]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(e) for e in self._tok.encode_batch_fast(list(texts), add_special_tokens=False)]

    def encode_with_offsets(self, text: str):
        e = self._tok.encode(text, add_special_tokens=False)
        return e.ids, e.offsets  # a new list of each (no copy needed)

    def encode_batch_with_offsets(self, texts: Sequence[str]):
        return [(e.ids, e.offsets) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(self.check_ids(ids), skip_special_tokens=False)

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
