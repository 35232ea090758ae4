"""Benchmark: tokkit's native BPE trainer vs HF tokenizers vs SentencePiece BPE vs bpeasy.

Every engine trains in its own subprocess on the same text file, one document per line, and reports its
own peak RSS; wall time and the subprocess's CPU time (all threads) are measured around it (interpreter
start and imports included, i.e. end to end). The engines alternate (tokkit, hf, sentencepiece, tokkit, ...)
so that other processes' load hits all alike; CPU time is the figure to compare on a busy machine, and the
load average before and after is printed. tokkit also reports its count and merge phases (CPU seconds).
tokkit is run once cold (empty numba cache: compile included) and then warm; tokkit-hfu is
the same trainer with unicode="hf" (characters classed as HF's regex engine classes them).

    python benchmarks/train_bpe.py                                 # all inputs, V = 32768 and 131072
    python benchmarks/train_bpe.py --inputs a --vocab 32768 --max-mb 10 --repeat 1   # a quick run
    python benchmarks/train_bpe.py --recipe --max-mb 40 --vocab 32768 --repeat 2     # train_bpe: native vs hf
    python benchmarks/train_bpe.py --inputs c,a --vocab 8192,32768 --engines tokkit,sentencepiece,hf --repeat 3
    python benchmarks/train_bpe.py --inputs c --vocab 8192 --engines tokkit,hf --baseline /tmp/old --cold none

--baseline DIR adds engine tokkit-base: the same trainer from another checkout of tokkit (before/after a
change, alternating in the same run).

--recipe times the `train_bpe` recipe itself (NFC, GPT-2 split, 13 special tokens, min_frequency 2) on the
shared domain corpora (legal, financial, government; read with max_bytes), with engine="native" and
engine="hf" alternating in one run, each in its own process; the time is the card's (reading the corpus,
normalizing, counting, merging, assembling; kernel loading excluded), and the merges are compared.

Inputs: (a) 50 MB of Python source (every .py file under 1 MB in this interpreter's site-packages, sorted
by path, concatenated, first 50,000,000 bytes), (b) the legal + financial shared domain corpora,
(c) UDHR, all languages. Needs TOKKIT_DATA (or ../shared/corpora) for (b) and (c).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TOKKIT = """
from tokkit.train.native import train_native
tok = train_native(files=[PATH], per_line=True, vocab_size=V, quiet=True, unicode="{unicode}", allow_smaller=True)
tok.save(OUT + "/tokenizer.json")
from tokkit.kernels import aot
EXTRA["kernels"] = "aot" if aot.status()["loaded"] else "jit"
import tokkit
EXTRA["checkout"] = os.path.dirname(os.path.dirname(tokkit.__file__))
EXTRA["numba_loaded"] = "numba" in sys.modules
EXTRA["timings"] = dict(tok.card["timings"])
"""

ENGINE_CODE = {
    "tokkit": TOKKIT.format(unicode="regex"),
    # the same trainer classing characters as HF's Oniguruma does: HF's exact merges on text holding
    # characters newer than HF's Unicode tables (the Python source of input a)
    "tokkit-hfu": TOKKIT.format(unicode="hf"),
    # the same engine from another checkout (--baseline): before/after a change, alternating in one run
    "tokkit-base": TOKKIT.format(unicode="regex"),
    "hf": """
from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tr = trainers.BpeTrainer(vocab_size=V, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train([PATH], tr)
tok.save(OUT + "/tokenizer.json")
""",
    "sentencepiece": """
import sentencepiece as spm
spm.SentencePieceTrainer.train(input=PATH, model_prefix=OUT + "/spm", model_type="bpe", vocab_size=V,
    character_coverage=1.0, byte_fallback=True, normalization_rule_name="identity",
    remove_extra_whitespaces=False, max_sentence_length=1 << 20, input_sentence_size=0,
    num_threads=os.cpu_count(), minloglevel=2)
""",
    "bpeasy": """
import bpeasy
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
def lines():
    with open(PATH, encoding="utf-8") as fh:
        yield from fh
vocab = bpeasy.train_bpe(lines(), GPT2, 128, V)
""",
}

# peak memory: VmHWM of the engine's own process (ru_maxrss would start from the parent's size at fork)
RUNNER = """
import os, sys, json
PATH, V, OUT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
EXTRA = {{}}
{code}
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print("RESULT " + json.dumps(dict(maxrss_kb=int(hwm), **EXTRA)))
"""


def data_root() -> Path | None:
    env = os.environ.get("TOKKIT_DATA")
    candidates = [ROOT.parent / "shared" / "corpora", Path.cwd().parent / "shared" / "corpora"]
    for p in ([Path(env)] if env else []) + candidates:
        if p.is_dir():
            return p
    return None


def make_input(name: str, cache: Path, max_mb: float | None) -> Path:
    limit = int(max_mb * 1e6) if max_mb else None
    path = cache / f"input-{name}{'-' + str(limit) if limit else ''}.txt"
    if path.exists():
        return path
    if name == "a":
        site = Path(sysconfig.get_paths()["purelib"])
        files = sorted(p for p in site.rglob("*.py") if p.is_file() and p.stat().st_size < 1_000_000)
        out, size, cap = [], 0, min(limit or 50_000_000, 50_000_000)
        for p in files:
            data = p.read_bytes()
            out.append(data)
            size += len(data)
            if size >= cap:
                break
        text = b"".join(out)[:cap].decode("utf-8", "replace")
    else:
        root = data_root()
        if root is None:
            raise SystemExit(f"input ({name}) needs the shared corpora: set TOKKIT_DATA")
        lines = []
        if name == "b":
            for sub in ("legal", "financial"):
                for f in sorted((root / "domain" / sub).glob("*.jsonl.gz")):
                    with gzip.open(f, "rt", encoding="utf-8") as fh:
                        lines += [json.loads(line)["text"] for line in fh]
        else:
            sys.path.insert(0, str(ROOT))
            from tokkit.corpora import load_udhr

            u = load_udhr(root / "udhr")
            lines = [t.replace("\n", " ") for code in sorted(u.codes) for t in u.texts(code)]
        text = "\n".join(lines) + "\n"
        if limit:
            text = text.encode("utf-8")[:limit].decode("utf-8", "ignore")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_engine(engine: str, path: Path, vocab: int, env: dict, cwd: Path = ROOT) -> dict:
    """One training in its own process: wall seconds and the process's CPU seconds (all its threads;
    interpreter start and imports included), its peak RSS and what it reports."""
    out = tempfile.mkdtemp(prefix=f"bench-{engine}-")
    code = RUNNER.format(code=ENGINE_CODE[engine])
    t0, c0 = time.perf_counter(), _children_cpu()
    # cwd: `python -c` imports from its working folder first, so a checkout's engine runs from that checkout
    proc = subprocess.run([sys.executable, "-c", code, str(path), str(vocab), out], capture_output=True,
                          text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    res = dict(engine=engine, wall_s=wall, cpu_s=_children_cpu() - c0, out=out, ok=proc.returncode == 0)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res.update(json.loads(line[7:]))
    if proc.returncode != 0:
        res["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
    return res


def same_model(a: str, b: str) -> bool | None:
    try:
        ma = json.loads(Path(a, "tokenizer.json").read_text())["model"]
        mb = json.loads(Path(b, "tokenizer.json").read_text())["model"]
    except OSError:
        return None
    return ma["vocab"] == mb["vocab"] and ma["merges"] == mb["merges"]


RECIPE = """
import json, sys, time
from tokkit.train import train_bpe
engine, V, max_bytes, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tok = train_bpe(DOMAIN, out, vocab_size=V, engine=engine, max_bytes=max_bytes)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print("RESULT " + json.dumps(dict(timings=tok.card["timings"], corpus=tok.card["corpus"], maxrss_kb=int(hwm))))
"""


def recipe_benchmark(args) -> list[dict]:
    """train_bpe on the domain corpora, engine native vs hf, alternating, `repeat` runs each."""
    root = data_root()
    if root is None:
        raise SystemExit("--recipe needs the shared corpora: set TOKKIT_DATA")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    max_bytes = int((args.max_mb or 40) * 1e6)
    domain = [str(p) for sub in ("legal", "financial", "government")
              for p in sorted((root / "domain" / sub).glob("*.jsonl.gz"))]
    code = f"DOMAIN = {domain!r}\n" + RECIPE
    # compile or load the kernels once, outside the measured runs
    subprocess.run([sys.executable, "-c", "from tokkit.train.native import prepare_kernels; prepare_kernels()"],
                   env=env, check=True)
    rows = []
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; train_bpe on {len(domain)} domain "
          f"files, max_bytes={max_bytes:,}", flush=True)
    for vocab in [int(v) for v in args.vocab.split(",")]:
        outs = {}
        for rep in range(args.repeat):
            for engine in ("native", "hf"):
                out = tempfile.mkdtemp(prefix=f"bench-recipe-{engine}-")
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-c", code, engine, str(vocab), str(max_bytes), out],
                                      capture_output=True, text=True, env=env)
                wall = time.perf_counter() - t0
                if proc.returncode != 0:
                    raise SystemExit(f"{engine}: {proc.stderr.strip().splitlines()[-1]}")
                res = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][0][7:])
                row = dict(vocab=vocab, engine=engine, run=rep + 1, train_s=res["timings"]["total"],
                           process_s=round(wall, 2), maxrss_mb=round(res["maxrss_kb"] / 1024),
                           mb=round(res["corpus"]["bytes"] / 1e6, 1))
                rows.append(row)
                outs.setdefault(engine, out)
                print(f"  V={vocab:,} {engine:6s} run {rep + 1}: {row['train_s']:7.2f} s in train_bpe "
                      f"({row['process_s']:.2f} s process), {row['maxrss_mb']} MB peak, {row['mb']} MB text",
                      flush=True)
        med = {e: statistics.median(r["train_s"] for r in rows if r["engine"] == e and r["vocab"] == vocab)
               for e in ("native", "hf")}
        same = same_model(outs["native"], outs["hf"])
        print(f"  V={vocab:,}: median native {med['native']:.2f} s, hf {med['hf']:.2f} s, hf / native = "
              f"x{med['hf'] / med['native']:.2f}; vocab + merges identical: {same}", flush=True)
        rows.append(dict(vocab=vocab, median_native_s=med["native"], median_hf_s=med["hf"],
                         hf_over_native=round(med["hf"] / med["native"], 2), identical=same))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", default="a,b,c", help="comma list of a (Python source), b (legal+financial), c (UDHR)")
    ap.add_argument("--vocab", default="32768,131072", help="comma list of vocabulary sizes")
    ap.add_argument("--engines", default="tokkit,tokkit-hfu,hf,sentencepiece,bpeasy")
    ap.add_argument("--max-mb", type=float, default=None, help="cut each input to this many MB (quick runs)")
    ap.add_argument("--repeat", type=int, default=3, help="warm runs per engine (the median is reported)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "tokkit-bench"))
    ap.add_argument("--cold", choices=["first", "each", "none"], default="first",
                    help="run tokkit cold (compile included) for the first input and size only, for each, or never")
    ap.add_argument("--json", default=None, help="also write all measurements to this file")
    ap.add_argument("--baseline", default=None, help="a checkout of tokkit (e.g. `git worktree add /tmp/old "
                    "main`) whose trainer runs as engine tokkit-base, for before/after figures in one run")
    ap.add_argument("--recipe", action="store_true", help="time train_bpe (engine native vs hf) on the domain "
                    "corpora instead of the engines on raw files")
    args = ap.parse_args(argv)
    if args.recipe:
        return recipe_benchmark(args)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    engines = args.engines.split(",")
    envs = {e: env for e in engines}
    roots = {e: ROOT for e in engines}
    if args.baseline:
        roots["tokkit-base"] = Path(args.baseline).resolve()
        envs["tokkit-base"] = dict(os.environ, PYTHONPATH=str(roots["tokkit-base"]))
        engines.insert(engines.index("tokkit") + 1 if "tokkit" in engines else 0, "tokkit-base")
    for e in ("tokkit", "tokkit-hfu", "tokkit-base"):
        if e in engines:  # build or load the kernels outside the measured runs
            subprocess.run([sys.executable, "-c", "from tokkit.train.native import prepare_kernels; "
                            "prepare_kernels()"], env=envs[e], cwd=roots[e], check=True)
    rows = []
    cold_done = False
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}", flush=True)
    for name in args.inputs.split(","):
        path = make_input(name, cache, args.max_mb)
        mb = path.stat().st_size / 1e6
        for vocab in [int(v) for v in args.vocab.split(",")]:
            print(f"\n== input ({name}) {path.name}: {mb:.1f} MB, V={vocab:,}", flush=True)
            results = {}
            if "tokkit" in engines and args.cold != "none" and (args.cold == "each" or not cold_done):
                # cold: empty numba cache and empty tokkit cache (ahead-of-time kernels, Unicode tables); the
                # compile cost does not depend on the input, so by default only the first run pays it
                cold_done = True
                cold_env = dict(env, NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="numba-cold-"),
                                TOKKIT_CACHE=tempfile.mkdtemp(prefix="tokkit-cold-"))
                cold = run_engine("tokkit", path, vocab, cold_env)
                print(f"  tokkit cold (compile included): {cold['wall_s']:.2f} s", flush=True)
                rows.append(dict(input=name, vocab=vocab, engine="tokkit-cold", wall_s=cold["wall_s"],
                                 maxrss_mb=cold.get("maxrss_kb", 0) / 1024))
                run_engine("tokkit", path, vocab, env)  # make sure the ordinary cache is filled
            # alternating (tokkit, hf, sentencepiece, tokkit, ...) so that other processes' load hits all alike
            runs = {e: [] for e in engines}
            load0 = os.getloadavg()[0]
            for _ in range(args.repeat):
                for engine in engines:
                    runs[engine].append(run_engine(engine, path, vocab, envs[engine], roots[engine]))
            print(f"  load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after", flush=True)
            for engine in engines:
                ok = [r for r in runs[engine] if r["ok"]]
                if not ok:
                    print(f"  {engine}: failed: {runs[engine][0].get('error')}", flush=True)
                    continue
                med = statistics.median
                res = dict(engine=engine, wall_s=med(r["wall_s"] for r in ok), cpu_s=med(r["cpu_s"] for r in ok),
                           all_s=[round(r["wall_s"], 2) for r in ok], all_cpu_s=[round(r["cpu_s"], 2) for r in ok],
                           maxrss_mb=max(r.get("maxrss_kb", 0) for r in ok) / 1024, out=ok[-1]["out"])
                results[engine] = res
                res["kernels"] = ok[-1].get("kernels")
                if ok[-1].get("checkout") and Path(ok[-1]["checkout"]).resolve() != roots[engine]:
                    raise SystemExit(f"{engine} ran the tokkit of {ok[-1]['checkout']}, not {roots[engine]}")
                phases = ""
                if ok[-1].get("timings", {}).get("count_cpu_s") is not None:
                    res["count_cpu_s"] = med(r["timings"]["count_cpu_s"] for r in ok)
                    res["merge_cpu_s"] = med(r["timings"]["merge_cpu_s"] for r in ok)
                    phases = f"  (CPU: count {res['count_cpu_s']:.2f} s, merge {res['merge_cpu_s']:.2f} s)"
                print(f"  {engine:14s} CPU {res['cpu_s']:7.2f} s  wall {res['wall_s']:7.2f} s  "
                      f"{res['maxrss_mb']:7.0f} MB  CPU runs {res['all_cpu_s']}" + phases
                      + (f"  kernels: {res['kernels']}" if res["kernels"] else ""), flush=True)
            same = {e: same_model(results[e]["out"], results["hf"]["out"]) if e in results and "hf" in results
                    else None for e in ("tokkit", "tokkit-hfu", "tokkit-base")}
            for e, v in same.items():
                if v is not None:
                    print(f"  {e} vocab+merges identical to HF: {v}")
            base = results.get("tokkit")
            for engine, r in results.items():
                row = dict(input=name, mb=round(mb, 1), vocab=vocab, engine=engine, wall_s=round(r["wall_s"], 3),
                           cpu_s=round(r["cpu_s"], 3), maxrss_mb=round(r["maxrss_mb"], 1), runs=r["all_s"],
                           cpu_runs=r["all_cpu_s"])
                for k in ("count_cpu_s", "merge_cpu_s"):
                    if k in r:
                        row[k] = r[k]
                if base and engine != "tokkit":
                    row["time_vs_tokkit"] = round(r["wall_s"] / base["wall_s"], 2)
                    row["cpu_vs_tokkit"] = round(r["cpu_s"] / base["cpu_s"], 2)
                    row["mem_vs_tokkit"] = round(r["maxrss_mb"] / max(base["maxrss_mb"], 1e-9), 2)
                    print(f"  {engine} / tokkit: CPU x{row['cpu_vs_tokkit']}, wall x{row['time_vs_tokkit']}, "
                          f"peak memory x{row['mem_vs_tokkit']}")
                if engine in same:
                    row["identical_to_hf"] = same[engine]
                if engine == "tokkit":
                    row["kernels"] = r.get("kernels")
                rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
