"""`tokkit extend BASE CORPUS... --add N -o OUT`: continue a pretrained byte-level BPE on domain text,
keeping every id (`tokkit.train.extension`)."""

from __future__ import annotations

from typing import List

import typer
from typing_extensions import Annotated

from . import app
from ._common import guarded, print_json, print_table
from .options import (
    Add,
    Json,
    MaxWords,
    MinFrequency,
    Out,
    Overwrite,
    Quiet,
    ReadArgs,
    SplitPattern,
    Term,
    TermsFile,
    Threads,
    corpus_options,
    quiet_of,
    training_documents,
)


@app.command("extend")
@guarded
@corpus_options
def extend(
    base: Annotated[str, typer.Argument(
        help="The tokenizer to extend: a byte-level BPE tokenizer.json or its folder, a tiktoken ranks file, or a "
        "name under $TOKKIT_TOKENIZERS (gpt2, cl100k_base, ...).")],
    corpus: Annotated[List[str], typer.Argument(help="Domain text: files, globs or folders (.txt, .jsonl, "
                                                ".parquet; plain, .gz, .zst).")],
    add: Add = ...,
    out: Out = ...,
    term: Term = None,
    terms_file: TermsFile = None,
    split_pattern: SplitPattern = None,
    min_frequency: MinFrequency = 2,
    max_words: MaxWords = None,
    threads: Threads = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Extend a pretrained tokenizer by --add merges learnt on CORPUS: every existing id, token and merge
    stays; text that uses no new merge encodes to the same ids. Writes BASE's format and a tokkit.json card."""
    from ..train.extension import extend as run

    q = quiet_of(quiet, as_json)
    docs = training_documents(corpus, read, q, out=out, overwrite=overwrite, inputs=[base], required=True)
    tok = run(base, docs, add=add, out=out, terms=term or None, terms_file=terms_file,
              split_pattern=split_pattern, min_frequency=min_frequency, max_words=max_words, threads=threads,
              quiet=q)
    card = tok.card
    if as_json:
        print_json(dict(card, out=out))
    elif not quiet:
        v = card["vocabulary"]
        print_table(f"extended {card['parameters']['base']} -> {out}",
                    ["base size", "new tokens", "size", "term merges", "seconds"],
                    [[v["base_size"], v["new_tokens"], v["size"], v["term_merges"], card["timings"]["total_s"]]])
