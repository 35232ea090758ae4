"""`tokkit demo`: the quickstart's main job on data that ships inside installed packages (works offline);
the work is `tokkit.analysis.demo.run_demo`, this command prints it."""

from __future__ import annotations

from ..analysis.demo import DEMO_LANGUAGES, run_demo
from . import app
from ._common import guarded, print_json, print_table
from .options import Alias, Json, Language, NWords, Out, Quiet, VocabSize, commas, deprecated


@app.command("demo")
@guarded
@deprecated(Alias("--languages", "language", "-l/--language (repeatable)", commas))
def demo(
    language: Language = None,
    vocab_size: VocabSize = 8192,
    n_words: NWords = 20_000,
    out: Out = "tokkit-demo",
    as_json: Json = False,
    quiet: Quiet = False,
):
    """Train a multilingual BPE from wordfreq counts (offline), save it, show tokens per word per language.

    The word counts ship with the wordfreq package. Default languages: en de fr ru ar hi zh ko."""
    from .._atomic import check_out

    check_out(out)
    res = run_demo(language or DEMO_LANGUAGES, vocab_size=vocab_size, n_words=n_words, out=out,
                   quiet=quiet or as_json)
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
