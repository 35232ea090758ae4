"""`tokkit demo`: the quickstart's main job on data embedded in installed packages (works offline)."""

from __future__ import annotations

import typer

from . import app
from ._common import guarded, print_json, print_table

DEMO_LANGUAGES = ["en", "de", "ru", "ar", "hi", "zh", "ja", "ko"]


@app.command("demo")
@guarded
def demo(
    languages: str = typer.Option(",".join(DEMO_LANGUAGES), help="Comma-separated wordfreq language codes."),
    n_words: int = typer.Option(20_000, help="Words per language from wordfreq."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
):
    """Word-count tables for several languages from wordfreq (shipped with the package): words, bytes per
    word and scripts, the raw material for training from counts."""
    from ..corpora import script_counts, wordfreq_counts

    rows = []
    for lang in [x.strip() for x in languages.split(",") if x.strip()]:
        wc = wordfreq_counts(lang, n_words=n_words)
        total = wc.total
        bytes_per_word = sum(len(w.encode()) * c for w, c in wc.items()) / total
        scripts = script_counts("".join(wc))
        rows.append(dict(language=lang, words=len(wc), tokens=total, bytes_per_word=round(bytes_per_word, 3),
                         script=scripts.most_common(1)[0][0] if scripts else "Zyyy"))
    if as_json:
        print_json(rows)
        return
    print_table("wordfreq word counts (offline demo)", ["language", "words", "bytes/word", "script"],
                [[r["language"], r["words"], r["bytes_per_word"], r["script"]] for r in rows])
