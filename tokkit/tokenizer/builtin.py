"""Two tokenizers that need no file: UTF-8 bytes (ByT5-like, without its 3 special ids) and Unicode code
points. They are the floor and the yardstick of premiums: the bytes tokenizer's premium is the byte premium."""

from __future__ import annotations

from typing import Sequence

from .base import Tokenizer, byte_to_char_offsets


class BytesTokenizer(Tokenizer):
    name = kind = "bytes"
    isolated_roundtrip = False  # every byte is reachable by construction

    @property
    def vocab_size(self) -> int:
        return 256

    def encode_ordinary(self, text: str) -> list[int]:
        return list(text.encode("utf-8", "surrogatepass"))

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(t.encode("utf-8", "surrogatepass")) for t in texts]

    def encode_with_offsets(self, text: str):
        ids = self.encode(text)
        b2c = byte_to_char_offsets(text)
        return ids, [(b2c[k], b2c[k] + 1) for k in range(len(ids))]

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(self.check_ids(ids)).decode("utf-8", "replace")

    def id_to_token(self, i: int) -> str:
        return f"<0x{i:02X}>" if i >= 0x80 else chr(i)


class CharsTokenizer(Tokenizer):
    """One id per code point: the id is the code point itself, so the vocabulary is all of Unicode."""

    name = kind = "chars"

    @property
    def vocab_size(self) -> int:
        return 0x110000

    def encode_ordinary(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]

    def encode_with_offsets(self, text: str):
        return self.encode(text), [(i, i + 1) for i in range(len(text))]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(map(chr, self.check_ids(ids)))

    def id_to_token(self, i: int) -> str:
        return chr(i)
