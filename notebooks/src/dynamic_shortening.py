# %% [markdown]
# # Shortening sequences on real text: batch merging and gates
#
# A model pays for every token, so a language that needs three times the tokens pays three times the
# compute. **Dynamic batch merging** (the rules of Dynamic BPE, Feher, Vulić and Minixhofer 2024) shortens a
# batch after tokenization: it counts adjacent id pairs inside words over the whole batch, merges the most
# frequent one into a new id, and repeats, so frequent words of *this* batch become single tokens. tokkit
# records the input span of every output token, so the merge is exactly reversible. This notebook measures how
# much it shortens each language of the UDHR, checks the reversal, shows what the merged tokens are, and then
# looks at the learnt alternatives (boundary pooling, similarity merging, delete gates) on the same text.

# %%
TOKENIZER = "gpt2"          # any tokenizer tokkit loads (a name under $TOKKIT_TOKENIZERS, a tokenizer.json, ...)
LANGUAGES = None            # None: all 532 UDHR declarations, each language's articles as one batch
MIN_COUNT = 2               # stop merging when the best pair occurs fewer times than this
BUDGETS = [10, 50, 200, None]          # merges per batch for the budget curve (None: until MIN_COUNT stops)
BUDGET_LANGUAGES = ["eng", "deu_1996", "rus", "arb", "hin", "cmn_hans", "amh", "mya"]
SHOW = ["eng", "deu_1996", "hin", "mya"]   # languages whose merged tokens are listed
POOL_DIM = 64               # width of the stand-in embeddings for the gate section

# %%
import os
import time
from pathlib import Path
from statistics import mean, median

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import tokkit
from tokkit.dynamic import merge_batch, tokenize_with_words

GALLERY = Path(os.environ.get("TOKKIT_GALLERY", "../docs/gallery"))
GALLERY.mkdir(parents=True, exist_ok=True)
t_start = time.perf_counter()

tok = tokkit.load_tokenizer(TOKENIZER)
udhr = tokkit.load_udhr(nfc=True, languages=LANGUAGES)
codes = udhr.codes
print(tok, f"{len(codes)} languages")

# %% [markdown]
# ## Reduction per language
#
# Each language's units (preamble and articles) form one batch. Word ids come from the tokenizer's own
# character offsets (`tokenize_with_words`, whitespace words), so no merge crosses a space. New ids start at the
# tokenizer's vocabulary size. The check `unmerge(result) == input` runs on every batch.

# %%
rows = []
encoded = {}
t0 = time.perf_counter()
for c in codes:
    ids, words = tokenize_with_words(tok, udhr.texts(c))
    encoded[c] = (ids, words)
    res = merge_batch(ids, words, min_count=MIN_COUNT, vocab_size=tok.vocab_size)
    back = res.unmerge()
    exact = len(back) == len(ids) and all(np.array_equal(a, b) for a, b in zip(back, ids))
    n_in, n_out = res.num_tokens
    rows.append(dict(language=c, name=udhr.languages[c].name, script=udhr.languages[c].script, tokens=n_in,
                     merged=n_out, reduction=1 - res.ratio, merges=len(res.merges), exact=exact))
seconds = time.perf_counter() - t0
red = {r["language"]: r for r in rows}
srt = sorted(rows, key=lambda r: -r["reduction"])
n_exact = sum(r["exact"] for r in rows)
print(f"{len(rows)} batches, {sum(r['tokens'] for r in rows):,} tokens -> {sum(r['merged'] for r in rows):,} "
      f"in {seconds:.1f} s (tokenizing included); unmerge exact on {n_exact} of {len(rows)}")
for r in srt[:5] + srt[-5:]:
    print(f"{r['name'][:34]:<34} {r['language']:<10} {r['tokens']:>7,} -> {r['merged']:>6,} tokens "
          f"(-{r['reduction']:.0%}, {r['merges']} merges)")

# %%
display(Markdown(
    f"With merging down to pairs seen at least {MIN_COUNT} times, {TOKENIZER}'s sequences get "
    f"**{mean(r['reduction'] for r in rows):.1%} shorter** on average over {len(rows)} languages "
    f"(median {median(r['reduction'] for r in rows):.1%}). The most reduced is {srt[0]['name']} "
    f"(`{srt[0]['language']}`, -{srt[0]['reduction']:.0%}), the least {srt[-1]['name']} "
    f"(`{srt[-1]['language']}`, -{srt[-1]['reduction']:.0%}). The languages the tokenizer treats worst gain most: "
    f"their words are cut into many byte-level pieces that recur within a batch. Reversal was exact on "
    f"**{n_exact} of {len(rows)}** batches."))

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), gridspec_kw=dict(width_ratios=[3, 2]))
axes[0].bar(range(len(srt)), [100 * r["reduction"] for r in srt], width=1.0, color="#4C72B0")
axes[0].set(xlabel="languages, sorted", ylabel="% fewer tokens", xticks=[],
            title=f"{TOKENIZER}: batch merging, one batch per language (min_count={MIN_COUNT})")
groups = {}
for r in rows:
    groups.setdefault(r["script"] or "?", []).append(100 * r["reduction"])
groups = {k: v for k, v in groups.items() if len(v) >= 3}
order = sorted(groups, key=lambda k: median(groups[k]))
axes[1].boxplot([groups[k] for k in order])
axes[1].set_xticks(range(1, len(order) + 1))
axes[1].set_xticklabels([f"{k} ({len(groups[k])})" for k in order], rotation=90, fontsize=7)
axes[1].set(ylabel="% fewer tokens", title="by script (3+ languages)")
fig.tight_layout()
fig.savefig(GALLERY / "dynamic_reduction.png", dpi=90)
plt.close(fig)
display(Markdown(f"![reduction per language]({GALLERY / 'dynamic_reduction.png'})"))

# %% [markdown]
# ## Reduction against a merge budget
#
# A model must learn (or be given) an embedding for every new id, so a real pipeline caps the merges per batch.
# The curve shows the reduction at each budget; `None` is the run to `MIN_COUNT`.

# %%
budget_langs = [c for c in BUDGET_LANGUAGES if c in encoded]
curve = {}
for c in budget_langs:
    ids, words = encoded[c]
    curve[c] = [1 - merge_batch(ids, words, max_merges=b, min_count=MIN_COUNT, vocab_size=tok.vocab_size).ratio
                for b in BUDGETS]
labels = [str(b) if b is not None else f"all (min {MIN_COUNT})" for b in BUDGETS]
fig, ax = plt.subplots(figsize=(7, 4.5))
for c, ys in curve.items():
    ax.plot(range(len(BUDGETS)), [100 * y for y in ys], "o-", label=c)
ax.set_xticks(range(len(BUDGETS)))
ax.set_xticklabels(labels)
ax.set(xlabel="merges per batch", ylabel="% fewer tokens", title=f"{TOKENIZER}: reduction against merge budget")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(GALLERY / "dynamic_budgets.png", dpi=90)
plt.close(fig)
print("language   " + "".join(f"{lab:>14}" for lab in labels))
for c, ys in curve.items():
    print(f"{c:<10} " + "".join(f"{y:>14.1%}" for y in ys))
display(Markdown(f"![reduction against budget]({GALLERY / 'dynamic_budgets.png'})"))

# %% [markdown]
# ## What merged tokens look like
#
# Every new id expands back into the base ids it joins (`MergeResult.expansion`); decoding those gives the text
# of the merged token. Listed: the first merges of each batch (the most frequent pairs), with how often each
# pair occurred when it was merged and how many base tokens the new token stands for.

# %%
for c in [c for c in SHOW if c in encoded]:
    ids, words = encoded[c]
    res = merge_batch(ids, words, min_count=MIN_COUNT, vocab_size=tok.vocab_size)
    lens = {}
    for s in res.seqs:
        for t in s[s >= res.vocab_size].tolist():
            lens[t] = lens.get(t, 0) + 1
    longest = sorted(lens, key=lambda t: (-len(res.expansion(t)), -lens[t]))[:5]
    first = [(res.vocab_size + k, int(res.counts[k])) for k in range(min(8, len(res.merges)))]

    def show(t):
        return repr(tok.decode(res.expansion(t).tolist()))

    print(f"{udhr.languages[c].name} ({c}): {len(res.merges)} merges, "
          f"{res.num_tokens[0]:,} -> {res.num_tokens[1]:,} tokens")
    print("  first merges:  " + ", ".join(f"{show(t)} x{n}" for t, n in first))
    print("  longest used:  " + ", ".join(f"{show(t)} ({len(res.expansion(t))} pieces, x{lens[t]})" for t in longest))

# %% [markdown]
# ## Learnt shortening: boundary pooling, similarity merging and delete gates
#
# Batch merging needs no model. The alternatives act on hidden states inside a model: **boundary pooling**
# (Nawrot et al. 2023) averages the vectors of each segment between predicted boundaries; **similarity merging**
# (ToMe, Bolya et al. 2023) merges the most similar pairs of vectors; a **delete gate** (MrT5, Kallini et al.
# 2024) learns to drop tokens after an early layer. Without a trained model at hand, the cells below run them on
# stand-in vectors (a fixed random embedding of each id) over the same UDHR batches, which shows their mechanics
# and costs on real sequence lengths, not their effect on a model's accuracy.

# %%
try:
    import torch

    from tokkit.dynamic.delete_gate import DeleteGate
    from tokkit.dynamic.pooling import BoundaryPooler
    from tokkit.dynamic.tome import TokenMerge
    GATES = True
except ImportError as e:
    GATES = False
    print(f"gates not available in this build ({e}); batch merging above does not need them")


def padded(batch, fill=0):
    t = max(len(s) for s in batch)
    out = np.full((len(batch), t), fill, dtype=np.int64)
    for i, s in enumerate(batch):
        out[i, : len(s)] = s
    return torch.as_tensor(out), torch.as_tensor(np.arange(t)[None, :] < np.array([len(s) for s in batch])[:, None])

# %% [markdown]
# **Pooling at word ends.** With boundaries given at the last token of each word (the supervision Nawrot et al.
# use from a unigram segmentation), the pooled sequence has one vector per word: that is the ceiling batch
# merging approaches when every word becomes one token. Upsampling gives every token its word's vector back.
# Whitespace words are a poor unit where a script has no spaces between words (Chinese) or its own word
# separator: there a "word" is a clause, and pooling to it is far coarser than any merge.

# %%
if GATES:
    torch.manual_seed(0)
    table = torch.nn.Embedding(tok.vocab_size, POOL_DIM)
    pooler = BoundaryPooler(POOL_DIM).eval()
    pool_rows = []
    for c in budget_langs:
        ids, words = encoded[c]
        x_ids, mask = padded(ids)
        w, _ = padded([np.asarray(v) for v in words], fill=-1)
        ends = torch.zeros_like(mask)
        ends[:, :-1] = (w[:, :-1] != w[:, 1:]) | (w[:, :-1] < 0)   # last token of its word
        with torch.no_grad():
            x = table(x_ids)                                   # [B, T, D]
            out = pooler(x, mask, boundaries=ends.float())
            up = pooler.upsample(out.pooled, out)              # [B, T, D]
        pooled = int(out.lengths.sum())
        pool_rows.append((c, int(mask.sum()), pooled, 1 - pooled / int(mask.sum()), red[c]["reduction"],
                          tuple(up.shape) == tuple(x.shape)))
    print(f"{'language':<10} {'tokens':>7} {'words':>7} {'pooling':>8} {'batch merging':>14}  upsampled to [B, T, D]")
    for c, n, p, r, m, ok in pool_rows:
        print(f"{c:<10} {n:>7,} {p:>7,} {r:>8.1%} {m:>14.1%}  {ok}")

# %% [markdown]
# **Similarity merging.** ToMe splits the tokens alternately into two sets and merges the r most similar
# cross-set pairs per call, anywhere in the sequence. On embeddings of ids, the most similar pairs are repeated
# ids: ToMe joins the same word far apart, which batch merging never does (it only joins neighbours). The source
# map gives, for each original token, the slot that now holds it.

# %%
if GATES:
    c = budget_langs[0]
    ids, _ = encoded[c]
    x_ids, mask = padded(ids)
    with torch.no_grad():
        st = TokenMerge.init(table(x_ids), mask)
        r = int(0.25 * x_ids.shape[1])
        st = TokenMerge(r)(st)
    row = 0
    src = st.source[row].tolist()
    n_real = int(mask[row].sum())
    groups = {}
    for pos in range(n_real):
        groups.setdefault(src[pos], []).append(pos)
    merged = [g for g in groups.values() if len(g) > 1]
    spread = [g[-1] - g[0] for g in merged]
    print(f"{c}, sequence 0: {n_real} tokens -> {len(groups)} slots with r={r}; {len(merged)} merged groups, "
          f"median distance between merged tokens {median(spread) if spread else 0} positions")
    for g in merged[:6]:
        print("  ", [tok.decode([int(x_ids[row, p])]) for p in g], "at positions", g)

# %% [markdown]
# **Delete gate.** As in MrT5, an untrained gate already deletes about a quarter of the tokens (its initialisation
# puts that share of G below the deletion threshold k/2 = -15; `init="keep_all"` starts from keeping every token);
# deletion is then learnt under a regulariser whose weight a PI controller steers to a target rate (see
# `benchmarks/mrt5_gate_run.py` for a small trained run). Forcing the bias down shows the hard mode: deleted tokens
# are compacted out, in order.

# %%
if GATES:
    gate = DeleteGate(POOL_DIM).eval()
    c = budget_langs[0]
    ids, _ = encoded[c]
    x_ids, mask = padded(ids)
    with torch.no_grad():
        x = table(x_ids)
        g0 = gate(x, mask)
        print(f"untrained gate on {c}: deletion rate {float(g0.deletion_rate()):.3f}")
        for bias in (0.0, -0.5, -1.0):
            for m in gate.modules():
                if isinstance(m, torch.nn.Linear):
                    m.bias.fill_(bias)
            g = gate(x, mask)
            h, key_mask, index = g.compact(x)
            print(f"bias {bias:+.1f}: deletion rate {float(g.deletion_rate()):.3f}, [B, T] {tuple(x.shape[:2])} -> "
                  f"{tuple(h.shape[:2])}, kept real tokens {int(key_mask.sum()):,} of {int(mask.sum()):,}")

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s; figures in {GALLERY.resolve()}")
