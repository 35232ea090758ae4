"""Trainers from a word-count table, by algorithm name: what a vocabulary sweep cell trains
(`tokkit.analysis.sweeps`) and what the demo trains.

A trainer is `fn(counts: WordCounts, vocab_size: int, seed: int) -> Tokenizer`, vocab_size counting the
alphabet. `ALGORITHMS` names them; `register_algorithm` adds one; "package.module:function" names any
importable one (so a cell can run it in another process). `MULTI_SIZE` holds the algorithms that give every
smaller size from one training.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Callable, Iterable, Sequence

from ..corpora import WordCounts
from ..errors import InputError
from ..tokenizer import Tokenizer

# (word counts, vocab size incl. the alphabet, seed) -> a trained Tokenizer
TrainFn = Callable[[WordCounts, int, int], Tokenizer]

# The byte-level algorithms split words with GPT-4o's pattern, which keeps combining marks inside words:
# GPT-2's ` ?\p{L}+` cuts Devanagari, Bengali, Thai... words at every vowel sign (\p{M}), so merges could
# never span a syllable and a sweep would measure the regex, not the vocabulary size. Both engines use it,
# so hf-bpe and native-bpe learn the same merges.
PRE_TOKENIZER = "gpt4o"


def is_spaceless(counts: WordCounts, sample: int = 2000) -> bool:
    """Whether the words are in a script written without spaces (Chinese, Japanese, Thai...), judged on the
    characters of the most frequent words weighted by their counts: there a word does not follow a space
    in running text."""
    from ..corpora.scripts import SPACELESS_SCRIPTS, dominant_script

    chars: Counter = Counter()
    for w, c in counts.most_common(sample):
        chars.update(dict.fromkeys(w, c))
    return dominant_script(chars) in SPACELESS_SCRIPTS


def counts_as_sequences(counts: WordCounts, chunk_words: int = 4096) -> Iterable[list[str]]:
    """Batches of sequences for a trainer that pre-tokenizes and counts text itself (HF's
    `train_from_iterator`), holding each word as often as it is counted, in bounded chunks.

    In scripts written with spaces a word occurs as " word" inside running text, so a sequence is
    " word word word...": the split cuts it back into the words. In scripts without spaces there is no space
    before a word and nothing to separate repeats by (a separator could join a word's last piece, as "。\n"
    does under GPT-4o's split), so each occurrence is a sequence of its own. Either way the trainer counts
    exactly the pre-tokens that the native trainer counts from the table itself."""
    spaceless = is_spaceless(counts)
    buf: list[str] = []
    n = 0
    for w, c in counts.items():
        while c > 0:
            k = min(c, chunk_words)
            if spaceless:
                buf.extend([w] * k)
            else:
                buf.append((" " + w) * k)
            n += k
            c -= k
            if n >= chunk_words:
                yield buf
                buf, n = [], 0
    if buf:
        yield buf


def train_hf_bpe(counts: WordCounts, vocab_size: int, seed: int = 0) -> Tokenizer:
    """Byte-level BPE with Hugging Face's `BpeTrainer` (GPT-4o's split, 256-byte alphabet, pairs seen twice
    or more): the oracle of `native-bpe`, whose merges it equals."""
    from tokenizers import Regex, decoders, models, pre_tokenizers, trainers
    from tokenizers import Tokenizer as HFT

    from ..kernels.split_patterns import PATTERNS
    from ..tokenizer.hf import HFTokenizer

    tok = HFT(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PATTERNS[PRE_TOKENIZER]), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(counts_as_sequences(counts), trainer=trainer)
    return HFTokenizer.from_engine(tok, name=f"hf-bpe-{vocab_size}")


def train_sentencepiece(counts: WordCounts, vocab_size: int, seed: int = 0, *, model_type: str = "bpe") -> Tokenizer:
    """SentencePiece (`tokkit.train.spm.train_spm`, the one SentencePiece trainer) from the word counts as
    its tsv input: byte fallback, identity normalization, no special tokens. Each word gets the "\u2581" it
    has in running text, except in scripts written without spaces; the model may stay below vocab_size
    when the words hold too few pieces (the sweep records the size it got)."""
    from .spm import train_spm

    tok = train_spm(word_counts=counts, vocab_size=vocab_size, model_type=model_type, special_tokens=[],
                    add_dummy_prefix=not is_spaceless(counts), allow_smaller=True, num_threads=2)
    tok.name = f"spm-{model_type}-{vocab_size}"
    return tok


def _train_native_model(counts: WordCounts, vocab_size: int):
    from .native import train_native

    prefix = "" if is_spaceless(counts) else " "
    table: dict[str, int] = {}
    for w, c in counts.items():  # words occur as " word" in running text of spaced scripts
        table[prefix + w] = table.get(prefix + w, 0) + c
    # a sweep's largest sizes may outrun a small language's counts: the cell keeps what the counts give
    return train_native(word_counts=table, vocab_size=vocab_size, pre_tokenizer=PRE_TOKENIZER, min_frequency=2,
                        quiet=True, allow_smaller=True).bpe


def train_native_bpe(counts: WordCounts, vocab_size: int, seed: int = 0) -> Tokenizer:
    """Byte-level BPE with tokkit's native trainer, straight from the counts (no text is rebuilt), with
    GPT-4o's split: the merges of `train_hf_bpe`."""
    from ..tokenizer.hf import HFTokenizer

    return HFTokenizer.from_engine(_train_native_model(counts, vocab_size).to_tokenizer(),
                                   name=f"native-bpe-{vocab_size}")


def train_native_bpe_sizes(counts: WordCounts, sizes: Sequence[int], seed: int = 0) -> dict[int, Tokenizer]:
    """Every size from one native training to the largest: its first merges are exactly the smaller
    tokenizers (BPE is greedy), so a sweep costs one training per language."""
    from ..tokenizer.hf import HFTokenizer

    model = _train_native_model(counts, max(sizes))
    return {v: HFTokenizer.from_engine(model.at_vocab_size(v).to_tokenizer(), name=f"native-bpe-{v}")
            for v in sizes}


def _spm(model_type: str) -> TrainFn:
    def fn(counts: WordCounts, vocab_size: int, seed: int = 0) -> Tokenizer:
        return train_sentencepiece(counts, vocab_size, seed, model_type=model_type)

    fn.__name__ = fn.__qualname__ = f"train_spm_{model_type}"
    return fn


# algorithms that give several vocabulary sizes from one training: sweeps group a language's cells
MULTI_SIZE: dict[str, Callable[[WordCounts, Sequence[int], int], dict[int, Tokenizer]]] = {
    "native-bpe": train_native_bpe_sizes,
}

ALGORITHMS: dict[str, TrainFn] = {
    "hf-bpe": train_hf_bpe,
    "native-bpe": train_native_bpe,
    "spm-bpe": _spm("bpe"),
    "spm-unigram": _spm("unigram"),
}


def register_algorithm(name: str, fn: TrainFn) -> None:
    """Make a training function available to sweeps as `algorithm=name`.

    Args:
        name: the algorithm's name (`sweep(..., algorithm=name)`, `tokkit sweep --algorithm`).
        fn: `fn(counts, vocab_size, seed) -> Tokenizer`.
    """
    ALGORITHMS[name] = fn


def resolve_algorithm(name: str) -> TrainFn:
    """The trainer named `name`: a registered algorithm or "package.module:function"."""
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    if ":" in name:  # "package.module:function", importable wherever the cell runs
        mod, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise InputError(f"algorithm {name!r}: cannot import it ({e})") from None
    raise InputError(f"unknown algorithm {name!r} (known: {', '.join(sorted(ALGORITHMS))}, or module:function)")
