"""`tokkit merge`: how much batch merging shortens a corpus under a tokenizer (a thin layer over
`tokkit.dynamic.collate.measure_reduction`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._common import guarded, print_json, print_table
from .options import Alias, Json, Language, Quiet, ReadArgs, commas, corpus_options, deprecated, quiet_of


def load_tokenizer_for_merge(spec: str):
    """tokkit's loader where present, else a Hugging Face tokenizer.json (file or folder holding one)."""
    from ..errors import InputError

    try:
        from .. import load_tokenizer  # built on another branch; duck-typed encode_with_offsets
    except (ImportError, AttributeError):
        load_tokenizer = None
    if load_tokenizer is not None:
        return load_tokenizer(spec)
    p = Path(spec)
    if p.is_dir():
        p = p / "tokenizer.json"
    if not p.is_file() or p.suffix != ".json":
        raise InputError(f"tokenizer {spec!r}: expected a Hugging Face tokenizer.json or a folder holding one")
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(p))
    except Exception as e:  # tokenizers raises its own Exception type for bad json
        raise InputError(f"{p}: not a tokenizer.json ({e})") from None


@app.command("merge")
@guarded
@deprecated(Alias("--languages", "language", "-l/--language (repeatable)", commas))
@corpus_options
def merge(
    tokenizer: str = typer.Argument(..., help="Tokenizer: a tokenizer.json (or folder holding one)."),
    paths: List[str] = typer.Argument(..., help="Files, globs, folders, or a parallel corpus (udhr, ntrex, "
                                      "flores, or a folder in their layout: reported per language)."),
    batch_size: int = typer.Option(32, help="Sequences merged together (one merge table per batch)."),
    max_merges: Optional[int] = typer.Option(None, help="At most this many merges per batch."),
    target_ratio: Optional[float] = typer.Option(None, help="Stop once a batch is this fraction of its length."),
    min_count: int = typer.Option(2, help="Only merge pairs seen at least this often in the batch."),
    mode: str = typer.Option("word", help="Merge boundaries: word (Dynamic BPE's words), pretokens, "
                            "sentence (Dynamic BPE's sentence mode) or sequence (across words)."),
    max_length: Optional[int] = typer.Option(None, help="Truncate each sequence to this many tokens."),
    language: Language = None,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Shorten sequences by merging frequent in-word pairs per batch; report the reduction.

    Also checks that un-merging gives every sequence back exactly. On a parallel corpus, per --language
    (default all)."""
    from .._progress import progress
    from ..corpora import ParallelCorpus, open_corpus
    from ..dynamic.collate import measure_reduction
    from ..errors import InputError

    tok = load_tokenizer_for_merge(tokenizer)
    src = open_corpus(paths, **read.kwargs(), quiet=quiet_of(quiet, as_json))
    kw = dict(batch_size=batch_size, max_merges=max_merges, target_ratio=target_ratio, min_count=min_count,
              mode=mode, max_length=max_length)
    if isinstance(src, ParallelCorpus):
        codes = language or src.codes
        for c in codes:
            src.check_language(c)
        rows = []
        with progress("merging", total=len(codes), quiet=quiet_of(quiet, as_json), unit="languages") as bar:
            for c in codes:
                r = measure_reduction(tok, src.texts(c), **kw)
                rows.append(dict(code=c, **r))
                bar.advance(1)
        total_in = sum(r["tokens_in"] for r in rows)
        total_out = sum(r["tokens_out"] for r in rows)
        summary = dict(languages=len(rows), tokens_in=total_in, tokens_out=total_out,
                       mean_reduction=sum(r["reduction"] for r in rows) / max(1, len(rows)),
                       exact=all(r["exact"] for r in rows))
        if as_json:
            print_json(dict(summary=summary, per_language=rows))
            return
        if quiet:
            return
        print_table("batch merging per language", ["code", "tokens", "merged", "reduction", "merges/batch", "exact"],
                    [[r["code"], r["tokens_in"], r["tokens_out"], f"{r['reduction']:.1%}",
                      round(r["merges_per_batch"], 1), "yes" if r["exact"] else "NO"] for r in rows],
                    caption=f"mean reduction over {len(rows)} languages: {summary['mean_reduction']:.1%}")
        return
    r = measure_reduction(tok, (d.text for d in src), **kw)  # documents streamed, never all held
    if not r["texts"]:
        raise InputError(f"no text found under {', '.join(paths)}")
    if as_json:
        print_json(r)
        return
    if quiet:
        return
    print_table("batch merging", ["sequences", "tokens", "merged", "reduction", "merges/batch", "exact"],
                [[r["sequences"], r["tokens_in"], r["tokens_out"], f"{r['reduction']:.1%}",
                  round(r["merges_per_batch"], 1), "yes" if r["exact"] else "NO"]])
