"""Premiums by count mode: the sentence and joined tables side by side, and the time and peak memory of one
premiums() call in a fresh process.

    PYTHONPATH=. python benchmarks/premiums_modes.py table cl100k_base -l eng -l mya ...
    PYTHONPATH=. python benchmarks/premiums_modes.py compare cl100k_base --corpus ntrex   # all languages
    PYTHONPATH=. python benchmarks/premiums_modes.py run gpt2 --unit joined        # all UDHR languages
    PYTHONPATH=. python benchmarks/premiums_modes.py long gpt2 --mb 10 [--whole]  # one long text
"""

from __future__ import annotations

import argparse
import resource
import time


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def compare(tokenizer: str, pc, bootstrap: int) -> None:
    """joined vs sentence over every language with an interval: largest and median change, summaries, and
    the languages whose joined premium falls outside the sentence interval."""
    import statistics

    from tokkit.analysis import premiums

    s = premiums(tokenizer, pc, count_mode="sentence", bootstrap=bootstrap)
    j = {r["language"]: r for r in premiums(tokenizer, pc, count_mode="joined", bootstrap=bootstrap).rows}
    js = premiums(tokenizer, pc, count_mode="joined", bootstrap=0).summary[0]
    rows = [r for r in s.rows if not r["masked"] and r["ci_low"] is not None]
    dev = sorted(((j[r["language"]]["premium"] / r["premium"] - 1, r["language"]) for r in rows),
                 key=lambda d: -abs(d[0]))
    out = [r["language"] for r in rows if not r["ci_low"] <= j[r["language"]]["premium"] <= r["ci_high"]]
    ss = s.summary[0]
    print(f"{tokenizer} on {pc.name}: {len(rows)} languages with an interval")
    print("largest changes:", ", ".join(f"{d * 100:+.2f}% {c}" for d, c in dev[:3]))
    print(f"median |change| {statistics.median(abs(d) for d, _ in dev) * 100:.3f}%")
    print(f"median {ss['median']:.3f} -> {js['median']:.3f}, Gini {ss['gini']:.4f} -> {js['gini']:.4f}")
    print(f"joined outside the sentence CI: {len(out)} {out}")


def ci(x: dict) -> str:
    return "-" if x["ci_low"] is None else f"{x['ci_low']:.2f}-{x['ci_high']:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["table", "compare", "run", "long"])
    ap.add_argument("--corpus", default="udhr")
    ap.add_argument("tokenizer")
    ap.add_argument("-l", "--language", action="append")
    ap.add_argument("--unit", default="joined")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--whole", action="store_true", help="long: encode the text whole, without chunking")
    a = ap.parse_args()
    import tokkit
    from tokkit.analysis import premiums

    if a.what == "long":
        from tokkit.tokenizer.chunks import count_chunked

        tok = tokkit.load_tokenizer(a.tokenizer)
        pc = tokkit.load_udhr()
        one = " ".join(" ".join(pc.texts(c)) for c in pc.codes)
        text = (one + " ") * max(1, int(a.mb * 2**20 / len(one.encode())))
        base = vm_hwm_mb()
        t0, c0 = time.perf_counter(), time.process_time()
        n = tok.count(text) if a.whole else count_chunked(tok, [text])[0]
        how = "whole" if a.whole else "chunked"
        print(f"{a.tokenizer} {how}: {len(text.encode()) / 2**20:.1f} MB, {n} tokens, "
              f"{time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU, "
              f"VmHWM {vm_hwm_mb():.0f} MB ({base:.0f} MB before encoding)")
        return
    from tokkit.corpora import load_parallel

    pc = load_parallel(a.corpus)
    if a.language:
        pc = pc.select(a.language)
    if a.what == "compare":
        compare(a.tokenizer, pc, a.bootstrap)
        return
    if a.what == "table":
        rs = {u: premiums(a.tokenizer, pc, count_mode=u, bootstrap=a.bootstrap) for u in ("sentence", "joined")}
        print("| language | name | sentence | 95% CI | joined | 95% CI | joined / sentence |")
        print("|---|---|---:|---|---:|---|---:|")
        for r in sorted(rs["sentence"].rows, key=lambda r: -r["premium"]):
            j = next(x for x in rs["joined"].rows if x["language"] == r["language"])
            print(f"| {r['language']} | {r['name']} | {r['premium']:.3f} | {ci(r)} | {j['premium']:.3f} | {ci(j)} | "
                  f"{j['premium'] / r['premium']:.4f} |")
        for u, res in rs.items():
            s = res.summary[0]
            print(f"{u}: ref. tokens {s['reference_tokens']}, median {s['median']:.3f}, max {s['max']:.2f} "
                  f"({s['max_language']}), Gini {s['gini']:.4f}")
        return
    t0, c0 = time.perf_counter(), time.process_time()
    res = premiums(a.tokenizer, pc, count_mode=a.unit, bootstrap=a.bootstrap)
    s = res.summary[0]
    print(f"{a.tokenizer} {a.unit}: {s['languages']} languages, median {s['median']:.3f}, "
          f"{time.perf_counter() - t0:.2f} s wall ({res.timings['encode']:.2f} s encoding), "
          f"{time.process_time() - c0:.2f} s CPU, VmHWM {vm_hwm_mb():.0f} MB "
          f"(ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
