"""SmolLM2-135M's tokenizer extended on the shared legal / financial / government text, judged by the model:
tokens per byte and bits per byte on held-out documents, for the base and for N new merges under each
embedding initialisation (zero-shot: no training of the model).

    TOKKIT_DATA=/work/shared/corpora TOKKIT_CACHE=/tmp/cache python benchmarks/extend.py \
        --sizes 1000 4000 16000 --methods fvt merge mean --eval-docs 8 --eval-chars 2000

The extension learns on the train side of the document split (`_domain.documents`, a `--train-sample`
share of it); the evaluation reads the first --eval-docs documents of each domain's eval side, each cut to
--eval-chars characters (the CPU is shared: keep each evaluation to tens of seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _domain import documents  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--methods", nargs="+", default=["fvt", "merge", "mean"])
    ap.add_argument("--train-sample", type=float, default=0.3)
    ap.add_argument("--eval-docs", type=int, default=8)
    ap.add_argument("--eval-chars", type=int, default=2000)
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--adapt-steps", type=int, default=0, help="also train only the new embedding rows this "
                    "many steps (the first size, fvt; Adam, 4 x 256 tokens of train text a step), judged every "
                    "half")
    ap.add_argument("--adapt-lr", type=float, default=3e-3)
    ap.add_argument("--no-base", action="store_true", help="skip judging the base model (its figures are in "
                    "benchmarks/results/extend/zero_shot.md)")
    ap.add_argument("--adapt-method", default="fvt", help="the initialisation the adaptation starts from")
    ap.add_argument("--calibration-tokens", type=int, default=20000, help="method chain: base tokens of train "
                    "text (documents shuffled with seed 0) its output biases are fitted on")
    ap.add_argument("--dynamic", action="store_true", help="instead: dynamic batch merging judged by SmolLM2 "
                    "(bits per byte against the sequence reduction) on the domain text and UDHR languages")
    ap.add_argument("--budgets", nargs="+", default=["0", "10", "50", "200", "None", "words"])
    ap.add_argument("--dynamic-sets", nargs="+", default=["domain", "udhr"])
    ap.add_argument("--languages", nargs="+", default=["eng", "deu_1996", "fra", "rus", "hin", "amh"])
    ap.add_argument("--extend-languages", nargs="+", default=None, help="instead: extend for each of these "
                    "NTREX languages (train side of `parallel_split`) by the first --sizes, and report token "
                    "premiums (tokkit.premiums) and bits per byte on the held-out units")
    args = ap.parse_args()
    if args.dynamic:
        return dynamic(args)
    if args.extend_languages:
        return languages(args)

    import torch

    import tokkit
    from tokkit.analysis.judge import bits_per_byte, load_causal_lm, smollm2

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    t = time.perf_counter()
    folder = smollm2()
    print(f"# SmolLM2 folder {folder} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    train = [text for _, _, text in documents("train", sample=args.train_sample)]
    held: dict[str, list[str]] = {}
    for domain, _, text in documents("eval"):
        if len(held.setdefault(domain, [])) < args.eval_docs:
            held[domain].append(text[:args.eval_chars])
    print(f"# read {len(train)} train documents ({sum(map(len, train)) / 1e6:.1f} M chars), eval "
          + ", ".join(f"{d}: {len(v)} docs" for d, v in held.items()) + f" ({time.perf_counter() - t:.1f} s)")

    rows = []
    import random

    shuffled = random.Random(0).sample(train, len(train))

    def calib(method: str) -> dict:
        return dict(calibration=shuffled, calibration_tokens=args.calibration_tokens) if method == "chain" else {}

    def judge(label: str, model, tok) -> None:
        for domain, texts in held.items():
            t0 = time.perf_counter()
            j = bits_per_byte(model, tok, texts, window=args.window)
            rows.append((label, domain, j.tokens_per_byte, j.bits_per_byte, time.perf_counter() - t0))
            print(f"{label:>14} {domain:>10}  tokens/byte {j.tokens_per_byte:.4f}  bits/byte {j.bits_per_byte:.4f}"
                  f"  ({rows[-1][-1]:.1f} s)", flush=True)

    base_tok = tokkit.load_tokenizer(folder)
    if not args.no_base:
        judge("base", load_causal_lm(folder), base_tok)
    with tempfile.TemporaryDirectory(prefix="tokkit-extend-bench-") as tmp:
        for n in args.sizes:
            t0 = time.perf_counter()
            out = os.path.join(tmp, f"x{n}")
            tok = tokkit.extend(folder, train, add=n, out=out)
            print(f"# extend by {n}: {time.perf_counter() - t0:.1f} s ({tok.card['timings']})", flush=True)
            for method in args.methods:
                t0 = time.perf_counter()
                model = tokkit.extend_model(load_causal_lm(folder), folder, out, method=method, **calib(method))
                print(f"# extend_model {method}: {time.perf_counter() - t0:.1f} s", flush=True)
                judge(f"{n}/{method}", model, tok)

        if args.adapt_steps:
            n = args.sizes[0]
            out = os.path.join(tmp, f"x{n}")
            tok = tokkit.load_tokenizer(out)
            m = args.adapt_method
            model = tokkit.extend_model(load_causal_lm(folder), folder, out, method=m, **calib(m))
            adapt(model, tok, train, base_tok.vocab_size, args, lambda step: judge(f"{n}/{m}+{step}", model, tok))

    base = {d: (tpb, bpb) for label, d, tpb, bpb, _ in rows if label == "base"}
    if not base:
        return
    print("\n| tokenizer / init | domain | tokens/byte | vs base | bits/byte | vs base |")
    print("|---|---|---|---|---|---|")
    for label, d, tpb, bpb, _ in rows:
        print(f"| {label} | {d} | {tpb:.4f} | {tpb / base[d][0] - 1:+.1%} | {bpb:.4f} | {bpb / base[d][1] - 1:+.1%} |")


def adapt(model, tok, train, base_size: int, args, judge) -> None:
    """Embeddings-only adaptation: only the new rows of the (tied or untied) tables learn."""
    import random

    import torch

    rng = random.Random(0)
    params = [p for p in {id(m.weight): m.weight for m in (model.get_input_embeddings(),
                                                            model.get_output_embeddings())}.values()]
    if getattr(model.get_output_embeddings(), "bias", None) is not None:  # the chain init's output biases
        params.append(model.get_output_embeddings().bias)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
        p.register_hook(lambda g: torch.cat([torch.zeros_like(g[:base_size]), g[base_size:]]))
    opt = torch.optim.Adam(params, lr=args.adapt_lr)
    bos = model.config.bos_token_id
    model.train()
    t0 = time.perf_counter()
    for step in range(1, args.adapt_steps + 1):
        batch = []
        while len(batch) < 4:
            doc = rng.choice(train)
            at = rng.randrange(max(1, len(doc) - 3000))
            ids = tok.encode(doc[at:at + 3000])[:255]
            if len(ids) == 255:
                batch.append([bos] + ids)
        x = torch.tensor(batch)
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        if step % max(1, args.adapt_steps // 2) == 0 or step == args.adapt_steps:
            model.eval()
            print(f"# adapt step {step}: train loss {loss.item():.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
            judge(step)
            model.train()
    model.eval()


def languages(args) -> None:
    """High-premium languages: SmolLM2 extended on NTREX training units, judged on held-out units."""
    import torch

    import tokkit
    from tokkit.analysis.judge import bits_per_byte, load_causal_lm, smollm2
    from tokkit.corpora import load_parallel
    from tokkit.corpora.parallel import parallel_split

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    folder = smollm2()
    corpus = load_parallel("ntrex")
    langs = ["eng"] + args.extend_languages
    train, dev, _ = parallel_split(corpus, langs)
    units = corpus.common_units(*langs)
    dev_units = units[len(units) - len(dev["eng"]):]
    held = corpus.select(langs, unit_ids=dev_units)
    base_tok = tokkit.load_tokenizer(folder, name="smollm2")
    base_model = load_causal_lm(folder)
    n = args.sizes[0]
    print("| language | tokenizer | token premium vs eng (held-out) | tokens/byte | bits/byte | seconds |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="tokkit-extend-lang-") as tmp:
        for code in args.extend_languages:
            t0 = time.perf_counter()
            out = os.path.join(tmp, f"{code}{n}")
            tok = tokkit.extend(folder, train[code], add=n, out=out)
            tok.name = f"smollm2+{code}{n}"
            t_ext = time.perf_counter() - t0
            res = tokkit.premiums([base_tok, tok], held, reference="eng", languages=[code], bootstrap=0)
            prem = {(r["tokenizer"], r["language"]): r["premium"] for r in res.rows}
            texts = ["\n".join(dev[code][k:k + 8]) for k in range(0, min(len(dev[code]), 48), 8)]
            for label, t, model in (("base", base_tok, base_model), (tok.name + " fvt", tok, tokkit.extend_model(
                    load_causal_lm(folder), folder, out, method="fvt"))):
                t1 = time.perf_counter()
                j = bits_per_byte(model, t, texts, window=args.window)
                key = (t.name, code)
                print(f"| {code} | {label} | {prem.get(key, float('nan')):.3f} | {j.tokens_per_byte:.4f} | "
                      f"{j.bits_per_byte:.4f} | extend {t_ext:.1f}, judge {time.perf_counter() - t1:.0f} |",
                      flush=True)


def dynamic(args) -> None:
    """SmolLM2 fed FVT-pooled merged batches (`tokkit.analysis.judge.merge_bits_per_byte`)."""
    import torch

    import tokkit
    from tokkit.analysis.judge import load_causal_lm, merge_bits_per_byte, smollm2

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    budgets = [None if b == "None" else b if b == "words" else int(b) for b in args.budgets]
    folder = smollm2()
    model, tok = load_causal_lm(folder), tokkit.load_tokenizer(folder)
    sets: dict[str, list[str]] = {}

    def fit(text: str) -> str:
        # a text must fit one window: shorten by characters until it does
        while tok.count(text) > args.window - 8:
            text = text[:int(len(text) * 0.8)]
        return text

    if "domain" in args.dynamic_sets:
        for domain, _, text in documents("eval"):
            if len(sets.setdefault(domain, [])) < args.eval_docs:
                sets[domain].append(fit(text[:args.eval_chars]))
    if "udhr" in args.dynamic_sets:
        udhr = tokkit.load_udhr(languages=args.languages)
        for code in args.languages:
            units = udhr.texts(code)
            sets[f"udhr:{code}"] = [fit("\n".join(units[k:k + 4])[:args.eval_chars])
                                    for k in range(0, 4 * args.eval_docs, 4)]
    print("| text | budget | tokens after / before | tokens/byte | bits/byte | vs budget 0 | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, texts in sets.items():
        t0 = time.perf_counter()
        rows = merge_bits_per_byte(model, tok, texts, budgets, batch_size=args.eval_docs, window=args.window)
        dt = time.perf_counter() - t0
        for r in rows:
            print(f"| {name} | {r['budget']} | {r['ratio']:.3f} | {r['tokens_per_byte']:.4f} | "
                  f"{r['bits_per_byte']:.4f} | {r['bits_per_byte'] / rows[0]['bits_per_byte'] - 1:+.1%} | "
                  f"{dt:.0f} |", flush=True)


if __name__ == "__main__":
    main()
