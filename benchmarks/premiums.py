"""Premiums over all UDHR declarations vs raw batch encoding of the same texts.

    PYTHONPATH=. python benchmarks/premiums.py [--tokenizers cl100k_base gpt2] [--repeat 5]

What a user would otherwise write: call the engine's fastest batch encoder on the very texts tokkit encodes
(every unit of every language aligned with English, English once) and sum the lengths. tokkit's
`premiums` does that plus the alignment, byte counts, UNK masking, 1,000-sample bootstrap CIs for all 532
languages and the summaries. Runs alternate (raw, tokkit, raw, tokkit, ...) so that load from other
processes hits both alike; the ratio of the medians and of the minima is printed, for wall time and for the
process's CPU time (all threads), which other processes' load disturbs far less on a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import time


def raw_encoder(tok):
    """The engine's own fastest batch call, as a user would write it."""
    if tok.kind == "tiktoken":
        enc = tok.engine
        return lambda texts: sum(map(len, enc.encode_ordinary_batch(texts, num_threads=8)))
    if tok.kind == "hf":
        eng = tok.engine
        return lambda texts: sum(len(e) for e in eng.encode_batch_fast(texts, add_special_tokens=False))
    if tok.kind == "sentencepiece":
        sp = tok.engine
        return lambda texts: sum(map(len, sp.encode(texts)))
    return lambda texts: sum(tok.count_batch(texts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizers", nargs="+", default=["cl100k_base", "gpt2"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--reference", default="eng")
    args = ap.parse_args()

    from tokkit.analysis.premium import premiums
    from tokkit.corpora import load_udhr
    from tokkit.tokenizer import load_tokenizer

    t = time.perf_counter()
    pc = load_udhr()
    t_load = time.perf_counter() - t
    toks = [load_tokenizer(s) for s in args.tokenizers]
    # the texts premiums() encodes: each language's units aligned with the reference, the reference once
    flat = list(pc.texts(args.reference, pc.common_units(args.reference)))
    for c in pc.codes:
        if c != args.reference:
            flat += pc.texts(c, pc.common_units(c, args.reference))
    print(f"UDHR: {len(pc)} languages, {len(flat):,} unit texts, {sum(map(len, flat)):,} characters "
          f"(loaded in {t_load:.2f} s); tokenizers: {', '.join(t.name for t in toks)}")
    encoders = [raw_encoder(t) for t in toks]
    for e in encoders:  # warm-up: thread pools, caches
        e(flat[:200])
    premiums(toks, pc, bootstrap=10)

    raw, ours, raw_cpu, ours_cpu = [], [], [], []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        totals = [e(flat) for e in encoders]
        raw.append(time.perf_counter() - t)
        raw_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        res = premiums(toks, pc, reference=args.reference)
        ours.append(time.perf_counter() - t)
        ours_cpu.append(time.process_time() - c)
    for tok, total in zip(toks, totals):
        counted = sum(r["tokens"] for r in res.for_tokenizer(tok.name) if r["language"] != args.reference) + \
            next(s["reference_tokens"] for s in res.summary if s["tokenizer"] == tok.name)
        assert counted == total, (tok.name, counted, total)  # the same texts, the same counts
    print(f"raw batch encoding : median {statistics.median(raw):.3f} s, min {min(raw):.3f} s  "
          f"({', '.join(f'{x:.2f}' for x in raw)})")
    print(f"tokkit premiums    : median {statistics.median(ours):.3f} s, min {min(ours):.3f} s  "
          f"({', '.join(f'{x:.2f}' for x in ours)})")
    print(f"ratio premiums/raw : median {statistics.median(ours) / statistics.median(raw):.3f}x, "
          f"min {min(ours) / min(raw):.3f}x (wall; target <= 1.1x)")
    print(f"CPU time           : raw median {statistics.median(raw_cpu):.3f} s, premiums median "
          f"{statistics.median(ours_cpu):.3f} s; ratio median {statistics.median(ours_cpu) / statistics.median(raw_cpu):.3f}x, "
          f"min {min(ours_cpu) / min(raw_cpu):.3f}x")
    print("summary:", "; ".join(f"{s['tokenizer']}: median {s['median']:.2f}, max {s['max']:.2f} "
                                 f"({s['max_language']}), Gini {s['gini']:.3f}" for s in res.summary))


if __name__ == "__main__":
    main()
