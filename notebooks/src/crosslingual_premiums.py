# %% [markdown]
# # What a tokenizer costs each language: token premiums over the UDHR
#
# The same text needs a different number of tokens in every language. The **token premium** of a language is
# the number of tokens its translation needs divided by the number the reference (English) needs for the same
# units (Petrov et al. 2023); the **byte premium** is the same ratio of UTF-8 bytes, a property of the script
# and the language, not of any tokenizer. This notebook measures both for several real tokenizers over every
# declaration of the Universal Declaration of Human Rights (UDHR, 532 files), with bootstrap confidence
# intervals over articles, and asks where the premiums come from.
#
# Parameters: change them and rerun. The defaults run in well under a minute on two cores.

# %%
TOKENIZERS = ["gpt2", "cl100k_base", "o200k_base", "llama2"]   # names under $TOKKIT_TOKENIZERS, files, "bytes"
LANGUAGES = None            # None: all 532 declarations; or a list of UDHR codes such as ["eng", "hin", "mya"]
REFERENCE = "eng"
BOOTSTRAP = 1000            # bootstrap resamples of the articles, for the 95% intervals
WORST = 20                  # how many of the most expensive languages to list

# %%
import os
import time
from pathlib import Path
from statistics import median

import numpy as np
from IPython.display import Markdown, display

import tokkit
from tokkit.analysis import gini, plot_lorenz, plot_premiums, plot_script_boxes, plot_world, premiums

GALLERY = Path(os.environ.get("TOKKIT_GALLERY", "../docs/gallery"))
GALLERY.mkdir(parents=True, exist_ok=True)
t_start = time.perf_counter()

# %% [markdown]
# ## Premiums of every language
#
# `tokkit.load_udhr` parses the declarations into units (the preamble and the 30 articles) aligned across
# languages; `premiums` encodes every unit once per tokenizer, sums the tokens of the units a language shares
# with the reference, masks languages with more than 10% of their characters under UNK, and resamples articles
# for the confidence intervals. The text is NFC-normalised (35 declarations are not).

# %%
udhr = tokkit.load_udhr(nfc=True, languages=LANGUAGES if LANGUAGES is None else sorted(set(LANGUAGES) | {REFERENCE}))
res = premiums(TOKENIZERS, udhr, reference=REFERENCE, bootstrap=BOOTSTRAP)
names = [s["tokenizer"] for s in res.summary]
print(f"{len(udhr)} declarations, {len(res.rows)} (tokenizer, language) pairs in {res.timings['total']:.1f} s")
print(f"{'tokenizer':<14} {'ref. tokens':>11} {'median':>7} {'max':>7} {'at':<10} {'Gini':>6} {'masked':>6}")
for s in res.summary:
    print(f"{s['tokenizer']:<14} {s['reference_tokens']:>11,} {s['median']:>7.2f} {s['max']:>7.2f} "
          f"{s['max_language']:<10} {s['gini']:>6.3f} {s['masked']:>6}")

# %%
top = max(res.summary, key=lambda s: s["max"])
low = min(res.summary, key=lambda s: s["median"])
name_of = {c: udhr.languages[c].name for c in udhr.codes}
display(Markdown(
    f"The largest premium found is **{top['max']:.2f}**: {name_of[top['max_language']]} (`{top['max_language']}`) "
    f"under **{top['tokenizer']}**, i.e. that declaration costs {top['max']:.1f} times the tokens of the English one. "
    f"The cheapest tokenizer for the typical language is **{low['tokenizer']}** (median premium "
    f"{low['median']:.2f}); the spread of premiums, as a Gini coefficient, ranges from "
    f"{min(s['gini'] for s in res.summary):.3f} to {max(s['gini'] for s in res.summary):.3f} across the tokenizers."))

# %% [markdown]
# ## Sorted premiums with confidence intervals
#
# One bar per language, sorted, on a log scale; the whiskers are the 95% bootstrap intervals over articles.
# The red line is parity with English.

# %%
plot_premiums(res, GALLERY / "premiums_sorted.png")
display(Markdown(f"![sorted premiums]({GALLERY / 'premiums_sorted.png'})"))

# %% [markdown]
# ## Premiums by script
#
# Scripts (ISO 15924, from the declaration's BCP 47 tag or its dominant characters) explain much of the
# variation: box plots per script with at least two languages.

# %%
plot_script_boxes(res, GALLERY / "premiums_scripts.png")
for name in names:
    rows = [r for r in res.scripts if r["tokenizer"] == name and r["languages"] >= 2]
    worst, best = rows[0], rows[-1]
    print(f"{name:<14} dearest script {worst['script']} (median {worst['median']:.2f}, "
          f"{worst['languages']} languages), "
          f"cheapest {best['script']} (median {best['median']:.2f}, {best['languages']} languages)")
display(Markdown(f"![premiums per script]({GALLERY / 'premiums_scripts.png'})"))

# %% [markdown]
# ## Where the expensive languages are
#
# Each declaration carries the coordinates of its language, so the premiums of one tokenizer can be placed on
# longitude and latitude (colour: log2 premium).

# %%
MAP_TOKENIZER = names[-1] if len(names) > 1 else names[0]
plot_world(res, GALLERY / "premiums_map.png", tokenizer=MAP_TOKENIZER)
display(Markdown(f"![premiums on a map]({GALLERY / 'premiums_map.png'})"))

# %% [markdown]
# ## Inequality: the Lorenz curve and the Gini coefficient
#
# Sort the languages from cheapest to dearest and plot the share of all tokens held by the cheapest x% of
# them. Equal premiums give the diagonal; the Gini coefficient is twice the area between the curve and it.

# %%
plot_lorenz(res, GALLERY / "premiums_lorenz.png")
for s in res.summary:
    vals = [r["premium"] for r in res.for_tokenizer(s["tokenizer"]) if not r["masked"]]
    share = np.sort(vals)[::-1][: max(1, len(vals) // 10)].sum() / np.sum(vals)
    print(f"{s['tokenizer']:<14} Gini {gini(vals):.3f}; the dearest 10% of languages hold {share:.1%} of all tokens")
display(Markdown(f"![Lorenz curves]({GALLERY / 'premiums_lorenz.png'})"))

# %% [markdown]
# ## The most expensive languages
#
# The languages with the highest premium under any of the tokenizers, with the 95% interval of each.

# %%
by = {(r["tokenizer"], r["language"]): r for r in res.rows}
worst_langs = sorted({r["language"] for r in res.rows if not r["masked"]},
                     key=lambda c: -max(by[(n, c)]["premium"] for n in names if not by[(n, c)]["masked"]))[:WORST]
head = "| language | script | byte premium | " + " | ".join(names) + " |"
lines = [head, "|" + "---|" * (3 + len(names))]
for c in worst_langs:
    cells = []
    for n in names:
        r = by[(n, c)]
        # a language with a single unit has no interval (ci_note says why)
        ci = "" if r["ci_low"] is None else f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        cells.append("masked" if r["masked"] else f"{r['premium']:.2f}{ci}")
    r0 = by[(names[0], c)]
    lines.append(f"| {r0['name'] or c} (`{c}`) | {r0['script']} | {r0['byte_premium']:.2f} | "
                 + " | ".join(cells) + " |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## What the premium follows: bytes and whitespace
#
# Two properties of the text itself are candidates for explaining a tokenizer's premium. The **byte premium**: a script
# whose characters take 3 UTF-8 bytes starts from three times as many byte-level symbols. The **whitespace
# share** (whitespace characters over all characters): scripts written without spaces between words give the
# pre-tokenizer one long chunk per phrase, and languages with long words have few spaces. Below, each point is a
# language; the correlation is Spearman's rank correlation (log scales do not change it).

# %%
import matplotlib.pyplot as plt


def spearman(x, y):
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


ws_share = {}
for c in udhr.codes:
    text = "".join(udhr.texts(c, udhr.common_units(c, REFERENCE)))
    ws_share[c] = sum(ch.isspace() for ch in text) / max(1, len(text))

fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.5), squeeze=False)
corr = {}
for k, n in enumerate(names):
    rows = [r for r in res.for_tokenizer(n) if not r["masked"]]
    p = np.array([r["premium"] for r in rows])
    bp = np.array([r["byte_premium"] for r in rows])
    ws = np.array([ws_share[r["language"]] for r in rows])
    corr[n] = (spearman(bp, p), spearman(ws, p), float(median(p / bp)), int((p < bp).sum()), len(p))
    axes[0, k].scatter(bp, p, s=6, alpha=0.6)
    axes[0, k].set(xscale="log", yscale="log", xlabel="byte premium", ylabel="token premium",
                   title=f"{n}: rho {corr[n][0]:.2f}")
    axes[0, k].plot([0.3, 10], [0.3, 10], color="#C44E52", lw=0.8)
    axes[1, k].scatter(ws, p, s=6, alpha=0.6, color="C2")
    axes[1, k].set(yscale="log", xlabel="whitespace share of characters", ylabel="token premium",
                   title=f"{n}: rho {corr[n][1]:.2f}")
fig.tight_layout()
fig.savefig(GALLERY / "premiums_bytes_whitespace.png", dpi=90)
plt.close(fig)
display(Markdown(f"![premium against byte premium and whitespace share]({GALLERY / 'premiums_bytes_whitespace.png'})"))
print(f"{'tokenizer':<14} {'rho(bytes)':>10} {'rho(whitespace)':>16} {'median premium / byte premium':>30} "
      f"{'below byte premium':>19}")
for n, (a, b, m, below, total) in corr.items():
    print(f"{n:<14} {a:>10.2f} {b:>16.2f} {m:>30.2f} {below:>10} of {total}")

# %%
best_bytes = max(corr, key=lambda n: corr[n][0])
display(Markdown(
    f"Across tokenizers, the rank correlation between token premium and byte premium runs from "
    f"{min(v[0] for v in corr.values()):.2f} to {max(v[0] for v in corr.values()):.2f} (strongest for "
    f"{best_bytes}), and with the whitespace share from {min(v[1] for v in corr.values()):.2f} to "
    f"{max(v[1] for v in corr.values()):.2f}: the encoding's cost carries over into tokens, while the share of "
    f"spaces says little once the script is known. A median ratio of token premium to byte premium above 1 means the "
    f"tokenizer adds inequality on top of what the encoding already costs; below 1, its vocabulary "
    f"compensates for part of it. Points above the red diagonal are languages the tokenizer treats worse than "
    f"raw bytes would, relative to English; below it: "
    + ", ".join(f"{n} {v[3]} of {v[4]}" for n, v in corr.items()) + " languages."))

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s; figures in {GALLERY.resolve()}")
