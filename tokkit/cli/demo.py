"""`tokkit demo`: the quickstart's main job on data that ships inside installed packages (works offline);
the work is `tokkit.analysis.demo.run_demo`, this command prints it."""

from __future__ import annotations

import typer

from ..analysis.demo import DEMO_LANGUAGES
from . import app
from ._common import guarded, print_json, print_table


@app.command("demo")
@guarded
def demo(
    languages: str = typer.Option(",".join(DEMO_LANGUAGES), help="Comma-separated wordfreq language codes."),
    vocab_size: int = typer.Option(8192, help="Vocabulary size of the demo tokenizer."),
    n_words: int = typer.Option(20_000, help="Most frequent words per language from wordfreq."),
    out: str = typer.Option("tokkit-demo", help="Folder for tokenizer.json and its tokkit.json card."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, no table."),
):
    """Train a multilingual byte-level BPE from wordfreq counts (shipped with the package, offline), save it,
    and show tokens per word for each language beside bytes per word."""
    from ..analysis.demo import run_demo

    res = run_demo([x.strip() for x in languages.split(",") if x.strip()], vocab_size=vocab_size,
                   n_words=n_words, out=out, quiet=quiet or as_json)
    if as_json:
        print_json(res)
        return
    if quiet:
        return
    print_table(f"{res['vocab_size']:,}-token BPE ({res['algorithm']}) trained on wordfreq counts in "
                f"{res['train_seconds']:.1f} s -> {out}/tokenizer.json",
                ["language", "script", "words", "tokens/word", "bytes/word"],
                [[r["language"], r["script"], r["words"], r["tokens_per_word"], r["bytes_per_word"]]
                 for r in res["languages"]],
                caption="tokens/word: frequency-weighted, each word with a leading space as in running text")
