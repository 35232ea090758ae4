"""GPT-2's byte-level alphabet: each byte as a printable character, the map `tokenizers`' ByteLevel uses."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def byte_chars() -> tuple[str, ...]:
    """byte -> character: printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards."""
    keep = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    out, n = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + n))
            n += 1
    return tuple(out)


@lru_cache(maxsize=1)
def char_bytes() -> dict[str, int]:
    """character -> byte, the inverse of byte_chars."""
    return {c: b for b, c in enumerate(byte_chars())}
