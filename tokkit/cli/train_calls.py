"""The CLI's calls into the training API: one function per `tokkit train` verb, and nothing else calls a
trainer. Every byte-level verb goes through its recipe (`train_bpe`, `train_superword`, `train_parity`), whose
engine is native by default; the hidden, deprecated `train native` keeps `train_native`'s own defaults."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from ..errors import InputError


def _given(**kw) -> dict[str, Any]:
    """The options the user set (None / False / empty mean: the API's default)."""
    return {k: v for k, v in kw.items()
            if v is not None and v is not False and not (isinstance(v, (list, tuple)) and not v)}


def _refuse(engine: str, options: Mapping[str, Any], flags: Mapping[str, str]) -> None:
    if options:
        names = ", ".join(flags[k] for k in options)
        raise InputError(f"{names}: not available with --engine {engine} (this build)")


_HF_ONLY = dict(pow2="--pow2", uncased="--uncased", normalizer="--normalizer", split_digits="--split-digits")


def train_bpe(documents: Optional[Iterable[Any]], out: str, *, engine: Optional[str], vocab_size: int,
              min_frequency: Optional[int], pre_tokenizer: Optional[str], special_tokens: Optional[Sequence[str]],
              terms: Optional[Sequence[str]], terms_file: Optional[str], quiet: bool, allow_smaller: bool = False,
              pow2: bool = False, uncased: bool = False, normalizer: Optional[str] = None,
              split_digits: bool = False, word_counts: Optional[Mapping[str, int]] = None,
              files: Sequence[str] = (), per_line: bool = False, max_bytes: Optional[int] = None,
              resume: Optional[str] = None, export_sizes: Sequence[int] = (), max_words: Optional[int] = None,
              threads: Optional[int] = None, unicode: Optional[str] = None, native_defaults: bool = False):
    """`tokkit train bpe` (and, with native_defaults, the hidden `train native`: no normalizer, every pair
    merged, `files` read as bytes). Returns the trained tokenizer."""
    opts = _given(engine=engine, min_frequency=min_frequency, pre_tokenizer=pre_tokenizer,
                  terms=list(terms or ()) or None, terms_file=terms_file, resume=resume,
                  export_sizes=list(export_sizes), max_words=max_words, threads=threads,
                  allow_smaller=allow_smaller)
    if native_defaults:
        _refuse("native", _given(pow2=pow2, uncased=uncased, normalizer=normalizer, split_digits=split_digits),
                _HF_ONLY)
        if engine not in (None, "native"):
            raise InputError("`train native` is the native engine: use `train bpe --engine hf`")
        opts.pop("engine", None)
        from ..train.common import DEFAULT_SPECIAL_TOKENS
        from ..train.native import train_native

        return train_native(None if documents is None else (d.text for d in documents), files=files, out=out,
                            vocab_size=vocab_size, word_counts=word_counts, per_line=per_line,
                            max_bytes=max_bytes, quiet=quiet, unicode=unicode or "regex",
                            special_tokens=DEFAULT_SPECIAL_TOKENS if special_tokens is None else special_tokens,
                            **opts)
    if files or unicode:
        raise InputError("--unicode and byte-level file reading belong to the deprecated `train native`")
    from ..train import train_bpe as api

    corpus: Any = word_counts if word_counts is not None else documents
    return api(corpus, out, vocab_size=vocab_size, pow2=pow2, cased=not uncased, quiet=quiet,
               special_tokens=special_tokens, **opts,
               **_given(normalizer=normalizer, split_digits=split_digits))


def train_char(documents, out: str, *, vocab_size: int, max_token_chars: Optional[int], min_frequency: int,
               pre_tokenizer: Optional[str], limit_alphabet: Any, special_tokens: Optional[Sequence[str]],
               quiet: bool):
    """`tokkit train char`."""
    from ..train import train_char as api

    api(documents, out, vocab_size=vocab_size, max_token_chars=max_token_chars, min_frequency=min_frequency,
        limit_alphabet=limit_alphabet, special_tokens=special_tokens, quiet=quiet,
        **_given(pre_tokenizer=pre_tokenizer))


def train_superword(documents: Optional[Iterable[Any]], out: str, *, engine: Optional[str], vocab_size: int,
                    transition: Optional[int], max_token_words: int, min_frequency: Optional[int],
                    special_tokens: Optional[Sequence[str]], quiet: bool, allow_smaller: bool = False,
                    pre_tokenizer: Optional[str] = None, pow2: bool = False, uncased: bool = False,
                    normalizer: Optional[str] = None, files: Sequence[str] = (), per_line: bool = False,
                    max_bytes: Optional[int] = None, threads: Optional[int] = None):
    """`tokkit train superword` (and `train native --superword`). Returns the trained tokenizer."""
    if files or threads:
        raise InputError("superword training reads documents (not raw files) and picks its own threads")
    if pre_tokenizer not in (None, "gpt4o"):
        raise InputError(f"--pre-tokenizer {pre_tokenizer}: the superword recipe's stage 1 uses gpt4o")
    if documents is None:
        raise InputError("give training documents")
    from ..train import train_superword as api

    return api(documents, out, vocab_size=vocab_size, transition=transition, max_token_words=max_token_words,
               pow2=pow2, cased=not uncased, special_tokens=special_tokens, quiet=quiet,
               **_given(engine=engine, normalizer=normalizer, min_frequency=min_frequency,
                        allow_smaller=allow_smaller))


def train_spm(documents, out: str, *, vocab_size: int, special_tokens: Optional[Sequence[str]], quiet: bool,
              **options):
    """`tokkit train spm`: options are `train_spm` keywords."""
    from ..train import train_spm as api

    api(documents, out, vocab_size=vocab_size, special_tokens=special_tokens, quiet=quiet, **options)


def train_parity(corpus: str, out: str, *, languages: Optional[Sequence[str]], dev_fraction: float,
                 vocab_size: int, pre_tokenizer: Optional[str], global_merges: int, min_frequency: int,
                 special_tokens: Optional[Sequence[str]], threads: Optional[int], quiet: bool,
                 allow_smaller: bool = False):
    """`tokkit train parity` (and `train native --parity`). Returns the trained tokenizer."""
    from ..corpora import load_parallel, parallel_split
    from ..train.parity import train_parity as api

    train, dev, _ = parallel_split(load_parallel(corpus), list(languages) if languages else None,
                                   dev_fraction=dev_fraction)
    return api(train, dev, vocab_size=vocab_size, pre_tokenizer=pre_tokenizer or "gpt2",
               global_merges=global_merges, min_frequency=min_frequency,
               special_tokens=list(special_tokens or []), threads=threads, out=out, quiet=quiet,
               allow_smaller=allow_smaller)
