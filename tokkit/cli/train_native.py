"""`tokkit train native ...`: the numba byte-level BPE trainer."""

from __future__ import annotations

import json
import os
from typing import List, Optional

import typer

from . import train_app
from ._common import guarded, print_json, print_table


@train_app.command("native")
@guarded
def native(
    paths: List[str] = typer.Argument(None, help="Text files (.txt read as bytes; .jsonl/.parquet/.gz through "
                                      "the corpus readers)."),
    out: str = typer.Option(..., "--out", "-o", help="Output folder: tokenizer.json + tokkit.json."),
    vocab_size: int = typer.Option(32768, help="Vocabulary size, special tokens and the 256 bytes included."),
    pattern: Optional[str] = typer.Option(None, help="Pre-tokenization: gpt2 (default), gpt4o, whitespace or "
                                          "none; with --superword, the stage-1 split (default gpt4o)."),
    min_frequency: int = typer.Option(0, help="Stop when the best pair is rarer than this."),
    special: List[str] = typer.Option([], "--special", help="A special token (repeatable), ids from 0."),
    per_line: bool = typer.Option(False, "--per-line", help="Each line is a document (as HF's train(files))."),
    counts: Optional[str] = typer.Option(None, help="Train from a word-count table (.tsv or .parquet)."),
    wordfreq: Optional[str] = typer.Option(None, help="Train from wordfreq counts of this language."),
    prefix_space: bool = typer.Option(False, "--prefix-space", help="Counts: put a space before each word."),
    resume: Optional[str] = typer.Option(None, help="tokenizer.json (or its folder) whose merges come first."),
    term: List[str] = typer.Option([], "--term", help="A domain term to make a token (repeatable)."),
    terms_file: Optional[str] = typer.Option(None, help="Domain terms, one per line."),
    max_words: Optional[int] = typer.Option(None, help="Bound memory: keep at most this many distinct words."),
    export_size: List[int] = typer.Option([], "--export-size", help="Also write tokenizer-<V>.json for a "
                                          "smaller V from the same run (repeatable)."),
    superword: bool = typer.Option(False, "--superword", help="SuperBPE: stage 2 merges across single spaces."),
    transition: Optional[int] = typer.Option(None, help="Superword: vocabulary size where stage 2 starts "
                                             "(default 80%% of --vocab-size)."),
    max_token_words: int = typer.Option(4, help="Superword: most words one token may span."),
    parity: Optional[str] = typer.Option(None, help="Parity-aware objective on a parallel corpus: udhr, ntrex, "
                                         "flores or a folder (train on its units, pick merges by dev length)."),
    languages: Optional[str] = typer.Option(None, help="Parity: comma-separated language codes (default all)."),
    dev_fraction: float = typer.Option(0.2, help="Parity: share of the common units used as the dev set."),
    global_merges: int = typer.Option(0, help="Parity: ordinary merges first (hybrid)."),
    unicode: str = typer.Option("regex", help="Character classes: regex (the regex module) or hf (as HF "
                                "tokenizers' older Unicode tables: identical merges on any text)."),
    threads: Optional[int] = typer.Option(None, help="Counting threads (default: all cores)."),
    max_bytes: Optional[int] = typer.Option(None, help="Read at most this many bytes of text files."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Train byte-level BPE with tokkit's numba trainer (the same merges as HF's BpeTrainer)."""
    from ..errors import InputError
    from ..train.native import train_native

    paths = list(paths or [])
    if parity:
        from ..corpora import load_parallel, parallel_split
        from ..train.parity import train_parity

        corpus = load_parallel(parity)
        train, dev, _ = parallel_split(corpus, languages.split(",") if languages else None,
                                       dev_fraction=dev_fraction)
        model = train_parity(train, dev, vocab_size=vocab_size, pre_tokenizer=pattern or "gpt2",
                             global_merges=global_merges, min_frequency=min_frequency,
                             special_tokens=special, threads=threads, out=out, quiet=quiet or as_json)
        summary = dict(out=out, vocab_size=model.vocab_size, merges=len(model.merges), **model.timings,
                       **model.stats)
        if as_json:
            print_json(summary)
        elif not quiet:
            per = model.stats["merges_per_language"]
            print_table(f"parity-aware BPE -> {out}: merges chosen per language (global: {global_merges})",
                        ["language", "merges", "dev tokens"],
                        [[c, per[c], model.stats["dev_tokens"][c]] for c in per])
        return
    if not paths and not counts and not wordfreq:
        raise InputError("give text files, --counts or --wordfreq")
    word_counts = None
    if counts or wordfreq:
        from ..corpora import read_word_counts, wordfreq_counts

        table = dict(read_word_counts(counts)) if counts else {}
        if wordfreq:
            for w, c in wordfreq_counts(wordfreq).items():
                table[w] = table.get(w, 0) + c
        word_counts = {(" " + w if prefix_space else w): c for w, c in table.items()}
    terms = list(term)
    if terms_file:
        try:
            with open(terms_file, encoding="utf-8") as fh:
                terms += [line.rstrip("\n") for line in fh if line.strip()]
        except OSError as e:
            raise InputError(f"{terms_file}: cannot read ({e.strerror})") from None
    raw = [p for p in paths if p.endswith(".txt") or "." not in os.path.basename(p)]
    other = [p for p in paths if p not in raw]
    texts = None
    if other:
        from ..corpora import read_documents

        texts = read_documents(other, per="line" if per_line else "file").texts()
    if superword:
        from ..train.native import train_superword_native

        model = train_superword_native(list(texts) if texts is not None else None, files=raw,
                                       vocab_size=vocab_size, transition=transition,
                                       stage1_pattern=pattern or "gpt4o", max_token_words=max_token_words,
                                       min_frequency=min_frequency, special_tokens=special, per_line=per_line,
                                       threads=threads, max_bytes=max_bytes, out_dir=out, quiet=quiet or as_json)
    else:
        model = train_native(texts, files=raw, vocab_size=vocab_size, pattern=pattern,
                             min_frequency=min_frequency, special_tokens=special, word_counts=word_counts,
                             per_line=per_line, resume_from=resume, domain_terms=terms, max_words=max_words,
                             threads=threads, max_bytes=max_bytes, out_dir=out, export_sizes=export_size,
                             quiet=quiet or as_json, unicode=unicode)
    summary = dict(out=out, vocab_size=model.vocab_size, merges=len(model.merges), pattern=model.pattern,
                   **model.timings, **model.stats)
    if as_json:
        print_json(summary)
    elif not quiet:
        print_table(f"native BPE -> {out}", ["", "value"],
                    [[k, json.dumps(v) if isinstance(v, (dict, list)) else v] for k, v in summary.items()])
