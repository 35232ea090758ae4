"""Superword (SuperBPE) against plain byte-level BPE of the same size, trained on the same legal text:
tokens per character on held-out legal documents, and training time.

    python benchmarks/superword.py                   # 35% of the legal training documents (~21M characters)
    python benchmarks/superword.py --sample 1.0 --size 65536
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _domain  # noqa: E402

from tokkit.train import train_bpe, train_superword  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=32768)
    ap.add_argument("--transition", type=float, default=0.9, help="Stage-1 share of the vocabulary.")
    ap.add_argument("--sample", type=float, default=0.35, help="Fraction of the legal training documents.")
    ap.add_argument("--work", default="/tmp/tokkit-bench/superword")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    def train():
        return (t for _, _, t in _domain.documents("train", sample=args.sample, domains=("legal",)))

    evals = [t for _, _, t in _domain.documents("eval", domains=("legal",))]
    n_chars = sum(map(len, evals))
    work = Path(args.work)
    runs = {
        f"bpe-{args.size // 1024}k": lambda out: train_bpe(train(), out, vocab_size=args.size),
        f"superword-{args.size // 1024}k": lambda out: train_superword(
            train(), out, vocab_size=args.size, transition=int(args.size * args.transition)),
    }
    results = {}
    for name, fn in runs.items():
        t0 = time.perf_counter()
        tok = fn(work / name)
        wall = time.perf_counter() - t0
        n = sum(tok.count_batch(evals))
        card = json.loads((work / name / "tokkit.json").read_text())
        results[name] = dict(tokens_per_char=n / n_chars, wall_s=round(wall, 1), timings=card["timings"],
                             train_characters=card["corpus"]["characters"])
        print(f"{name:16} {n / n_chars:.4f} tokens/char   trained in {wall:.1f} s {card['timings']}", flush=True)
    names = list(results)
    print(f"\nheld-out legal: {n_chars:,} characters; superword / BPE tokens: "
          f"{results[names[1]]['tokens_per_char'] / results[names[0]]['tokens_per_char']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
