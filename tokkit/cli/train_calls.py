"""The CLI's calls into the training API: one function per `tokkit train` verb, and nothing else calls a
trainer. Keyword renames in the API (engine, resume, out, terms, max_token_words, train_parity) land here.

In this branch the byte-level recipes `train_bpe` / `train_superword` run Hugging Face's trainer and take
no `engine`; the numba trainer is `train.native`. So `--engine native`, and every option only the numba
trainer has (--counts, --wordfreq, --resume, --export-size, --max-words, --threads, --unicode), go to
`train_native` / `train_superword_native`; without --engine the recipe's own default runs.
"""

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


_NATIVE_ONLY = dict(word_counts="--counts/--wordfreq", resume="--resume", export_sizes="--export-size",
                    max_words="--max-words", threads="--threads", unicode="--unicode",
                    files="a .txt file read as bytes")
_HF_ONLY = dict(pow2="--pow2", uncased="--uncased", normalizer="--normalizer", split_digits="--split-digits")


def train_bpe(documents: Optional[Iterable[Any]], out: str, *, engine: Optional[str], vocab_size: int,
              min_frequency: Optional[int], pre_tokenizer: Optional[str], special_tokens: Optional[Sequence[str]],
              terms: Sequence[str], terms_file: Optional[str], quiet: bool, allow_smaller: bool = False,
              pow2: bool = False, uncased: bool = False, normalizer: Optional[str] = None,
              split_digits: bool = False, word_counts: Optional[Mapping[str, int]] = None,
              files: Sequence[str] = (), per_line: bool = False, max_bytes: Optional[int] = None,
              resume: Optional[str] = None, export_sizes: Sequence[int] = (), max_words: Optional[int] = None,
              threads: Optional[int] = None, unicode: Optional[str] = None):
    """`tokkit train bpe` (and the hidden `train native`). Returns the summary row for --json."""
    if allow_smaller:
        raise InputError("--allow-smaller: not available in this build")  # MERGE: pass allow_smaller=
    native_only = _given(word_counts=word_counts, resume=resume, export_sizes=list(export_sizes),
                         max_words=max_words, threads=threads, unicode=unicode, files=list(files))
    hf_only = _given(pow2=pow2, uncased=uncased, normalizer=normalizer, split_digits=split_digits)
    if engine == "native" or (engine is None and native_only):
        _refuse("native", hf_only, _HF_ONLY)
        from ..train.common import DEFAULT_SPECIAL_TOKENS
        from ..train.native import train_native

        term_list = list(terms) + (_read(terms_file) if terms_file else [])
        # MERGE: tokkit.train.train_bpe(documents, out, engine="native", pre_tokenizer=, resume=, terms=, ...)
        model = train_native(None if documents is None else (d.text for d in documents), files=files,
                             vocab_size=vocab_size, pattern=pre_tokenizer,
                             min_frequency=0 if min_frequency is None else min_frequency,
                             special_tokens=DEFAULT_SPECIAL_TOKENS if special_tokens is None else special_tokens,
                             word_counts=word_counts, per_line=per_line, resume_from=resume, domain_terms=term_list,
                             max_words=max_words, threads=threads, max_bytes=max_bytes, out_dir=out,
                             export_sizes=list(export_sizes), quiet=quiet, unicode=unicode or "regex")
        return dict(out=out, vocab_size=model.vocab_size, merges=len(model.merges), pattern=model.pattern,
                    **model.timings, **model.stats)
    _refuse(engine or "hf", native_only, _NATIVE_ONLY)
    from ..train import train_bpe as api

    # a terms file alone goes by path, so the card records where the terms came from
    given_terms: Any = terms_file if terms_file and not terms else \
        list(terms) + (_read(terms_file) if terms_file else []) or None
    # MERGE: engine=engine
    api(documents, out, vocab_size=vocab_size, pow2=pow2, cased=not uncased, quiet=quiet,
        **_given(normalizer=normalizer, min_frequency=min_frequency, pre_tokenizer=pre_tokenizer,
                 split_digits=split_digits, terms=given_terms),
        special_tokens=special_tokens)
    return None


def _read(terms_file: str) -> list[str]:
    from ..train.terms import read_terms

    return read_terms(terms_file)


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
    """`tokkit train superword` (and `train native --superword`). Returns the summary row for --json
    from the native engine, None when the recipe wrote its card."""
    if allow_smaller:
        raise InputError("--allow-smaller: not available in this build")  # MERGE: pass allow_smaller=
    native_only = _given(threads=threads, files=list(files))
    if engine == "native" or (engine is None and native_only):
        _refuse("native", _given(pow2=pow2, uncased=uncased, normalizer=normalizer), _HF_ONLY)
        from ..train.common import DEFAULT_SPECIAL_TOKENS
        from ..train.native import train_superword_native

        # MERGE: tokkit.train.train_superword(documents, out, engine="native", max_token_words=, ...)
        model = train_superword_native(
            None if documents is None else [d.text for d in documents], files=files, vocab_size=vocab_size,
            transition=transition, stage1_pattern=pre_tokenizer or "gpt4o", max_token_words=max_token_words,
            min_frequency=0 if min_frequency is None else min_frequency,
            special_tokens=DEFAULT_SPECIAL_TOKENS if special_tokens is None else special_tokens,
            per_line=per_line, threads=threads, max_bytes=max_bytes, out_dir=out, quiet=quiet)
        return dict(out=out, vocab_size=model.vocab_size, merges=len(model.merges), pattern=model.pattern,
                    **model.timings, **model.stats)
    _refuse(engine or "hf", native_only, _NATIVE_ONLY)
    if pre_tokenizer not in (None, "gpt4o"):
        raise InputError(f"--pre-tokenizer {pre_tokenizer}: the superword recipe's stage 1 uses gpt4o")
    from ..train import train_superword as api

    # MERGE: engine=engine, max_token_words=max_token_words
    api(documents, out, vocab_size=vocab_size, transition=transition, max_words=max_token_words, pow2=pow2,
        cased=not uncased, special_tokens=special_tokens, quiet=quiet,
        **_given(normalizer=normalizer, min_frequency=min_frequency))
    return None


def train_spm(documents, out: str, *, vocab_size: int, special_tokens: Optional[Sequence[str]], quiet: bool,
              **options):
    """`tokkit train spm`: options are `train_spm` keywords."""
    from ..train import train_spm as api

    api(documents, out, vocab_size=vocab_size, special_tokens=special_tokens, quiet=quiet, **options)


def train_parity(corpus: str, out: str, *, languages: Optional[Sequence[str]], dev_fraction: float,
                 vocab_size: int, pre_tokenizer: Optional[str], global_merges: int, min_frequency: int,
                 special_tokens: Optional[Sequence[str]], threads: Optional[int], quiet: bool,
                 allow_smaller: bool = False):
    """`tokkit train parity` (and `train native --parity`). Returns the model."""
    if allow_smaller:
        raise InputError("--allow-smaller: not available in this build")  # MERGE: pass allow_smaller=
    from ..corpora import load_parallel
    from ..train.native import parallel_split, train_parity_native

    train, dev, _ = parallel_split(load_parallel(corpus), list(languages) if languages else None,
                                   dev_fraction=dev_fraction)
    # MERGE: tokkit.train.parity.train_parity(train, dev, pre_tokenizer=..., out=out, ...)
    return train_parity_native(train, dev, vocab_size=vocab_size, pattern=pre_tokenizer or "gpt2",
                               global_merges=global_merges, min_frequency=min_frequency,
                               special_tokens=list(special_tokens or []), threads=threads, out_dir=out,
                               quiet=quiet)
