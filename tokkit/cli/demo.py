"""`tokkit demo`: the quickstart's main job on data that ships inside installed packages (works offline):
train a multilingual byte-level BPE from wordfreq word counts, write it as an artifact, and measure what it
costs each language."""

from __future__ import annotations


from . import app
from ._common import guarded, print_json, print_table
from .options import Alias, Json, Language, NWords, Out, Quiet, VocabSize, commas, deprecated

DEMO_LANGUAGES = ["en", "de", "fr", "ru", "ar", "hi", "zh", "ko"]


def run_demo(languages: list[str], *, vocab_size: int = 8192, n_words: int = 20_000, total: int = 200_000,
             out: str | None = "tokkit-demo") -> dict:
    """API twin of `tokkit demo`: per language, tokens per word (frequency-weighted) of one tokenizer trained
    on all languages' counts, beside bytes per word; with `out`, the tokenizer is saved there."""
    import time

    from ..analysis.sweeps import train_hf_bpe
    from ..corpora import WordCounts, script_counts, wordfreq_counts
    from ..train.artifacts import Card, vocabulary_stats, write_artifacts

    tables = {lang: wordfreq_counts(lang, n_words=n_words, total=total) for lang in languages}
    merged = WordCounts({})
    for wc in tables.values():
        merged = merged + wc
    t = time.perf_counter()
    tok = train_hf_bpe(merged, vocab_size)
    seconds = time.perf_counter() - t
    rows = []
    for lang, wc in tables.items():
        words = list(wc)
        counts = tok.count_batch([" " + w for w in words])
        weight = wc.total
        tokens_per_word = sum(n * wc[w] for n, w in zip(counts, words)) / weight
        bytes_per_word = sum(len(w.encode()) * c for w, c in wc.items()) / weight
        scripts = script_counts("".join(words))
        rows.append(dict(language=lang, script=scripts.most_common(1)[0][0] if scripts else "Zyyy",
                         words=len(wc), tokens_per_word=round(tokens_per_word, 3),
                         bytes_per_word=round(bytes_per_word, 3)))
    if out:
        engine = tok.engine
        card = Card(recipe="demo: hf-bpe from wordfreq counts",
                    parameters=dict(languages=languages, vocab_size=vocab_size, n_words=n_words, total=total),
                    corpus=dict(source="wordfreq", words=len(merged), total=merged.total),
                    timings=dict(train_seconds=round(seconds, 3)),
                    vocabulary=vocabulary_stats(engine.get_vocab()))
        write_artifacts(out, card, {"tokenizer.json": lambda p: engine.save(p)})
    return dict(vocab_size=tok.vocab_size, train_seconds=seconds, out=out, languages=rows)


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
    res = run_demo(language or DEMO_LANGUAGES, vocab_size=vocab_size, n_words=n_words, out=out)
    if as_json:
        print_json(res)
        return
    if quiet:
        return
    print_table(f"{res['vocab_size']:,}-token BPE trained on wordfreq counts in {res['train_seconds']:.1f} s "
                f"-> {out}/tokenizer.json", ["language", "script", "words", "tokens/word", "bytes/word"],
                [[r["language"], r["script"], r["words"], r["tokens_per_word"], r["bytes_per_word"]]
                 for r in res["languages"]],
                caption="tokens/word: frequency-weighted, each word with a leading space as in running text")
