"""`tokkit train native ...`: hidden for one release; it is `train bpe --engine native` (with --superword:
`train superword --engine native`; with --parity: `train parity`), under its old flags."""

from __future__ import annotations

import os
from typing import List, Optional

import typer

from . import train_app, train_calls
from ._common import guarded
from .options import warn_deprecated
from .train import _parity_summary, _summary, _word_counts


@train_app.command("native", hidden=True)
@guarded
def native(
    paths: List[str] = typer.Argument(None, help="Text files (.txt read as bytes; .jsonl/.parquet/.gz through "
                                      "the corpus readers)."),
    out: str = typer.Option(..., "--out", "-o", help="Output folder: tokenizer.json + tokkit.json."),
    vocab_size: int = typer.Option(32768, "--vocab-size", "-v", help="Vocabulary size."),
    pattern: Optional[str] = typer.Option(None, "--pattern", "--pre-tokenizer", help="Pre-tokenization."),
    min_frequency: int = typer.Option(0, help="Stop when the best pair is rarer than this."),
    special: List[str] = typer.Option([], "--special", "--special-token", help="A special token (repeatable)."),
    per_line: bool = typer.Option(False, "--per-line", help="Each line is a document."),
    counts: Optional[str] = typer.Option(None, help="Train from a word-count table (.tsv or .parquet)."),
    wordfreq: Optional[str] = typer.Option(None, help="Train from wordfreq counts of this language."),
    prefix_space: bool = typer.Option(False, "--prefix-space", help="Counts: put a space before each word."),
    resume: Optional[str] = typer.Option(None, help="tokenizer.json (or its folder) whose merges come first."),
    term: List[str] = typer.Option([], "--term", help="A domain term to make a token (repeatable)."),
    terms_file: Optional[str] = typer.Option(None, help="Domain terms, one per line."),
    max_words: Optional[int] = typer.Option(None, help="Bound memory: keep at most this many distinct words."),
    export_size: List[int] = typer.Option([], "--export-size", help="Also write tokenizer-<V>.json."),
    superword: bool = typer.Option(False, "--superword", help="SuperBPE: stage 2 merges across single spaces."),
    transition: Optional[int] = typer.Option(None, help="Superword: vocabulary size where stage 2 starts "
                                             "(default 80% of --vocab-size)."),
    max_token_words: int = typer.Option(4, help="Superword: most words one token may span."),
    parity: Optional[str] = typer.Option(None, help="Parity-aware objective on a parallel corpus."),
    languages: Optional[str] = typer.Option(None, help="Parity: comma-separated language codes (default all)."),
    dev_fraction: float = typer.Option(0.2, help="Parity: share of the common units used as the dev set."),
    global_merges: int = typer.Option(0, help="Parity: ordinary merges first (hybrid)."),
    unicode: str = typer.Option("regex", help="Character classes: regex or hf."),
    threads: Optional[int] = typer.Option(None, help="Counting threads (default: all cores)."),
    max_bytes: Optional[int] = typer.Option(None, help="Read at most this many bytes of text files."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Deprecated: use `train bpe --engine native`, `train superword --engine native` or `train parity`."""
    from ..errors import InputError

    q = quiet or as_json
    if parity:
        warn_deprecated("`tokkit train native --parity`", "`tokkit train parity`")
        model = train_calls.train_parity(
            parity, out, languages=[c for c in languages.split(",") if c] if languages else None,
            dev_fraction=dev_fraction, vocab_size=vocab_size, pre_tokenizer=pattern, global_merges=global_merges,
            min_frequency=min_frequency, special_tokens=special, threads=threads, quiet=q)
        _parity_summary(model, out, global_merges, as_json, quiet)
        return
    paths = list(paths or [])
    word_counts = _word_counts(counts, wordfreq, prefix_space)
    if not paths and word_counts is None:
        raise InputError("give text files, --counts or --wordfreq")
    # .txt files go to the numba reader as bytes (fastest); other formats through the corpus readers
    raw = [p for p in paths if p.endswith(".txt") or "." not in os.path.basename(p)]
    other = [p for p in paths if p not in raw]
    docs = None
    if other:
        from ..corpora import read_documents

        docs = read_documents(other, per="line" if per_line else "file")
    if superword:
        from ..corpora import read_documents

        docs, raw = read_documents(paths, per="line" if per_line else "file"), []
        warn_deprecated("`tokkit train native --superword`", "`tokkit train superword --engine native`")
        train_calls.train_superword(
            docs, out, engine="native", vocab_size=vocab_size, transition=transition,
            max_token_words=max_token_words, pre_tokenizer=pattern, min_frequency=min_frequency,
            special_tokens=special, per_line=per_line, max_bytes=max_bytes, quiet=q)
    else:
        warn_deprecated("`tokkit train native`", "`tokkit train bpe --engine native`")
        train_calls.train_bpe(
            docs, out, engine="native", vocab_size=vocab_size, pre_tokenizer=pattern, min_frequency=min_frequency,
            special_tokens=special, terms=term, terms_file=terms_file, word_counts=word_counts, files=raw,
            per_line=per_line, max_bytes=max_bytes, resume=resume, export_sizes=export_size, max_words=max_words,
            threads=threads, unicode=unicode, quiet=q, native_defaults=True)
    _summary(out, as_json, quiet)
