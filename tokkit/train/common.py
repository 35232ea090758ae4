"""What every recipe shares: the corpus stream, special tokens, vocabulary sizes, finishing the artifact."""

from __future__ import annotations

import json
import os
import time
import unicodedata
from typing import Any, Callable, Iterable, Iterator, Sequence

from .._progress import notice, progress
from ..errors import EmptyInputError, InputError
from .artifacts import Card, Fingerprint, vocabulary_stats, write_artifacts

# Special tokens at ids 0.. in this order: sequence control first, then chat-role markers.
DEFAULT_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|start|>", "<|end|>", "<|pad|>", "<|unk|>", "<|sep|>", "<|cls|>", "<|mask|>",
    "<|system|>", "<|/system|>", "<|user|>", "<|/user|>", "<|assistant|>", "<|/assistant|>",
)
# the roles transformers knows by name, for tokenizer_config.json
_HF_ROLES = {"bos_token": "<|start|>", "eos_token": "<|end|>", "pad_token": "<|pad|>", "unk_token": "<|unk|>",
             "sep_token": "<|sep|>", "cls_token": "<|cls|>", "mask_token": "<|mask|>"}

NORMALIZERS = ("none", "NFC", "NFKC")


def check_special_tokens(special_tokens: Sequence[str] | None) -> list[str]:
    toks = list(DEFAULT_SPECIAL_TOKENS if special_tokens is None else special_tokens)
    seen: set[str] = set()
    for i, t in enumerate(toks):
        if not isinstance(t, str) or not t:
            raise InputError(f"special_tokens[{i}]: expected a non-empty string, got {t!r}")
        if t in seen:
            raise InputError(f"special_tokens[{i}]: {t!r} is listed twice")
        seen.add(t)
    return toks


def check_export_sizes(export_sizes: Sequence[int], vocab_size: int, floor: int) -> list[int]:
    """The sizes of the extra tokenizer-<V>.json files, sorted: whole numbers above the base vocabulary
    (`floor`: special tokens and alphabet) and below vocab_size (the run's own size is tokenizer.json)."""
    out = []
    for v in export_sizes:
        if isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"export_sizes: {v!r} is not a whole number")
        if not floor < v < vocab_size:
            raise InputError(f"export size {v}: must be above the {floor} base tokens and below vocab_size="
                             f"{vocab_size} (a smaller tokenizer from the same run)")
        out.append(v)
    return sorted(set(out))


def check_normalizer(normalizer: str | None) -> str:
    n = "none" if normalizer in (None, "", "none", "None") else normalizer
    up = n.upper() if n != "none" else n
    if up not in NORMALIZERS:
        raise InputError(f"normalizer={normalizer!r}: expected one of none, NFC, NFKC")
    return up


def hf_lowercase(text: str) -> str:
    """Lowercase as tokenizers' Lowercase normalizer does: each character on its own (Rust's
    char::to_lowercase), so a final capital sigma becomes σ, not the ς that str.lower's context rule gives
    (the only context-dependent mapping str.lower applies)."""
    return text.replace("\u03a3", "\u03c3").lower() if "\u03a3" in text else text.lower()


def normalize_text(text: str, normalizer: str, lowercase: bool) -> str:
    """The Python twin of the tokenizer's normalizer: what the native engine counts, and what terms are
    matched against."""
    if normalizer != "none":
        text = unicodedata.normalize(normalizer, text)
    return hf_lowercase(text) if lowercase else text


def resolve_vocab_size(vocab_size: int, pow2: bool) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise InputError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    if pow2:
        return 1 << (vocab_size - 1).bit_length()
    return vocab_size


def check_min_frequency(min_frequency: int) -> int:
    # 0 and 1 mean the same (every pair seen at all), as in HF's BpeTrainer
    if isinstance(min_frequency, bool) or not isinstance(min_frequency, int) or min_frequency < 0:
        raise InputError(f"min_frequency must be an integer >= 0, got {min_frequency!r}")
    return min_frequency


class CorpusStream:
    """The training text as a stream of strings, fingerprinted as it passes and shown with a progress bar.

    `corpus` may be a `tokkit.corpora.Documents`, a path / glob / folder (a str or PathLike) or a list of
    them (read with `read_documents`), or any iterable of strings (texts). Only one document is held at a
    time.
    """

    def __init__(self, corpus: Any, *, quiet: bool = True, **read_kw):
        from ..corpora import Documents, read_documents

        if isinstance(corpus, (str, os.PathLike)) or (
                isinstance(corpus, (list, tuple)) and corpus and all(isinstance(c, (str, os.PathLike)) for c in corpus)
                and all(_looks_like_path(c) for c in corpus)):
            corpus = read_documents(corpus, **read_kw)
        if isinstance(corpus, Documents):
            self.describe = corpus.describe
            self._texts: Callable[[], Iterable[str]] = corpus.texts
        elif isinstance(corpus, Iterable):
            items = corpus
            self.describe = type(corpus).__name__
            self._texts = lambda: items
        else:
            raise InputError(f"corpus: expected Documents, a path, or an iterable of strings, got "
                             f"{type(corpus).__name__}")
        self.quiet = quiet
        self.fingerprint = Fingerprint()
        self._passes = 0

    def __iter__(self) -> Iterator[str]:
        self._passes += 1
        if self._passes > 1:  # a second pass (e.g. two-stage recipes) must not count twice
            self.fingerprint = Fingerprint()
        n = 0
        with progress("reading corpus", quiet=self.quiet, unit="MB") as bar:
            for i, text in enumerate(self._texts()):
                if not isinstance(text, str):
                    raise InputError(f"corpus item {i}: expected a string, got {type(text).__name__}")
                if not text:
                    continue
                self.fingerprint.update(text)
                bar.advance(len(text) / 1e6)
                n += 1
                yield text
        if n == 0:
            raise EmptyInputError(f"{self.describe}: the corpus is empty (no non-empty text to train on)")

    def corpus_card(self) -> dict:
        return dict(source=self.describe, **self.fingerprint.as_dict())


def _looks_like_path(p: Any) -> bool:
    """In a list, an item is a path when it is a PathLike, names something on disk, or is a glob that
    matches; anything else is text to train on (text such as "and/or" is not mistaken for a path)."""
    if isinstance(p, os.PathLike):
        return True
    if "\n" in p or len(p) > 4096:
        return False
    if os.path.exists(p):
        return True
    import glob

    return any(ch in p for ch in "*?[") and bool(glob.glob(p, recursive=True))


class Timer:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._t0 + self.timings.get(name, 0.0), 3)
        self._t0 = now

    def total(self) -> dict[str, float]:
        return dict(self.timings, total=round(sum(self.timings.values()), 3))


def hf_tokenizer_config(special_tokens: Sequence[str], model_max_length: int | None = None) -> dict:
    # split_special_tokens: transformers encodes text that spells a special token as plain text, as tokkit
    # does (tokenizer.base); a caller building a prompt passes split_special_tokens=False to match them
    cfg: dict[str, Any] = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
                           "split_special_tokens": True}
    for role, tok in _HF_ROLES.items():
        if tok in special_tokens:
            cfg[role] = tok
    extra = [t for t in special_tokens if t not in _HF_ROLES.values()]
    if extra:
        cfg["additional_special_tokens"] = extra
    if model_max_length:
        cfg["model_max_length"] = model_max_length
    return cfg


def write_json_file(obj) -> Callable[[str], None]:
    """A writer (path -> None) of obj as indented JSON."""
    def write(path):
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
    return write


def save_hf(out: str | os.PathLike, tokenizer, card: Card, special_tokens: Sequence[str],
            extra_writers: dict[str, Callable[[str], None]] | None = None) -> str:
    """tokenizer.json + tokenizer_config.json (so AutoTokenizer.from_pretrained(out) works) + the card,
    written atomically as one folder."""
    writers = {"tokenizer.json": lambda p: tokenizer.save(p, pretty=True),
               "tokenizer_config.json": write_json_file(hf_tokenizer_config(special_tokens))}
    writers.update(extra_writers or {})
    return write_artifacts(out, card, writers)


def hf_vocab_card(tokenizer, *, decode_token: Callable[[str], str] | None = None, special_tokens=(),
                  exclude=()) -> dict:
    """Vocabulary statistics over the ordinary tokens (not special tokens, nor `exclude`, e.g. byte tokens)."""
    vocab = tokenizer.get_vocab()
    skip = set(special_tokens) | set(exclude)
    normal = [t for t in vocab if t not in skip]
    stats = vocabulary_stats(normal, decode=decode_token)
    stats["size_with_special_tokens"] = len(vocab)
    stats["special_tokens"] = len(set(special_tokens))
    return stats


def then_notice(items: Iterable, message: str, *, quiet: bool) -> Iterator:
    """`items`, then a notice: a trainer that shows no progress of its own (Hugging Face's BpeTrainer,
    SentencePiece) gets one line when it has read the corpus and starts its silent phase."""
    yield from items
    notice(message, quiet=quiet)
