"""`tokkit eval`: intrinsic metrics of one or more tokenizers on a corpus."""

from __future__ import annotations

from typing import List

import typer

from ..analysis._json import jsonable
from . import app
from ._common import guarded, print_json, print_table
from .options import (
    CORPUS_HELP,
    Alias,
    Json,
    Language,
    Quiet,
    ReadArgs,
    SplitPattern,
    Tokenizers,
    corpus_options,
    deprecated,
    quiet_of,
)


@app.command("eval")
@guarded
@deprecated(Alias("--pattern", "split_pattern", "--split-pattern"))
@corpus_options
def eval_cmd(
    tokenizers: Tokenizers,
    corpus: List[str] = typer.Option(..., "--corpus", "-c", help=CORPUS_HELP),
    language: Language = None,
    split_pattern: SplitPattern = None,
    alpha: float = typer.Option(2.5, help="Order of the Rényi efficiency."),
    nominal: bool = typer.Option(False, "--nominal-vocabulary", help="Rényi efficiency over the full "
                                 "vocabulary size instead of the types observed."),
    unreachable: bool = typer.Option(False, "--unreachable", help="Also count vocabulary entries that their "
                                     "own text does not encode to (byte-level BPE)."),
    boundary_stability: bool = typer.Option(False, "--boundary-stability", help="Also measure how stable token "
                                            "boundaries are under character noise (seeded by --seed)."),
    noise_rate: float = typer.Option(0.03, help="Character noise rate of --boundary-stability."),
    as_json: Json = False,
    quiet: Quiet = False,
    *, read: ReadArgs,
):
    """Intrinsic metrics of tokenizers on a corpus.

    Token counts, bytes/characters per token, fertility, continued words, Rényi efficiency, vocabulary use,
    UNK and byte-fallback rates, token lengths. On a parallel corpus, per --language (default eng)."""
    from ..analysis.metrics import evaluate
    from ..corpora import ParallelCorpus, open_corpus
    from ..errors import InputError
    from ..tokenizer import load_tokenizer

    seed = read.seed
    toks = [load_tokenizer(t, split_pattern=split_pattern) for t in tokenizers]
    src = open_corpus(corpus, **read.kwargs(), quiet=quiet_of(quiet, as_json))
    if isinstance(src, ParallelCorpus):
        langs = language or ["eng"]
        sets = {lang: src.texts(lang) for lang in langs}
    else:
        if language:
            raise InputError("--language applies to a parallel corpus only")
        sets = {"corpus": [d.text for d in src]}
    results = []
    for tok in toks:
        for set_name, texts in sets.items():
            m = evaluate(tok, texts, alpha=alpha, vocabulary="nominal" if nominal else "observed",
                         check_unreachable=unreachable, quiet=quiet_of(quiet, as_json)).as_dict()
            m["set"] = set_name
            if m.get("unreachable"):
                m["unreachable"].pop("ids", None)
            if boundary_stability:
                from ..analysis.boundary import boundary_stability as _bs
                m["boundary_stability"] = _bs(tok, texts, rate=noise_rate, seed=seed)
            results.append(m)
    if as_json:
        print_json(jsonable(results))
        return
    if quiet:
        return
    cols = ["tokenizer", "set", "tokens", "chars/tok", "bytes/tok", "fertility", "continued", f"Rényi {alpha:g}",
            "vocab used", "UNK chars", "byte fb"]
    rows = [[m["tokenizer"], m["set"], m["tokens"], m["characters_per_token"], m["bytes_per_token"], m["fertility"],
             f"{m['continued_words']:.1%}", m["renyi_efficiency"], f"{m['vocabulary_utilisation']:.2%}",
             f"{m['unk_character_rate']:.2%}", f"{m['byte_fallback_rate']:.2%}"] for m in results]
    caveats = sorted({f"{m['set']}: {m['word_caveat']}" for m in results if m["word_caveat"]})
    names = list(dict.fromkeys(m["tokenizer"] for m in results))
    print_table("tokenizer metrics", cols, rows, caption="\n".join(caveats) or None, names=names)
    if unreachable:
        print_table("unreachable vocabulary entries", ["tokenizer", "checked", "unreachable", "examples"],
                    [[m["tokenizer"], m["unreachable"]["checked"], m["unreachable"]["unreachable"] if
                      m["unreachable"]["unreachable"] is not None else m["unreachable"].get("reason", "-"),
                      " ".join(repr(t) for _, t in m["unreachable"].get("examples", [])[:6])]
                     for m in results if m["set"] == results[0]["set"]], names=names)
    if boundary_stability:
        print_table(f"boundary stability at {noise_rate:.0%} character noise (seed {seed})",
                    ["tokenizer", "set", "stability", "stable boundaries", "comparable", "edits"],
                    [[m["tokenizer"], m["set"], m["boundary_stability"]["stability"],
                      m["boundary_stability"]["stable"], m["boundary_stability"]["comparable"],
                      m["boundary_stability"]["edits"]] for m in results],
                    caption="share of token boundaries away from the edits that both texts share (higher is better)",
                    names=names)
