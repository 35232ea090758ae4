"""`tokkit train bpe|char|superword|spm`: thin commands over `tokkit.train_*`."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import train_app
from ._common import guarded, print_json, print_table

_CORPUS = typer.Argument(..., help="Training text: files, globs or folders (.txt, .jsonl, .parquet; plain, .gz, "
                         ".zst).")
_OUT = typer.Option(..., "--out", "-o", help="Artifact folder to write (replaced atomically).")
_FORMAT = typer.Option(None, help="txt, jsonl or parquet (default: from the file name).")
_PER_LINE = typer.Option(False, "--per-line", help="txt: a document per line, not per file.")
_TEXT_FIELD = typer.Option("text", help="jsonl field / parquet column with the text.")
_MAX_DOCS = typer.Option(None, help="Stop after this many documents.")
_MAX_BYTES = typer.Option(None, help="Stop after this many bytes of text.")
_SAMPLE = typer.Option(None, help="Keep this fraction of documents (by id hash).")
_SEED = typer.Option(0, help="Seed of sampling and splitting.")
_SPLIT = typer.Option(None, help="Train only on the 'train' (or 'eval') side of the document split.")
_EVAL_FRACTION = typer.Option(0.1, help="Share of documents in the eval split.")
_REPLACE = typer.Option(False, "--replace-invalid", help="Replace invalid UTF-8 with U+FFFD.")
_JSON = typer.Option(False, "--json", help="Print the card as JSON.")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary.")
_SPECIALS = typer.Option(None, help="Comma-separated special tokens (ids 0..n-1); default: start, end, pad, "
                         "unk, sep, cls, mask and chat-role markers.")


def _docs(corpus, format, per_line, text_field, max_documents, max_bytes, sample, seed, split, eval_fraction,
          replace_invalid, quiet):
    from ..corpora import read_documents

    return read_documents(corpus, format=format, per="line" if per_line else "file", text_field=text_field,
                max_documents=max_documents, max_bytes=max_bytes, sample=sample, seed=seed, split=split,
                eval_fraction=eval_fraction, errors="replace" if replace_invalid else "strict",
                          quiet=quiet)


def _report(out: str, as_json: bool, quiet: bool) -> None:
    from ..train.artifacts import read_card

    card = read_card(out)
    if as_json:
        print_json(dict(card, out=out))
        return
    if quiet:
        return
    v, c, t = card["vocabulary"], card["corpus"], card["timings"]
    size = v.get("size_with_special_tokens", card["parameters"].get("vocab_size"))
    print_table(f"{card['recipe']} tokenizer -> {out}", ["vocabulary", "documents", "characters", "seconds",
                                                          "files"],
                [[size, c.get("documents", 0), c.get("characters", 0), t.get("total", 0.0),
                  ", ".join(card["files"] + ["tokkit.json"])]])


@train_app.command("bpe")
@guarded
def bpe(
    corpus: List[str] = _CORPUS,
    out: str = _OUT,
    vocab_size: int = typer.Option(32768, "--vocab-size", "-v", help="Total size, special tokens included."),
    pow2: bool = typer.Option(False, "--pow2", help="Round vocab-size up to a power of two (by real merges)."),
    uncased: bool = typer.Option(False, "--uncased", help="Lowercase before training."),
    normalizer: str = typer.Option("NFC", help="none, NFC or NFKC."),
    min_frequency: int = typer.Option(2, help="Stop merging pairs seen fewer times."),
    pre_tokenizer: str = typer.Option("gpt2", help="gpt2, gpt4o or whitespace."),
    split_digits: bool = typer.Option(False, "--split-digits", help="Every digit its own pre-token."),
    terms: Optional[str] = typer.Option(None, help="File of domain terms, one per line: each becomes one token."),
    special_tokens: Optional[str] = _SPECIALS,
    format: Optional[str] = _FORMAT, per_line: bool = _PER_LINE, text_field: str = _TEXT_FIELD,
    max_documents: Optional[int] = _MAX_DOCS, max_bytes: Optional[int] = _MAX_BYTES,
    sample: Optional[float] = _SAMPLE, seed: int = _SEED, split: Optional[str] = _SPLIT,
    eval_fraction: float = _EVAL_FRACTION, replace_invalid: bool = _REPLACE,
    as_json: bool = _JSON, quiet: bool = _QUIET,
):
    """Domain byte-level BPE (KL3M-style) with exact sizes and domain terms inside the model."""
    from ..train import train_bpe

    train_bpe(_docs(corpus, format, per_line, text_field, max_documents, max_bytes, sample, seed, split,
                   eval_fraction, replace_invalid, quiet or as_json), out, vocab_size=vocab_size, pow2=pow2, cased=not uncased, normalizer=normalizer,
              min_frequency=min_frequency, pre_tokenizer=pre_tokenizer, split_digits=split_digits, terms=terms,
              special_tokens=_specials(special_tokens), quiet=quiet or as_json)
    _report(out, as_json, quiet)


@train_app.command("char")
@guarded
def char(
    corpus: List[str] = _CORPUS,
    out: str = _OUT,
    vocab_size: int = typer.Option(4096, "--vocab-size", "-v", help="Total size (4096, 8192, 16384, ...)."),
    max_token_chars: Optional[int] = typer.Option(None, help="Longest token in Unicode characters (default 3; "
                                                  "4 from 16K)."),
    min_frequency: int = typer.Option(2, help="Stop merging pairs seen fewer times."),
    pre_tokenizer: str = typer.Option("gpt2", help="gpt2, gpt4o or whitespace."),
    limit_alphabet: Optional[int] = typer.Option(None, help="Keep only this many non-ASCII characters (default: "
                                                 "vocab-size / 16; -1: all of the corpus)."),
    special_tokens: Optional[str] = _SPECIALS,
    format: Optional[str] = _FORMAT, per_line: bool = _PER_LINE, text_field: str = _TEXT_FIELD,
    max_documents: Optional[int] = _MAX_DOCS, max_bytes: Optional[int] = _MAX_BYTES,
    sample: Optional[float] = _SAMPLE, seed: int = _SEED, split: Optional[str] = _SPLIT,
    eval_fraction: float = _EVAL_FRACTION, replace_invalid: bool = _REPLACE,
    as_json: bool = _JSON, quiet: bool = _QUIET,
):
    """Character-level BPE: token length bounded exactly in Unicode characters, no unreachable entries."""
    from ..train import train_char

    train_char(_docs(corpus, format, per_line, text_field, max_documents, max_bytes, sample, seed, split,
                   eval_fraction, replace_invalid, quiet or as_json), out, vocab_size=vocab_size, max_token_chars=max_token_chars, min_frequency=min_frequency,
               pre_tokenizer=pre_tokenizer,
               limit_alphabet="auto" if limit_alphabet is None else None if limit_alphabet < 0 else limit_alphabet,
               special_tokens=_specials(special_tokens), quiet=quiet or as_json)
    _report(out, as_json, quiet)


@train_app.command("superword")
@guarded
def superword(
    corpus: List[str] = _CORPUS,
    out: str = _OUT,
    vocab_size: int = typer.Option(32768, "--vocab-size", "-v", help="Total size, special tokens included."),
    transition: Optional[int] = typer.Option(None, help="Vocabulary size where stage 2 starts (default 90%)."),
    max_words: int = typer.Option(4, help="Most words one token may span."),
    pow2: bool = typer.Option(False, "--pow2", help="Round vocab-size up to a power of two."),
    uncased: bool = typer.Option(False, "--uncased", help="Lowercase before training."),
    normalizer: str = typer.Option("NFC", help="none, NFC or NFKC."),
    min_frequency: int = typer.Option(2, help="Stop merging pairs seen fewer times."),
    special_tokens: Optional[str] = _SPECIALS,
    format: Optional[str] = _FORMAT, per_line: bool = _PER_LINE, text_field: str = _TEXT_FIELD,
    max_documents: Optional[int] = _MAX_DOCS, max_bytes: Optional[int] = _MAX_BYTES,
    sample: Optional[float] = _SAMPLE, seed: int = _SEED, split: Optional[str] = _SPLIT,
    eval_fraction: float = _EVAL_FRACTION, replace_invalid: bool = _REPLACE,
    as_json: bool = _JSON, quiet: bool = _QUIET,
):
    """Superword (SuperBPE) tokenizer: stage-2 merges may cross single spaces; plain tokenizer.json."""
    from ..train import train_superword

    train_superword(_docs(corpus, format, per_line, text_field, max_documents, max_bytes, sample, seed, split,
                   eval_fraction, replace_invalid, quiet or as_json), out, vocab_size=vocab_size, transition=transition, max_words=max_words, pow2=pow2,
                    cased=not uncased, normalizer=normalizer, min_frequency=min_frequency,
                    special_tokens=_specials(special_tokens), quiet=quiet or as_json)
    _report(out, as_json, quiet)


@train_app.command("spm")
@guarded
def spm(
    corpus: List[str] = _CORPUS,
    out: str = _OUT,
    vocab_size: int = typer.Option(32000, "--vocab-size", "-v", help="Total size, special tokens included."),
    model_type: str = typer.Option("unigram", help="unigram or bpe."),
    pow2: bool = typer.Option(False, "--pow2", help="Round vocab-size up to a power of two."),
    normalization: str = typer.Option("identity", help="identity (keeps text as is), nfkc, nmt_nfkc, ..."),
    no_byte_fallback: bool = typer.Option(False, "--no-byte-fallback", help="Unknown characters become <unk>."),
    cross_words: bool = typer.Option(False, "--cross-words", help="Allow pieces across whitespace."),
    collapse_whitespace: bool = typer.Option(False, "--collapse-whitespace",
                                             help="SentencePiece's default: squeeze runs of spaces."),
    dummy_prefix: bool = typer.Option(False, "--dummy-prefix", help="Add a leading space to every text."),
    character_coverage: float = typer.Option(0.9995, help="Share of characters the alphabet must cover."),
    input_sentence_size: int = typer.Option(0, help="Sample this many sentences (0: all) to bound memory."),
    special_tokens: Optional[str] = _SPECIALS,
    format: Optional[str] = _FORMAT, per_line: bool = _PER_LINE, text_field: str = _TEXT_FIELD,
    max_documents: Optional[int] = _MAX_DOCS, max_bytes: Optional[int] = _MAX_BYTES,
    sample: Optional[float] = _SAMPLE, seed: int = _SEED, split: Optional[str] = _SPLIT,
    eval_fraction: float = _EVAL_FRACTION, replace_invalid: bool = _REPLACE,
    as_json: bool = _JSON, quiet: bool = _QUIET,
):
    """SentencePiece unigram or BPE, layout-preserving by default (identity, byte fallback)."""
    from ..train import train_spm

    train_spm(_docs(corpus, format, per_line, text_field, max_documents, max_bytes, sample, seed, split,
                   eval_fraction, replace_invalid, quiet or as_json), out, vocab_size=vocab_size, model_type=model_type, pow2=pow2, normalization=normalization,
              byte_fallback=not no_byte_fallback, split_by_whitespace=not cross_words,
              remove_extra_whitespaces=collapse_whitespace, add_dummy_prefix=dummy_prefix,
              character_coverage=character_coverage, input_sentence_size=input_sentence_size,
              special_tokens=_specials(special_tokens), quiet=quiet or as_json)
    _report(out, as_json, quiet)


def _specials(s: Optional[str]):
    if s is None:
        return None
    return [t for t in s.split(",")] if s else []
