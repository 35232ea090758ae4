"""`train_bpe` on the shared domain corpora, one checkout against another (or one engine against another),
alternating in the same run: wall and CPU seconds, peak memory, and whether the merges are identical.

Each run is a subprocess that imports tokkit from the checkout named for it and trains the domain benchmark's
tokenizer (the train side of legal + financial + government, bills by bill; benchmarks/legal_terms.txt as
domain terms; min_frequency 2) at one size. The numba kernels are warmed before the clock starts.

    git worktree add /tmp/tokkit-old <commit>                              # the code before a change
    python benchmarks/domain_engine_speedup.py --run old=/tmp/tokkit-old --run new=. --repeat 2
    python benchmarks/domain_engine_speedup.py --run hf=.:hf --run native=.:native --sample 0.3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import _domain
import tokkit
from tokkit.train import train_bpe
assert tokkit.__file__.startswith({checkout!r}), tokkit.__file__
kw = {{}} if {engine!r} == "default" else {{"engine": {engine!r}}}
terms = [t.strip("\n") for t in open({terms!r}, encoding="utf-8") if t.strip()]
texts = [t for _, _, t in _domain.documents("train", sample={sample!r})]
try:  # compile (or load) the kernels outside the clock
    from tokkit.kernels.aot import kernel
    kernel("bpe_train")
except Exception:
    pass
t0, c0 = time.perf_counter(), time.process_time()
train_bpe(texts, {out!r}, vocab_size={vocab}, terms=terms, min_frequency=2, quiet=True, **kw)
print(json.dumps(dict(wall=time.perf_counter() - t0, cpu=time.process_time() - c0,
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      characters=sum(len(t) for t in texts))))
"""


def run_once(label: str, checkout: str, engine: str, args, out: str) -> dict:
    code = CHILD.format(bench=str(HERE), checkout=os.path.abspath(checkout), engine=engine, terms=args.terms,
                        sample=args.sample, out=out, vocab=args.vocab)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    # run from the checkout: `python -c` puts the working directory first on sys.path
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       cwd=os.path.abspath(checkout))
    if p.returncode:
        raise SystemExit(f"{label}: failed\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def merges(path: str) -> list:
    return json.loads(Path(path, "tokenizer.json").read_text(encoding="utf-8"))["model"]["merges"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=CHECKOUT[:ENGINE]",
                    help="A checkout (and engine: native or hf; default: the checkout's default). Repeatable.")
    ap.add_argument("--vocab", type=int, default=32768)
    ap.add_argument("--sample", type=float, default=None, help="Train on this fraction of the documents.")
    ap.add_argument("--terms", default=str(HERE / "legal_terms.txt"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    runs = []
    for spec in args.run:
        label, _, rest = spec.partition("=")
        checkout, _, engine = rest.partition(":")
        runs.append((label, checkout, engine or "default"))
    work = tempfile.mkdtemp(prefix="tokkit-engine-speedup-")
    results = {label: [] for label, _, _ in runs}
    for r in range(args.repeat):
        for label, checkout, engine in runs:  # alternating: a load change hits every run alike
            res = run_once(label, checkout, engine, args, os.path.join(work, label))
            results[label].append(res)
            print(f"repeat {r + 1} {label}: {res['wall']:.1f} s wall, {res['cpu']:.1f} s CPU, "
                  f"{res['peak_mb']:.0f} MB", flush=True)
    first = runs[0][0]
    summary = {}
    for label, _, _ in runs:
        w = statistics.median(x["wall"] for x in results[label])
        c = statistics.median(x["cpu"] for x in results[label])
        summary[label] = dict(wall_s=w, cpu_s=c, peak_mb=max(x["peak_mb"] for x in results[label]),
                              identical_merges_to_first=merges(os.path.join(work, label)) ==
                              merges(os.path.join(work, first)))
    chars = results[first][0]["characters"]
    print(f"\n{chars:,} training characters, V={args.vocab}, median of {args.repeat}")
    print(f"{'run':12}{'wall s':>10}{'CPU s':>10}{'peak MB':>10}{'wall vs ' + first:>16}{'CPU vs ' + first:>15}"
          f"{'same merges':>13}")
    for label, s in summary.items():
        print(f"{label:12}{s['wall_s']:10.1f}{s['cpu_s']:10.1f}{s['peak_mb']:10.0f}"
              f"{s['wall_s'] / summary[first]['wall_s']:16.3f}{s['cpu_s'] / summary[first]['cpu_s']:15.3f}"
              f"{str(s['identical_merges_to_first']):>13}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(summary=summary, runs=results, characters=chars), indent=2))


if __name__ == "__main__":
    main()
