"""Boundary stability under OCR-like noise on held-out legal text: tokkit's character tokenizers (4K/8K/16K)
against its 32K domain tokenizer and KL3M's character tokenizers (and GPT-2 for scale).

    python benchmarks/boundary_stability.py
    python benchmarks/boundary_stability.py --domain-tokenizer /tmp/tokkit-bench/domain/tokkit-32k

The character tokenizers are trained on the train side of the shared legal corpora (split by document);
the domain tokenizer is the one `domain_tokenizers.py` wrote, or one trained here on the same legal text.
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

from tokkit.analysis.boundary import boundary_stability  # noqa: E402
from tokkit.train import train_bpe, train_char  # noqa: E402


def chunks(texts, size, limit):
    """Pieces of about `size` characters cut at line ends, up to `limit` characters in all."""
    out, total = [], 0
    for t in texts:
        start = 0
        while start < len(t) and total < limit:
            end = t.find("\n", start + size)
            end = len(t) if end < 0 else end + 1
            piece = t[start:end]
            if piece.strip():
                out.append(piece)
                total += len(piece)
            start = end
        if total >= limit:
            break
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="0.01,0.03,0.05")
    ap.add_argument("--eval-chars", type=int, default=400_000, help="Held-out characters measured.")
    ap.add_argument("--sample", type=float, default=None, help="Train on this fraction of legal documents.")
    ap.add_argument("--domain-tokenizer", default="/tmp/tokkit-bench/domain/tokkit-32k")
    ap.add_argument("--work", default="/tmp/tokkit-bench/boundary")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--seeds", type=int, default=3, help="Noise seeds averaged per rate.")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    from tokenizers import Tokenizer

    toks, timings = {}, {}
    for V in (4096, 8192, 16384):
        out = Path(args.work) / f"char-{V // 1024}k"
        if not (args.reuse and (out / "tokenizer.json").exists()):
            t0 = time.perf_counter()
            train_char((t for _, _, t in _domain.documents("train", sample=args.sample, domains=("legal",))), out,
                       vocab_size=V)
            timings[out.name] = round(time.perf_counter() - t0, 1)
            print(f"trained {out.name} in {timings[out.name]} s", flush=True)
        toks[f"tokkit char-{V // 1024}k"] = Tokenizer.from_file(str(out / "tokenizer.json"))
    dom = Path(args.domain_tokenizer)
    if not (dom / "tokenizer.json").exists():
        dom = Path(args.work) / "domain-32k"
        t0 = time.perf_counter()
        train_bpe((t for _, _, t in _domain.documents("train", sample=args.sample, domains=("legal",))), dom,
                  vocab_size=32768)
        timings["domain-32k"] = round(time.perf_counter() - t0, 1)
    toks["tokkit domain-32k"] = Tokenizer.from_file(str(dom / "tokenizer.json"))
    tdir = _domain.tokenizers_root()
    for k in ("4k", "8k", "16k"):
        toks[f"kl3m-004-char-{k}"] = Tokenizer.from_file(
            str(tdir / "kl3m" / f"kl3m-004-char-{k}-cased" / "tokenizer.json"))
    toks["gpt2"] = Tokenizer.from_file(str(tdir / "gpt2" / "tokenizer.json"))
    for t in toks.values():
        t.no_padding()
        t.no_truncation()

    texts = chunks((t for _, _, t in _domain.documents("eval", domains=("legal",))), 2000, args.eval_chars)
    n_chars = sum(map(len, texts))
    print(f"held-out legal text: {len(texts)} pieces, {n_chars:,} characters; noise seeds 0..{args.seeds - 1}")
    results = {}
    for name, tok in toks.items():
        row = {}
        for r in rates:
            vals = [boundary_stability(tok, texts, rate=r, seed=s)["stability"] for s in range(args.seeds)]
            row[str(r)] = sum(vals) / len(vals)
        tpc = sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)) / n_chars
        results[name] = dict(stability=row, tokens_per_char=tpc)
    print("\nboundary stability (share of token boundaries away from the edits that survive; higher is better)")
    print(f"{'':22}" + "".join(f"{f'{r:.0%} noise':>12}" for r in rates) + f"{'tokens/char':>14}")
    for name, res in results.items():
        print(f"{name:22}" + "".join(f"{res['stability'][str(r)]:12.4f}" for r in rates)
              + f"{res['tokens_per_char']:14.4f}")
    base = results["tokkit domain-32k"]["stability"]
    print("\nshare of boundaries lost, relative to the 32K domain tokenizer (below 1: more stable)")
    for name, res in results.items():
        print(f"{name:22}" + "".join(f"{(1 - res['stability'][str(r)]) / (1 - base[str(r)]):12.3f}" for r in rates))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(results=results, training_s=timings, eval_characters=n_chars),
                                              indent=2))


if __name__ == "__main__":
    main()
