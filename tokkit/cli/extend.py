"""`tokkit extend BASE CORPUS... --add N -o OUT`: continue a pretrained byte-level BPE on domain text,
keeping every id (`tokkit.train.extension`)."""

from __future__ import annotations

from typing import List

import typer
from typing_extensions import Annotated

from . import app
from ._common import print_json, print_table
from .options import (
    Add,
    ArtifactArgs,
    MaxWords,
    MinFrequency,
    OutputArgs,
    ReadArgs,
    SplitPattern,
    TermsArgs,
    Threads,
    training_documents,
    verb,
)


@verb(app, "extend")
def extend(
    base: Annotated[str, typer.Argument(
        help="The tokenizer to extend: a byte-level BPE tokenizer.json or its folder, a tiktoken ranks file, or a "
        "name under $TOKKIT_TOKENIZERS (gpt2, cl100k_base, ...).")],
    corpus: Annotated[List[str], typer.Argument(help="Domain text: files, globs or folders (.txt, .jsonl, "
                                                ".parquet; plain, .gz, .zst).")],
    *,
    add: Add = ...,
    artifact: ArtifactArgs,
    terms: TermsArgs,
    split_pattern: SplitPattern = None,
    min_frequency: MinFrequency = 2,
    max_words: MaxWords = None,
    threads: Threads = None,
    output: OutputArgs,
    read: ReadArgs,
):
    """Extend a pretrained tokenizer by --add merges learnt on CORPUS: every existing id, token and merge
    stays; text that uses no new merge encodes to the same ids. Writes BASE's format and a tokkit.json card."""
    from ..train.extension import extend as run

    quiet = output.library_quiet
    docs = training_documents(corpus, read, artifact, quiet, inputs=[base], required=True)
    tok = run(base, docs, add=add, out=artifact.out, split_pattern=split_pattern, min_frequency=min_frequency,
              max_words=max_words, threads=threads, quiet=quiet, **terms.kwargs())
    card = tok.card
    if output.as_json:
        print_json(dict(card, out=artifact.out))
    elif not output.quiet:
        v = card["vocabulary"]
        print_table(f"extended {card['parameters']['base']} -> {artifact.out}",
                    ["base size", "new tokens", "size", "term merges", "seconds"],
                    [[v["base_size"], v["new_tokens"], v["size"], v["term_merges"], card["timings"]["total_s"]]])
