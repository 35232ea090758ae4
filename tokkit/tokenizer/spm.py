"""SentencePiece `.model` files (BPE or unigram; byte fallback where the model has it)."""

from __future__ import annotations

import os
from functools import cached_property
from typing import Sequence

from .._extras import require
from ..errors import InputError
from .base import Tokenizer, byte_to_char_offsets
from .hf import _default_name


class SentencePieceTokenizer(Tokenizer):
    kind = "sentencepiece"

    def __init__(self, path: str | None, *, name: str | None = None, threads: int = 0,
                 model_proto: bytes | None = None, card: dict | None = None, save_artifact=None):
        """path: a .model file; or model_proto: the serialized model (a freshly trained one), with the
        trainer's card and `save_artifact(folder)` writing its artifact folder."""
        import sentencepiece as spm

        self._sp = spm.SentencePieceProcessor()
        try:
            if model_proto is not None:
                self._sp.LoadFromSerializedProto(model_proto)
            else:
                self._sp.Load(model_file=path)
        except Exception as e:
            raise InputError(f"{path or 'model_proto'}: not a loadable SentencePiece model ({e})") from None
        self.source = path or ""
        self.name = name or (_default_name(path) if path else "tokenizer")
        self._threads = threads  # 0: the library's default (all cores)
        self.card = card
        self._save_artifact = save_artifact

    def save(self, path) -> str:
        p = os.fspath(path)
        if p.endswith(".model"):
            with open(p, "wb") as fh:
                fh.write(self._sp.serialized_model_proto())
            return p
        if self._save_artifact is not None:
            return self._save_artifact(p)
        os.makedirs(p, exist_ok=True)
        return self.save(os.path.join(p, "tokenizer.model")) and p

    @property
    def engine(self):
        return self._sp

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    @cached_property
    def unk_id(self) -> int | None:
        u = self._sp.unk_id()
        return u if 0 <= u < self.vocab_size else None

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        return frozenset(i for i in range(self.vocab_size) if self._sp.is_byte(i))

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(i for i in range(self.vocab_size) if self._sp.is_control(i))

    @cached_property
    def special_tokens(self) -> dict[str, int]:
        # SentencePiece never matches control pieces in text (tokkit's spm trainer makes its special tokens
        # control pieces); user-defined pieces are ordinary vocabulary
        return {self._sp.id_to_piece(i): i for i in sorted(self.special_ids)}

    def encode_ordinary(self, text: str) -> list[int]:
        return self._sp.encode(text, out_type=int)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self._sp.encode(list(texts), out_type=int, num_threads=self._threads or -1)

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(x) for x in self.encode_batch(texts)]

    def encode_with_offsets(self, text: str):
        # sentencepiece parses its piece offsets with protobuf, which it does not install itself
        require("google.protobuf", "spm", purpose="for SentencePiece token offsets")
        proto = self._sp.encode(text, return_type="proto")
        b2c = byte_to_char_offsets(text)
        # begin/end are byte offsets into the original (unnormalized) text
        n = len(text)
        offsets = []
        for p in proto.pieces:
            s, e = b2c[p.begin], b2c[p.end]
            # byte-fallback pieces of one character (and the dummy-prefix piece) span no bytes of their own:
            # give them the character they start, so every piece belongs to a word
            offsets.append((s, s + 1) if s == e and s < n else (s, e))
        return [p.id for p in proto.pieces], offsets

    def decode(self, ids: Sequence[int]) -> str:
        return self._sp.decode(self.check_ids(ids))

    def id_to_token(self, i: int) -> str:
        if not 0 <= i < self.vocab_size:
            raise InputError(f"{self.name}: id {i} is outside the vocabulary (size {self.vocab_size})")
        return self._sp.id_to_piece(i)
