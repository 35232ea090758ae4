"""GPT-2's byte-level alphabet (each byte as a printable character, the map `tokenizers`' ByteLevel uses)
and every conversion between byte-level token strings, bytes and text."""

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


def byte_level_alphabet() -> list[str]:
    """The 256 symbols of the byte-level mapping, in byte order (the set `ByteLevel.alphabet()` holds)."""
    return list(byte_chars())


def to_chars(data: bytes) -> str:
    """The byte-level token string of some bytes."""
    # Latin-1 gives one character per byte, and str.translate maps each through the table in C
    return data.decode("latin-1").translate(byte_chars())


def to_byte_symbols(text: str) -> list[str]:
    """The byte-level symbols of a text's UTF-8 bytes, one per byte."""
    chars = byte_chars()
    return [chars[b] for b in text.encode("utf-8")]


def to_bytes(token: str) -> bytes | None:
    """Bytes of a byte-level token string; None if it holds a character outside the byte alphabet
    (a special token such as "<|end|>" spelled in plain characters is not)."""
    m = char_bytes()
    try:
        return bytes(m[c] for c in token)
    except KeyError:
        return None


def decode_byte_token(token: str) -> str:
    """The text of a byte-level token (U+FFFD where it holds part of a character)."""
    inv = char_bytes()
    return bytes(inv[c] for c in token).decode("utf-8", "replace")
