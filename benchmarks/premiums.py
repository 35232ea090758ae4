"""Premiums over all UDHR declarations vs raw batch encoding of the same texts, on the fastest exact
engine (load_tokenizer's encoder="auto", tokkit[fast]) and on the reference engines (today's: HF tokenizers,
tiktoken).

    PYTHONPATH=. python benchmarks/premiums.py [--tokenizers cl100k_base gpt2] [--repeat 5]

What a user would otherwise write: call the engine's fastest batch encoder on the very texts tokkit encodes
(every unit of every language aligned with English, English once) and sum the lengths. tokkit's
`premiums` does that plus the alignment, byte counts, UNK masking, 1,000-sample bootstrap CIs for all 532
languages and the summaries. Runs alternate (raw, tokkit, raw, tokkit, ...) so that load from other
processes hits both alike; the ratio of the medians and of the minima is printed, for wall time and for the
process's CPU time (all threads), which other processes' load disturbs far less on a shared machine.
Four runs alternate: the fastest exact engine's raw count, premiums on it, the reference engine's raw
count, premiums on it; printed: premiums / fastest raw count (target <= 1.05x) and reference premiums /
fast premiums (target >= 3x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def raw_encoder(tok):
    """The engine's own fastest batch call (counting only where it has one), as a user would write it."""
    if tok.encoder == "tokie":
        t = tok._fast._t
        return lambda texts: sum(t.count_tokens_batch(texts))
    if tok.encoder == "splintr":  # ids and per-text offsets as packed bytes: the last offset is the total
        t = tok._fast._t
        return lambda texts: int(np.frombuffer(t.encode_batch_flat(texts)[1], dtype=np.uint64)[-1])
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
    # the texts premiums() encodes: each language's units aligned with the reference, the reference once
    flat = list(pc.texts(args.reference, pc.common_units(args.reference)))
    for c in pc.codes:
        if c != args.reference:
            flat += pc.texts(c, pc.common_units(c, args.reference))
    sets = {"fast": [load_tokenizer(s) for s in args.tokenizers],
            "reference": [load_tokenizer(s, encoder="reference") for s in args.tokenizers]}
    print(f"UDHR: {len(pc)} languages, {len(flat):,} unit texts, {sum(map(len, flat)):,} characters "
          f"(loaded in {t_load:.2f} s); load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("engines: " + ", ".join(f"{t.name}: {t.encoder}" for t in sets["fast"]))
    encoders = {k: [raw_encoder(t) for t in toks] for k, toks in sets.items()}
    for k in sets:  # warm-up: thread pools, caches
        for e in encoders[k]:
            e(flat[:200])
        premiums(sets[k], pc, bootstrap=10)

    wall = {(k, w): [] for k in sets for w in ("raw", "premiums")}
    cpu = {key: [] for key in wall}
    totals = {}
    for _ in range(args.repeat):
        for k in ("fast", "reference"):
            t, c = time.perf_counter(), time.process_time()
            totals[k] = [e(flat) for e in encoders[k]]
            wall[k, "raw"].append(time.perf_counter() - t)
            cpu[k, "raw"].append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            res = premiums(sets[k], pc, reference=args.reference)
            wall[k, "premiums"].append(time.perf_counter() - t)
            cpu[k, "premiums"].append(time.process_time() - c)
            for tok, total in zip(sets[k], totals[k]):
                counted = sum(r["tokens"] for r in res.for_tokenizer(tok.name) if r["language"] != args.reference) \
                    + next(s["reference_tokens"] for s in res.summary if s["tokenizer"] == tok.name)
                assert counted == total, (k, tok.name, counted, total)  # the same texts, the same counts
    assert totals["fast"] == totals["reference"], totals  # the fast engines are exact
    per = ", ".join(f"{t.name} {n:,}" for t, n in zip(sets["fast"], totals["fast"]))
    print(f"tokens: {sum(totals['fast']):,} ({per}), identical on both engines")
    med = statistics.median
    for key in wall:
        print(f"{key[1]:>8} on {key[0]:<9}: wall median {med(wall[key]):.3f} s, min {min(wall[key]):.3f} s; "
              f"CPU median {med(cpu[key]):.3f} s, min {min(cpu[key]):.3f} s")

    def ratio(a, b, what):
        print(f"{what}: CPU median {med(cpu[a]) / med(cpu[b]):.3f}x, min {min(cpu[a]) / min(cpu[b]):.3f}x; "
              f"wall median {med(wall[a]) / med(wall[b]):.3f}x, min {min(wall[a]) / min(wall[b]):.3f}x")

    ratio(("fast", "premiums"), ("fast", "raw"), "premiums (fastest exact) / its raw count   (target <= 1.05x)")
    ratio(("reference", "premiums"), ("fast", "premiums"), "premiums today / premiums fastest exact   (target >= 3x)  ")
    ratio(("fast", "premiums"), ("reference", "raw"), "premiums (fastest exact) / today's raw count           ")
    ratio(("reference", "raw"), ("fast", "raw"), "raw count today / raw count fastest exact                ")
    print("summary:", "; ".join(f"{s['tokenizer']}: median {s['median']:.2f}, max {s['max']:.2f} "
                                 f"({s['max_language']}), Gini {s['gini']:.3f}" for s in res.summary))


if __name__ == "__main__":
    main()
