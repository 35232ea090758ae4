"""tokkit's batch merging reproduces Dynamic BPE (DariusFeher/dynamic-tokenization, `Dynamic_BPE`).

The oracle below re-implements Dynamic_BPE's rules on token *strings* as its paper's code states them (one
Counter per merge, `max` over it so ties go to the first-seen pair, greedy left-to-right replacement, the
`word` boundary mode with its whitespace-marker rule and UTF-8 check); tokkit works on ids with word ids from
the tokenizer's offsets. On the same batches both must choose the same merges and produce the same tokens.
"""

from collections import Counter

import numpy as np
import pytest

from tokkit.dynamic.batch_merge import merge_batch
from tokkit.dynamic.boundaries import tokenize_with_words


def _byte_decoder():
    # GPT-2's printable stand-ins for bytes (the byte-level alphabet), inverted
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class DynamicBPEOracle:
    """Dynamic_BPE's `word` or `pretokens` mode on byte-level token strings (no special tokens in the batch)."""

    SPACELIKE = "ĉĠĊ"

    def __init__(self, pre_tokenizer=None):
        from tokenizers import pre_tokenizers

        # `word`: whitespace split; `pretokens`: the tokenizer's own pre-tokenizer
        self.split = pre_tokenizer or pre_tokenizers.WhitespaceSplit()
        self.dec = _byte_decoder()
        self.cache = {}

    def valid(self, a, b):
        key = (a, b)
        if key not in self.cache:
            self.cache[key] = self._valid(a, b)
        return self.cache[key]

    def _valid(self, a, b):
        s = a + b
        if any(c in s[1:] for c in self.SPACELIKE) and (s == "ĊĊ" or not all(c in self.SPACELIKE for c in s)):
            return False
        try:
            text = bytes(self.dec[c] for c in s).decode("utf-8")
        except UnicodeDecodeError:
            return True
        return len(self.split.pre_tokenize_str(text)) == 1

    def run(self, batch, max_merges):
        batch = [list(s) for s in batch]
        merges = []
        while len(merges) < max_merges:
            counts = Counter()
            for seq in batch:
                counts.update(p for p in zip(seq, seq[1:]) if self.valid(*p))
            if not counts:
                break
            a, b = max(counts, key=counts.get)
            merges.append((a, b))
            for k, seq in enumerate(batch):
                out, i = [], 0
                while i < len(seq):
                    if i < len(seq) - 1 and seq[i] == a and seq[i + 1] == b:
                        out.append(a + b)
                        i += 2
                    else:
                        out.append(seq[i])
                        i += 1
                batch[k] = out
        return batch, merges


@pytest.fixture(scope="module")
def gpt2(tokenizers_dir):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))


def _strings(res, tok):
    def s(i):
        return "".join(tok.id_to_token(int(x)) for x in res.expansion(int(i)))

    return [[s(i) for i in seq] for seq in res.seqs], [(s(a), s(b)) for a, b in res.merges]


@pytest.mark.parametrize("lang", ["eng", "fra", "deu_1996", "rus", "cmn_hans", "arb", "hin"])
@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_reproduces_dynamic_bpe_on_udhr(udhr, gpt2, lang, backend):
    if lang not in udhr:
        pytest.skip(f"{lang} not in this UDHR copy")
    texts = udhr.texts(lang)[:32]  # a batch of 32, as in the paper
    ids, words = tokenize_with_words(gpt2, texts, mode="word", max_length=128)
    oracle_batch, oracle_merges = DynamicBPEOracle().run(
        [[gpt2.id_to_token(int(i)) for i in s] for s in ids], max_merges=150)
    res = merge_batch(ids, words, max_merges=150, min_count=1, vocab_size=gpt2.get_vocab_size(), backend=backend)
    seqs, merges = _strings(res, gpt2)
    assert merges == oracle_merges
    assert seqs == oracle_batch
    assert [s.tolist() for s in res.unmerge()] == [s.tolist() for s in ids]


@pytest.mark.parametrize("lang", ["eng", "fra", "deu_1996", "rus", "arb"])
def test_reproduces_dynamic_bpe_pretokens_mode(udhr, gpt2, lang):
    """Dynamic_BPE's default mode: a merge must stay one pre-token of the tokenizer's own pre-tokenizer.

    Known divergence, on purpose: Dynamic_BPE accepts any pair whose bytes do not decode as UTF-8, so in
    scripts whose combining marks GPT-2's pre-tokenizer splits off (Devanagari: a virama followed by the first
    byte of the next letter) it merges across pre-tokens; tokkit's pre-token ids never do. Hindi therefore
    differs from merge 2 on, and is left out here (it matches in `word` mode above)."""
    texts = udhr.texts(lang)[:32]
    ids, words = tokenize_with_words(gpt2, texts, mode="pretokens", max_length=128)
    oracle_batch, oracle_merges = DynamicBPEOracle(gpt2.pre_tokenizer).run(
        [[gpt2.id_to_token(int(i)) for i in s] for s in ids], max_merges=150)
    res = merge_batch(ids, words, max_merges=150, min_count=1, vocab_size=gpt2.get_vocab_size())
    seqs, merges = _strings(res, gpt2)
    assert merges == oracle_merges
    assert seqs == oracle_batch


def test_oracle_rules_agree_with_word_ids_on_synthetic_text(gpt2):
    texts = ["the cat sat on the mat, the cat!", "then\nthe cats sat. On mats: the-cat's hat", "aaaa aaaa aaaaaaaa"]
    ids, words = tokenize_with_words(gpt2, texts)
    oracle_batch, oracle_merges = DynamicBPEOracle().run([[gpt2.id_to_token(int(i)) for i in s] for s in ids], 1000)
    res = merge_batch(ids, words, min_count=1, vocab_size=gpt2.get_vocab_size())
    seqs, merges = _strings(res, gpt2)
    assert merges == oracle_merges and seqs == oracle_batch
    assert len(merges) > 5
