"""What READING a new token costs SmolLM2, with the output side exact: the lower bound of any zero-shot
initialisation of an extension's input rows.

    TOKKIT_DATA=/work/shared/corpora TOKKIT_CACHE=/tmp/cache python benchmarks/extend_reading.py \
        --size 1000 --layers 1 2 4 --pool 4000 --thresholds 0.5 1 2 4

The held-out documents (the first --eval-docs of each domain's eval side, --eval-chars each, as
benchmarks/extend.py) are encoded with the extension and scored by the chain rule over the BASE vocabulary
(`tokkit.analysis.judge.chain_rule_nll`): every new token's probability is exactly the base model's
probability of its pieces, so the only change from the base model is what the following positions read in
place of those pieces. Two parts:

1. Input rows for the --size new tokens: fvt (mean of the pieces' rows), merge (recursive halves), last
   (the last piece's row) and, per --layers L, the base model's hidden state after layer L at the token's last
   piece averaged over its occurrences in --calibration-tokens of train text (`hL`; tokens never seen keep
   fvt), as is and rescaled to the mean row norm (`hLn`).
2. Choosing merges by reading cost: on --attribution-tokens of train text, each base token's extra NLL under
   the --pool extension (fvt rows) against the base model is charged to the newest new token read before it;
   only new tokens whose charge per saved token is at most each threshold are merged on the held-out text
   (the others read as their pieces).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _domain import documents  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1000, help="new tokens for part 1")
    ap.add_argument("--layers", type=int, nargs="*", default=[1, 2, 4])
    ap.add_argument("--calibration-tokens", type=int, default=50000)
    ap.add_argument("--pool", type=int, default=4000, help="new tokens part 2 chooses from (0: skip part 2)")
    ap.add_argument("--attribution-tokens", type=int, default=30000)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 1, 2, 4],
                    help="bits of extra NLL per saved token")
    ap.add_argument("--train-sample", type=float, default=0.3)
    ap.add_argument("--eval-docs", type=int, default=6)
    ap.add_argument("--eval-chars", type=int, default=1500)
    args = ap.parse_args()

    import tempfile

    import torch

    import tokkit
    from tokkit.analysis.judge import chain_rule_nll, load_causal_lm, smollm2
    from tokkit.train.extension import new_token_parts

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    folder = smollm2()
    train = [text for _, _, text in documents("train", sample=args.train_sample)]
    held: dict[str, list[str]] = {}
    for domain, _, text in documents("eval"):
        if len(held.setdefault(domain, [])) < args.eval_docs:
            held[domain].append(text[:args.eval_chars])
    model = load_causal_lm(folder).eval()
    bos = model.config.bos_token_id
    emb = model.get_input_embeddings().weight.detach()
    shuffled = random.Random(0).sample(train, len(train))
    tmp = tempfile.mkdtemp(prefix="tokkit-reading-")

    def extension(n: int):
        t0 = time.perf_counter()
        out = os.path.join(tmp, f"x{n}")
        tok = tokkit.extend(folder, train, add=n, out=out)
        base_size, new_size, parts = new_token_parts(folder, out)
        print(f"# extend by {n}: {time.perf_counter() - t0:.1f} s", flush=True)
        return tok, base_size, new_size, parts, out

    def rows(out: str, method: str):
        """The input table tokkit.extend_model gives the extended model (new rows by `method`)."""
        model = tokkit.extend_model(load_causal_lm(folder), folder, out, method=method)
        return model.get_input_embeddings().weight.detach()

    def units(tok, base_size, pieces, text, keep=None):
        """The text as units of base ids: a new token (kept, if `keep` is given) is one unit of its pieces."""
        out = []
        for i in tok.encode(text):
            if i < base_size:
                out.append([i])
            elif keep is None or i in keep:
                out.append(pieces[i])
            else:
                out.extend([p] for p in pieces[i])
        return out

    def judge(label: str, table, tok, base_size, pieces, keep=None, base=None) -> dict:
        """Bits and tokens per byte per domain; `table` gives a new token's input row (None: base model)."""
        def embed(us):
            return torch.stack([emb[u[0]] if len(u) == 1 else table[key[tuple(u)]] for u in us])

        key = {tuple(s): i for i, s in pieces.items()}
        res = {}
        t0 = time.perf_counter()
        with torch.no_grad():
            for d, texts in held.items():
                us = [units(tok, base_size, pieces, t, keep) if table is not None else
                      [[i] for i in tok.encode(t)] for t in texts]
                nb = sum(len(t.encode("utf-8")) for t in texts)
                res[d] = (chain_rule_nll(model, us, embed, bos_id=bos) / math.log(2) / nb,
                          sum(map(len, us)) / nb)
        cells = []
        for d, (bpb, tpb) in res.items():
            if base is None:
                cells.append(f"{tpb:.4f} / {bpb:.4f}")
            else:
                cells.append(f"{tpb / base[d][1] - 1:+.1%} / {bpb / base[d][0] - 1:+.1%}")
        print(f"| {label} | " + " | ".join(cells) + f" |  ({time.perf_counter() - t0:.0f} s)", flush=True)
        return res

    base_tok = tokkit.load_tokenizer(folder)
    print("| input rows (outputs exact) | " + " | ".join(held) + " |")
    print("|---|" + "---|" * len(held))
    base = judge("base (tokens / bits per byte)", None, base_tok, 0, {})

    # part 1: input rows
    tok, base_size, new_size, parts, out = extension(args.size)
    pieces = {i: s for i, s, _ in parts}
    fvt = rows(out, "fvt")
    last = fvt.clone()
    for i, s, _ in parts:
        last[i] = emb[s[-1]]
    tables = {"fvt": fvt, "merge": rows(out, "merge"), "last": last}
    if args.layers:
        t0 = time.perf_counter()
        acc = {L: torch.zeros_like(fvt) for L in args.layers}
        seen = torch.zeros(new_size)
        read = 0
        with torch.no_grad():
            for text in shuffled:
                if read >= args.calibration_tokens:
                    break
                flat, at, which = [], [], []
                for i in tok.encode(text[:6000]):
                    flat += pieces.get(i, [i])
                    if i >= base_size and len(flat) <= 512:
                        at.append(len(flat))   # the last piece's position after BOS
                        which.append(i)
                flat = flat[:512]
                if not at:
                    continue
                hs = model(input_ids=torch.tensor([[bos] + flat]), output_hidden_states=True).hidden_states
                for L in args.layers:
                    acc[L].index_add_(0, torch.tensor(which), hs[L][0, at].float())
                seen.index_add_(0, torch.tensor(which), torch.ones(len(which)))
                read += len(flat)
        ok = seen > 0
        print(f"# hidden states: {read} base tokens of train text, {int(ok.sum())} of {len(parts)} new tokens "
              f"seen ({time.perf_counter() - t0:.0f} s)", flush=True)
        norm = emb.norm(dim=1).mean()
        for L in args.layers:
            t = fvt.clone()
            t[ok] = acc[L][ok] / seen[ok, None]
            tables[f"h{L}"] = t
            tn = t.clone()
            tn[ok] = t[ok] / t[ok].norm(dim=1, keepdim=True) * norm
            tables[f"h{L}n"] = tn
    for name, table in tables.items():
        judge(f"{args.size} new tokens, {name}", table, tok, base_size, pieces, base=base)

    if not args.pool:
        return
    # part 2: merges chosen by their reading cost on train text
    tok, base_size, new_size, parts, out = extension(args.pool)
    pieces = {i: s for i, s, _ in parts}
    fvt = rows(out, "fvt")
    key = {tuple(s): i for i, s in pieces.items()}

    def embed(us):
        return torch.stack([emb[u[0]] if len(u) == 1 else fvt[key[tuple(u)]] for u in us])

    t0 = time.perf_counter()
    charge, occurrences, read = torch.zeros(new_size), torch.zeros(new_size), 0
    with torch.no_grad():
        for text in random.Random(1).sample(train, len(train)):
            if read >= args.attribution_tokens:
                break
            ids = tok.encode(text[:6000])[:300]
            us = [pieces.get(i, [i]) for i in ids]
            extra = (chain_rule_nll(model, [us], embed, bos_id=bos, per_target=True)
                     - chain_rule_nll(model, [[[p] for u in us for p in u]], embed, bos_id=bos, per_target=True))
            k, newest = 0, -1
            for i, u in zip(ids, us):
                if newest >= 0:
                    charge[newest] += float(extra[k:k + len(u)].sum())
                if i >= base_size:
                    newest = i
                    occurrences[i] += 1
                k += len(u)
            read += k
    saved = torch.zeros(new_size)
    for i, s in pieces.items():
        saved[i] = len(s) - 1
    cost = torch.full((new_size,), math.inf)
    ok = occurrences > 0
    cost[ok] = charge[ok] / math.log(2) / (occurrences[ok] * saved[ok])
    q = torch.quantile(cost[ok], torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9])).tolist()
    print(f"# attribution: {read} base tokens of train text, {int(ok.sum())} of {len(parts)} new tokens seen "
          f"({time.perf_counter() - t0:.0f} s); bits per saved token, percentiles 10/25/50/75/90: "
          + ", ".join(f"{x:.2f}" for x in q), flush=True)
    print(f"\n| merges of {args.pool} kept (outputs exact, fvt rows) | " + " | ".join(held) + " |")
    print("|---|" + "---|" * len(held))
    for thr in args.thresholds:
        keep = {i for i in pieces if cost[i] <= thr}
        judge(f"{len(keep)} at <= {thr:g} bits per saved token", fvt, tok, base_size, pieces, keep=keep, base=base)


if __name__ == "__main__":
    main()
