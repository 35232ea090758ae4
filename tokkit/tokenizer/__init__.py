"""Load any tokenizer behind one interface: Hugging Face json or folder, SentencePiece model, tiktoken
ranks (with a split pattern), and the built-ins `bytes` and `chars`."""

from __future__ import annotations

import os

from .._paths import tokenizers_root
from ..errors import InputError
from .base import Tokenizer
from .builtin import BytesTokenizer, CharsTokenizer
from .fast import CHOICES as ENCODER_CHOICES
from .fast import attach

__all__ = ["Tokenizer", "BytesTokenizer", "CharsTokenizer", "load_tokenizer", "tokenizers_root",
           "ENCODER_CHOICES"]


def _is_sentencepiece(path: str) -> bool:
    # a serialized ModelProto starts with field 1 (pieces), wire type 2: byte 0x0A
    with open(path, "rb") as fh:
        return fh.read(1) == b"\n"


def _load_file(path: str, pattern: str | None, name: str | None) -> Tokenizer:
    from .tiktoken_ranks import TiktokenTokenizer, looks_like_ranks

    if path.endswith(".json"):
        from .hf import HFTokenizer

        return HFTokenizer(path, name=name)
    if path.endswith(".tiktoken") or looks_like_ranks(path):
        return TiktokenTokenizer(path, pattern=pattern, name=name)
    if ".model" in os.path.basename(path) or _is_sentencepiece(path):
        from .spm import SentencePieceTokenizer

        return SentencePieceTokenizer(path, name=name)
    raise InputError(f"{path}: unknown tokenizer format (expected tokenizer.json, a SentencePiece .model, "
                     "or a tiktoken ranks file)")


def _load_folder(path: str, pattern: str | None, name: str | None) -> Tokenizer:
    name = name or os.path.basename(os.path.abspath(path))
    for cand in ("tokenizer.json", "tokenizer.model", "tokenizer.model.v3", "spiece.model", "sentencepiece.bpe.model"):
        f = os.path.join(path, cand)
        if os.path.isfile(f):
            return _load_file(f, pattern, name)
    found = sorted(f for f in os.listdir(path) if f.endswith((".model", ".tiktoken", ".json")))
    for f in found:
        if f.endswith((".model", ".tiktoken")):
            return _load_file(os.path.join(path, f), pattern, name)
    raise InputError(f"{path}: no tokenizer.json, SentencePiece .model or .tiktoken file in this folder")


def load_tokenizer(spec: "str | os.PathLike | Tokenizer", *, split_pattern: str | None = None,
                   name: str | None = None, pattern: str | None = None, encoder: str = "auto") -> Tokenizer:
    """A `Tokenizer` from a path or a name. Nothing loaded this way adds special tokens.

    Args:
        spec: "bytes" | "chars" | a tokenizer.json | a folder holding one (or a .model) | a SentencePiece .model
            | a tiktoken ranks file | the name of a file or folder under $TOKKIT_TOKENIZERS (e.g. "o200k_base",
            "gpt2", "llama2") | a `Tokenizer` (returned as it is).
        split_pattern: a tiktoken ranks file's split regex, or a known name such as "cl100k_base"; recognised from
            the file name for the public encodings.
        name: the name the tokenizer reports (default: from the path).
        pattern: the deprecated spelling of `split_pattern`.
        encoder: what encodes and counts ("engine" is the training word: native or hf). "auto" (default): the
            fastest installed engine of `tokkit[fast]` that gives the reference engine's ids on a probe set at
            load time, tried on byte-level BPE tokenizers, else the reference engine, silently; "reference": the
            format's own engine (tokenizers, tiktoken, sentencepiece); "tokie" / "splintr": that engine or an
            error. `.encoder` says which one runs; offsets and decode always run on the reference engine. See
            tokkit.tokenizer.fast.

    Returns:
        The loaded `Tokenizer`.

    Raises:
        InputError: nothing found under that name or path, an unreadable file, or an encoder that is not
            installed or does not match the reference.
    """
    if pattern is not None:
        import warnings

        warnings.warn("load_tokenizer(pattern=...) is deprecated: use split_pattern=", DeprecationWarning,
                      stacklevel=2)
        split_pattern = split_pattern or pattern
    if isinstance(spec, Tokenizer):
        # a tokenizer object keeps the engine it was loaded with unless one is named
        return spec if encoder == "auto" else attach(spec, encoder)
    return attach(_load(os.fspath(spec), split_pattern, name), encoder)


def _load(spec: str, pattern: str | None, name: str | None) -> Tokenizer:
    if spec == "bytes":
        return BytesTokenizer()
    if spec == "chars":
        return CharsTokenizer()
    if os.path.isdir(spec):
        return _load_folder(spec, pattern, name)
    if os.path.isfile(spec):
        return _load_file(spec, pattern, name)
    root = tokenizers_root()
    if root is not None and spec and not os.path.isabs(spec):
        # a name stays under $TOKKIT_TOKENIZERS: "../x" or "gpt2/../../x" would reach any folder
        if ".." in spec.replace("\\", "/").split("/"):
            raise InputError(f"{spec}: a tokenizer name may not contain '..' (names are looked up under {root}; "
                             "give a path to load a file elsewhere)")
        for cand in (root / spec, root / "tiktoken" / f"{spec}.tiktoken", root / "kl3m" / spec):
            if cand.is_dir():
                return _load_folder(str(cand), pattern, name or spec)
            if cand.is_file():
                return _load_file(str(cand), pattern, name or spec)
    where = f" or under {root}" if root else " (set TOKKIT_TOKENIZERS to look up names)"
    raise InputError(f"{spec}: no such tokenizer file or folder{where}; built-ins: bytes, chars")
