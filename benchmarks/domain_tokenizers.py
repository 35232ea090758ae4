"""Domain tokenizers against what a user would otherwise pick: tokens per character on held-out documents.

Trains tokkit's domain byte-level BPE at 32K, 64K and 128K on the train side of the shared legal + financial +
government corpora (split by document, bills by bill), then measures tokens per character on the held-out
side, per domain and per source, beside o200k, cl100k, GPT-2 (tiktoken) and KL3M's kl3m-001-32k (HF json).

    python benchmarks/domain_tokenizers.py                 # everything (a few minutes on 2 cores)
    python benchmarks/domain_tokenizers.py --sample 0.3    # train on 30% of the training documents
    python benchmarks/domain_tokenizers.py --sizes 32768 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _domain  # noqa: E402

from tokkit.train import train_bpe  # noqa: E402


def references():
    tdir = _domain.tokenizers_root()
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tdir / "tiktoken" / "cache"))
    import tiktoken
    from tokenizers import Tokenizer

    out = {}
    for name, enc in (("o200k", "o200k_base"), ("cl100k", "cl100k_base"), ("gpt2", "r50k_base")):
        e = tiktoken.get_encoding(enc)
        out[name] = lambda texts, e=e: [len(x) for x in e.encode_ordinary_batch(texts)]
    kl3m = Tokenizer.from_file(str(tdir / "kl3m" / "kl3m-001-32k" / "tokenizer.json"))
    # its tokenizer.json enables padding, which encode_batch would apply (padding every text to the longest)
    kl3m.no_padding()
    kl3m.no_truncation()
    out["kl3m-001-32k"] = lambda texts, t=kl3m: [len(x.ids) for x in t.encode_batch(texts, add_special_tokens=False)]
    return out


def hf_counter(tok):
    return lambda texts: [len(x.ids) for x in tok.encode_batch(texts, add_special_tokens=False)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="32768,65536,131072")
    ap.add_argument("--sample", type=float, default=None, help="Train on this fraction of training documents.")
    ap.add_argument("--terms", default=str(Path(__file__).with_name("legal_terms.txt")),
                    help="Domain terms file ('' for none).")
    ap.add_argument("--min-frequency", default="2,2,1",
                    help="Per size (the shared corpora hold only ~122K merges of pairs seen twice).")
    ap.add_argument("--pre-tokenizer", default="gpt2", help="gpt2, gpt4o or whitespace.")
    ap.add_argument("--work", default="/tmp/tokkit-bench/domain", help="Where the trained tokenizers go.")
    ap.add_argument("--reuse", action="store_true", help="Reuse tokenizers already in --work.")
    ap.add_argument("--json", default=None, help="Write the results here.")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    min_freqs = [int(s) for s in args.min_frequency.split(",")]
    min_freqs += [min_freqs[-1]] * (len(sizes) - len(min_freqs))

    # held-out text, kept whole per document
    evals = defaultdict(list)
    for domain, source, text in _domain.documents("eval"):
        evals[(domain, source)].append(text)
    n_eval = sum(len(v) for v in evals.values())
    chars_eval = sum(len(t) for v in evals.values() for t in v)
    print(f"held-out: {n_eval} documents, {chars_eval:,} characters in {len(evals)} sources", flush=True)

    counters = {}
    train_info = {}
    for V, min_frequency in zip(sizes, min_freqs):
        out = Path(args.work) / f"tokkit-{V // 1024}k"
        if not (args.reuse and (out / "tokenizer.json").exists()):
            t0 = time.perf_counter()
            train_bpe((t for _, _, t in _domain.documents("train", sample=args.sample)), out, vocab_size=V,
                      terms=args.terms or None, pre_tokenizer=args.pre_tokenizer, min_frequency=min_frequency,
                      quiet=True)
            wall = time.perf_counter() - t0
        else:
            wall = None
        card = json.loads((out / "tokkit.json").read_text())
        train_info[f"tokkit-{V // 1024}k"] = dict(wall_s=wall, min_frequency=card["parameters"]["min_frequency"],
                                                  timings=card["timings"], corpus=card["corpus"],
                                                  term_merges=card["vocabulary"].get("term_merges"))
        print(f"tokkit-{V // 1024}k (min_frequency {card['parameters']['min_frequency']}) trained on "
              f"{card['corpus']['characters']:,} characters: "
              f"{card['timings']['total']:.1f} s (train {card['timings']['train']:.1f} s), "
              f"max RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
        from tokenizers import Tokenizer

        counters[f"tokkit-{V // 1024}k"] = hf_counter(Tokenizer.from_file(str(out / "tokenizer.json")))
    counters.update(references())

    per_source = {}
    per_domain = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (domain, source), texts in sorted(evals.items()):
        chars = sum(len(t) for t in texts)
        row = {}
        for name, count in counters.items():
            n = sum(count(texts))
            row[name] = n / chars
            per_domain[domain][name][0] += n
            per_domain[domain][name][1] += chars
        per_source[f"{domain}/{source}"] = dict(chars=chars, docs=len(texts), **row)
    names = list(counters)
    table = {d: {n: v[0] / v[1] for n, v in row.items()} for d, row in per_domain.items()}

    print("\ntokens per character on held-out documents (lower is better)")
    print(f"{'':28}" + "".join(f"{n:>14}" for n in names))
    for d in ("legal", "financial", "government"):
        print(f"{d:28}" + "".join(f"{table[d][n]:14.4f}" for n in names))
    print("\nratio to o200k (below 1: fewer tokens than o200k)")
    for d in ("legal", "financial", "government"):
        print(f"{d:28}" + "".join(f"{table[d][n] / table[d]['o200k']:14.3f}" for n in names))
    print("\nper source, tokens per character")
    for s, row in per_source.items():
        print(f"{s:28}" + "".join(f"{row[n]:14.4f}" for n in names) + f"   ({row['chars']:,} chars)")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(per_domain=table, per_source=per_source, training=train_info,
                                                   eval_documents=n_eval, eval_characters=chars_eval), indent=2))


if __name__ == "__main__":
    main()
