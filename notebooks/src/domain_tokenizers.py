# %% [markdown]
# # Domain tokenizers for legal, financial and government text
#
# KL3M (ALEA Institute) trained tokenizers on legal and financial text and reported about 8% fewer tokens than
# GPT-4o's o200k on its own domain. This notebook repeats the experiment at a small scale with tokkit's
# recipes: a byte-level BPE trained on the training side of the shared legal, financial and government corpora
# (split by document, with legal citation abbreviations as domain terms), compared with general-purpose
# tokenizers and KL3M's own on held-out documents of each source; then how each one cuts citations and
# financial terms; then character-level tokenizers, which trade length for **boundary stability**: how much of
# the segmentation survives OCR-like noise.
#
# Parameters: the defaults train on a few million characters so the notebook runs in a couple of minutes;
# raise `TRAIN_CHARS_PER_SOURCE` and `VOCAB` for real figures (`benchmarks/domain_tokenizers.py` runs the full
# corpora).

# %%
TRAIN_CHARS_PER_SOURCE = 1_500_000    # training text taken from each source file's training side
EVAL_CHARS_PER_SOURCE = 200_000      # held-out text measured per source
VOCAB = 32768                         # the domain tokenizer
CHAR_VOCAB = 4096                     # the character-level tokenizer (tokens of at most 3 characters)
TERMS = "../benchmarks/legal_terms.txt"   # domain terms kept as single tokens (None: none)
GENERAL = ["o200k_base", "cl100k_base", "gpt2", "kl3m-001-32k"]
CHAR_REFERENCE = "kl3m-004-char-4k-cased"
NOISE_RATES = [0.01, 0.03, 0.05]     # OCR-like edits per character
NOISE_CHARS = 60_000                  # held-out legal characters for the stability measurement
NOISE_SEEDS = [0]
SKIP = {"bills"}                      # several versions of one bill: they would leak across a document split

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import tokkit
from tokkit.analysis import compare, plot_compare
from tokkit.corpora import read_documents

DATA = Path(os.environ.get("TOKKIT_DATA", "../../shared/corpora")) / "domain"
GALLERY = Path(os.environ.get("TOKKIT_GALLERY", "../docs/gallery"))
GALLERY.mkdir(parents=True, exist_ok=True)
WORK = Path(tempfile.mkdtemp(prefix="tokkit-domain-"))   # trained tokenizers land here
t_start = time.perf_counter()

sources = [(f.parent.name, f.name.split(".")[0], f) for domain in ("legal", "financial", "government")
           for f in sorted((DATA / domain).glob("*.jsonl.gz")) if f.name.split(".")[0] not in SKIP]


def take(path, split, limit):
    """Up to `limit` characters of one side of a source's document split (documents in file order); a source
    of a few documents can have none on one side (cfr: 3 volumes, all on the training side)."""
    out, n = [], 0
    try:
        docs = list(read_documents(path, split=split))
    except tokkit.InputError:   # no document on this side of the split
        return out
    for doc in docs:
        piece = doc.text[: limit - n]
        out.append(piece)
        n += len(piece)
        if n >= limit:
            break
    return out


train_text = [t for _, _, f in sources for t in take(f, "train", TRAIN_CHARS_PER_SOURCE)]
held_out = {s: take(f, "eval", EVAL_CHARS_PER_SOURCE) for _, s, f in sources}
no_eval = [s for s, ts in held_out.items() if not ts]
held_out = {s: ts for s, ts in held_out.items() if ts}
if no_eval:
    print("no held-out documents in:", ", ".join(no_eval))
domain_of = {s: d for d, s, _ in sources}
print(f"{len(sources)} sources; training on {sum(map(len, train_text)):,} characters; held out: "
      f"{sum(len(t) for ts in held_out.values() for t in ts):,} characters")

# %% [markdown]
# ## Training
#
# `tokkit.train_bpe` is the KL3M recipe done with an exact vocabulary size and the domain terms as real BPE
# merges (KL3M adds them as added tokens, which are cut out of words before BPE runs); `tokkit.train_char`
# gives character-level BPE with tokens of at most three characters. Both write a standard `tokenizer.json`.

# %%
t0 = time.perf_counter()
tokkit.train_bpe(train_text, WORK / "domain", vocab_size=VOCAB, terms=TERMS)
t_bpe = time.perf_counter() - t0
tokkit.train_char(train_text, WORK / "char", vocab_size=CHAR_VOCAB)
t_char = time.perf_counter() - t0 - t_bpe
domain_tok = tokkit.load_tokenizer(WORK / "domain", name=f"tokkit-{VOCAB // 1024}k")
char_tok = tokkit.load_tokenizer(WORK / "char", name=f"tokkit-char-{CHAR_VOCAB // 1024}k")
print(f"domain BPE {VOCAB:,}: {t_bpe:.1f} s; character BPE {CHAR_VOCAB:,}: {t_char:.1f} s")

# %% [markdown]
# ## Tokens per character on held-out documents of each source
#
# Lower is better: the same text in fewer tokens. `compare` counts every tokenizer's tokens on each set and the
# percentage fewer than a baseline (o200k here).

# %%
general = [tokkit.load_tokenizer(n) for n in GENERAL]
table = compare([domain_tok] + general, held_out, baseline=GENERAL[0], max_documents=None)
names = table.tokenizers
print(f"{'source':<20} {'domain':<10} " + " ".join(f"{n:>13}" for n in names))
for s in table.sets:
    print(f"{s:<20} {domain_of[s]:<10} " + " ".join(f"{table.value(n, s):>13.4f}" for n in names))
print(f"{'mean':<31} " + " ".join(f"{a['tokens_per_character']:>13.4f}" for a in table.averages))
print(f"{'% fewer than ' + GENERAL[0]:<31} " + " ".join(f"{a['percent_fewer']:>13.1f}" for a in table.averages))
plot_compare(table, GALLERY / "domain_tokens_per_char.png")
display(Markdown(f"![tokens per character]({GALLERY / 'domain_tokens_per_char.png'})"))

# %%
mine = table.averages[0]


def fewer(pct):
    return f"{pct:.1f}% fewer tokens" if pct >= 0 else f"{-pct:.1f}% more tokens"


wins = [s for s in table.sets if table.value(names[0], s) < table.value(GENERAL[0], s)]
best_set = max(table.sets, key=lambda s: -table.value(names[0], s) / table.value(GENERAL[0], s))
worst_set = max(table.sets, key=lambda s: table.value(names[0], s) / table.value(GENERAL[0], s))
kl3m = next((a for a in table.averages if a["tokenizer"] == "kl3m-001-32k"), None)
display(Markdown(
    f"Trained on {sum(map(len, train_text)) / 1e6:.1f}M characters, the {VOCAB:,}-token domain tokenizer needs "
    f"**{fewer(mine['percent_fewer'])}** than {GENERAL[0]} on average over the {len(table.sets)} held-out "
    f"sources ({mine['tokens_per_character']:.4f} tokens per character), with fewer tokens on {len(wins)} of them; "
    f"its best source is {best_set} ({table.value(names[0], best_set):.4f} against "
    f"{table.value(GENERAL[0], best_set):.4f}), its worst {worst_set} ({table.value(names[0], worst_set):.4f} against "
    f"{table.value(GENERAL[0], worst_set):.4f})."
    + (f" KL3M's kl3m-001-32k averages {kl3m['tokens_per_character']:.4f} ({-kl3m['percent_fewer']:.0f}% more "
       f"than {GENERAL[0]}): its whitespace and term tokens are added tokens, cut out of the text before BPE runs, "
       f"which breaks words around them." if kl3m else "")))

# %% [markdown]
# ## How citations and financial terms are split
#
# The pieces each tokenizer cuts these strings into (`·` separates tokens, `␣` is a space).

# %%
EXAMPLES = [
    "See 42 U.S.C. § 1983 and Fed. R. Civ. P. 56(a).",
    "28 C.F.R. § 35.130(b)(7)(i), 85 Fed. Reg. 12345",
    "Brown v. Board of Education, 347 U.S. 483 (1954)",
    "EBITDA rose 12.5% year-over-year to $1,234.5 million",
    "non-GAAP diluted EPS of $0.87; Form 10-K, Item 7A",
    "the annulled order shall nullify the indemnification",
]


def pieces(tok, text):
    _, offsets = tok.encode_with_offsets(text)
    return [text[s:e].replace(" ", "␣") for s, e in offsets]


lines = ["| text | " + " | ".join(n for n in names) + " |", "|---|" + "---|" * len(names)]
counts = {n: 0 for n in names}
for text in EXAMPLES:
    row = []
    for tok in [domain_tok] + general:
        p = pieces(tok, text)
        counts[tok.name] += len(p)
        row.append(f"{len(p)}: " + "·".join(p).replace("|", "\\|"))
    lines.append(f"| {text} | " + " | ".join(row) + " |")
lines.append("| total tokens | " + " | ".join(str(counts[n]) for n in names) + " |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Character-level tokenizers and boundary stability under noise
#
# OCR and typing errors change a character here and there. A tokenizer with long tokens re-cuts every word that
# holds an error, and its neighbours' boundaries move; short tokens confine the damage. `ocr_noise` makes a
# seeded noisy copy of the text (look-alike substitutions, stray marks, deletions) and remembers the edited
# spans; `boundary_stability` is the share of token boundaries away from the edits that both segmentations
# share.

# %%
legal_eval = [t for s, ts in held_out.items() if domain_of[s] == "legal" for t in ts]
noise_text, n = [], 0
for t in legal_eval:
    noise_text.append(t[: NOISE_CHARS - n])
    n += len(noise_text[-1])
    if n >= NOISE_CHARS:
        break
sample_noisy, edits = tokkit.ocr_noise(noise_text[0][:200], rate=0.05, seed=1)
print("clean:", noise_text[0][:200].replace("\n", " "))
print("noisy:", sample_noisy.replace("\n", " "))

stab_toks = [char_tok, tokkit.load_tokenizer(CHAR_REFERENCE), domain_tok, general[0]]
stability = {}
for tok in stab_toks:
    tpc = sum(len(tok.encode(t)) for t in noise_text) / sum(map(len, noise_text))
    vals = []
    for rate in NOISE_RATES:
        v = [tokkit.boundary_stability(tok, noise_text, rate=rate, seed=s)["stability"] for s in NOISE_SEEDS]
        vals.append(sum(v) / len(v))
    stability[tok.name] = (vals, tpc)
print(f"{'tokenizer':<24} " + " ".join(f"{r:>7.0%}" for r in NOISE_RATES) + "  tokens/char")
for name, (vals, tpc) in stability.items():
    print(f"{name:<24} " + " ".join(f"{v:>7.4f}" for v in vals) + f"  {tpc:>10.4f}")

fig, ax = plt.subplots(figsize=(6.5, 4.2))
for name, (vals, tpc) in stability.items():
    ax.plot([100 * r for r in NOISE_RATES], vals, "o-", label=f"{name} ({tpc:.3f} tok/char)")
ax.set(xlabel="OCR-like edits per 100 characters", ylabel="boundary stability",
       title=f"segmentation kept under noise ({sum(map(len, noise_text)):,} held-out legal characters)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(GALLERY / "domain_boundary_stability.png", dpi=100)
plt.close(fig)
display(Markdown(f"![boundary stability]({GALLERY / 'domain_boundary_stability.png'})"))

# %%
top_rate = len(NOISE_RATES) - 1
lost = {k: 1 - v[0][top_rate] for k, v in stability.items()}
display(Markdown(
    f"At {NOISE_RATES[top_rate]:.0%} noise the character tokenizer {char_tok.name} keeps "
    f"{stability[char_tok.name][0][top_rate]:.1%} of its comparable boundaries and the domain BPE "
    f"{stability[domain_tok.name][0][top_rate]:.1%}: it loses "
    f"{lost[char_tok.name] / lost[domain_tok.name]:.2f} times as "
    f"many, at the price of {stability[char_tok.name][1] / stability[domain_tok.name][1]:.1f} times the tokens per "
    f"character."))

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s; figures in {GALLERY.resolve()}")
