"""A real (small) MrT5 run on this CPU: a byte-level T5 built from a config (no downloaded weights),
pre-trained with span corruption on UDHR bytes in many scripts, then continued with a delete gate
(tokkit.dynamic.insert_delete_gate) at several target deletion rates.

Reports per target: held-out span-corruption loss (hard deletion, as at inference), the achieved deletion
rate overall and per script, and encoder time per batch at inference with hard deletion vs the same-size
encoder without a gate.

    PYTHONPATH=. python benchmarks/mrt5_gate_run.py                # the full run (~20 min on 2 free cores)
    PYTHONPATH=. python benchmarks/mrt5_gate_run.py --smoke        # seconds: tiny model, a few steps

Writes benchmarks/results/mrt5_gate_run.{json,md} (or --out; --smoke writes to a scratch folder).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import numpy as np

# one language (or two) per script; absent codes are skipped
LANGUAGES = ["eng", "fra", "deu", "spa", "vie", "tur", "rus", "ukr", "arb", "pes_1", "hin", "cmn_hans", "jpn",
             "kor", "ell_monotonic", "heb", "amh", "tha", "kat", "hye", "mya", "tam", "ben"]
PAD, EOS, UNK, N_SPECIAL = 0, 1, 2, 3
N_SENTINELS = 64


@dataclass
class Config:
    d_model: int = 128
    d_ff: int = 256
    heads: int = 4
    enc_layers: int = 6
    dec_layers: int = 1
    gate_layer: int = 2                 # MrT5's delete_gate_layer: gate in front of block 2, 4 of 6 see fewer tokens
    seq_len: int = 96                   # input bytes per example
    batch: int = 16
    pre_steps: int = 300
    gate_steps: int = 300
    lr: float = 2e-3
    gate_phase_lr: float = 5e-4         # continued training with the gate: the model's lr
    gate_lr: float = 1.5e-4                # the rate moves ~lr-fast under Adam: small steps, small overshoot
    gate_betas: tuple = (0.5, 0.99)     # little momentum on the gate: less lag in the rate loop
    noise_density: float = 0.15
    mean_span: float = 8.0              # bytes (ByT5 uses 20 for long inputs)
    targets: list = field(default_factory=lambda: [0.0, 0.3, 0.5, 0.7])
    kp: float = 0.5
    per_sequence: float = 0.0           # >0: per-sequence rate term (DeleteGate.penalty), not MrT5
    norm: str = "rms"                   # the gate's defaults are MrT5's (DeleteGate); tokkit's earlier gate was
    init: str = "mrt5"                  # norm="layer", init="keep_all", keep_hard_bias=True,
    keep_hard_bias: bool = False        # on_all_deleted="keep_best"
    on_all_deleted: str = "raise"
    gumbel_noise: bool = False          # MrT5's use_gumbel_noise
    regularizer_delay: int = 0          # MrT5's regularizer_delay (gate steps without the regulariser)
    alpha_min: float = -1.0             # two-sided: MrT5 clamps at 0 (see the note)
    ki: float = 2e-3                    # MrT5 uses ~1e-5 over many thousands of steps; this run has hundreds
    eval_batches: int = 2
    time_batch: int = 32
    time_seq_len: int = 384             # timing inputs: longer than training windows, where compute dominates
    time_repeats: int = 10
    seed: int = 0
    threads: int = 1                    # 1: steadier on a shared machine; 0: torch default
    languages: list = field(default_factory=lambda: list(LANGUAGES))


SMOKE = dict(d_model=32, d_ff=64, heads=2, enc_layers=3, dec_layers=1, gate_layer=1, seq_len=48, batch=4,
             time_seq_len=64,
             pre_steps=3, gate_steps=3, eval_batches=1, time_batch=4, time_repeats=1, targets=[0.0, 0.5],
             languages=["eng", "rus", "cmn_hans", "hin"])


# ----------------------------------------------------------------------------------------------- data

def load_texts(udhr_dir, languages, seed):
    from tokkit.corpora import load_udhr

    corpus = load_udhr(udhr_dir)
    langs = [c for c in languages if c in corpus]
    train, held, script = {}, {}, {}
    for code in langs:
        # document-level split by article: every 6th article is held out
        tr, he = [], []
        for u in corpus.unit_ids:
            t = corpus.units[code].get(u)
            if t:
                (he if u.isdigit() and int(u) % 6 == 5 else tr).append(t)
        train[code] = "\n".join(tr).encode("utf-8")
        held[code] = "\n".join(he).encode("utf-8")
        script[code] = corpus.languages[code].script
    return train, held, script


def sample_chunk(data: bytes, n: int, rng: random.Random) -> np.ndarray:
    if len(data) <= n:
        b = data
    else:
        start = rng.randrange(0, len(data) - n)
        b = data[start:start + n]
    return np.frombuffer(b, dtype=np.uint8).astype(np.int64) + N_SPECIAL


def span_corrupt(ids: np.ndarray, density: float, mean_span: float, rng: random.Random, vocab: int):
    """T5 span corruption on a byte sequence: noise spans become one sentinel each in the input; the target
    is each sentinel followed by its span's bytes, then EOS."""
    n = len(ids)
    n_noise = max(1, min(n - 1, round(n * density)))
    n_spans = max(1, min(N_SENTINELS, round(n_noise / mean_span)))
    # random segmentations of the noise and non-noise lengths into n_spans pieces each
    def parts(total, k):
        cuts = sorted(rng.sample(range(1, total), k - 1)) if k > 1 and total > k else []
        bounds = [0] + cuts + [total]
        return [bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)]
    noise = parts(n_noise, n_spans)
    keep = parts(n - n_noise, len(noise))
    inp, tgt, pos = [], [], 0
    for s, (k, z) in enumerate(zip(keep, noise)):
        sentinel = vocab - 1 - s
        inp.extend(ids[pos:pos + k])
        pos += k
        inp.append(sentinel)
        tgt.append(sentinel)
        tgt.extend(ids[pos:pos + z])
        pos += z
    inp.extend(ids[pos:])
    inp.append(EOS)
    tgt.append(EOS)
    return inp, tgt


def pad_batch(seqs, value):
    import torch

    L = max(len(s) for s in seqs)
    out = torch.full((len(seqs), L), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


def make_batch(texts, codes, cfg, rng, vocab, corrupt=True):

    inps, tgts, langs = [], [], []
    for _ in range(cfg.batch if corrupt else cfg.time_batch):
        code = rng.choice(codes)
        # timing batches are ragged (lengths T/2..T, padded), as real batches are
        n = cfg.seq_len if corrupt else rng.randint(cfg.time_seq_len // 2, cfg.time_seq_len)
        ids = sample_chunk(texts[code], n, rng)
        if corrupt:
            i, t = span_corrupt(ids, cfg.noise_density, cfg.mean_span, rng, vocab)
        else:
            i, t = list(ids) + [EOS], [EOS]
        inps.append(i)
        tgts.append(t)
        langs.append(code)
    x = pad_batch(inps, PAD)
    y = pad_batch(tgts, -100)
    return x, (x != PAD).long(), y, langs


# ---------------------------------------------------------------------------------------------- model

def build_model(cfg, vocab):
    from transformers import T5Config, T5ForConditionalGeneration

    c = T5Config(vocab_size=vocab, d_model=cfg.d_model, d_kv=cfg.d_model // cfg.heads, d_ff=cfg.d_ff,
                 num_layers=cfg.enc_layers, num_decoder_layers=cfg.dec_layers, num_heads=cfg.heads,
                 dropout_rate=0.0, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                 decoder_start_token_id=PAD, pad_token_id=PAD, eos_token_id=EOS)
    import torch

    model = T5ForConditionalGeneration(c)
    with torch.no_grad():   # HF's T5 init gives an untied lm_head std 1: start from sane logits instead
        model.lm_head.weight.normal_(0.0, cfg.d_model ** -0.5)
    return model


def lr_at(step, total, base, warmup=30):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * max(0.05, 1 - (step - warmup) / max(1, total - warmup))


def train(model, cfg, steps, texts, codes, rng, vocab, gate=None, log=None, tag=""):
    import torch

    from tokkit.errors import InputError

    model.train()
    gate_params = list(gate.parameters()) if gate is not None else []
    gid = {id(p) for p in gate_params}
    base_lr = cfg.gate_phase_lr if gate is not None else cfg.lr
    groups = [{"params": [p for p in model.parameters() if id(p) not in gid], "lr": base_lr, "base": base_lr}]
    if gate_params:
        groups.append({"params": gate_params, "lr": cfg.gate_lr, "base": cfg.gate_lr,
                       "betas": tuple(cfg.gate_betas)})
    opt = torch.optim.AdamW(groups, weight_decay=0.0)
    t0 = time.perf_counter()
    hist = []
    all_deleted = 0
    for step in range(steps):
        x, m, y, _ = make_batch(texts, codes, cfg, rng, vocab)
        try:
            out = model(input_ids=x, attention_mask=m, labels=y)
        except InputError as e:
            # MrT5 stops here (every token of the batch deleted); note it and go on keeping each sequence's
            # best token, so the run still reports where the rate went
            if gate is None or gate.on_all_deleted != "raise":
                raise
            all_deleted += 1
            if log:
                log(f"{tag} step {step + 1}: {e}; continuing with on_all_deleted='keep_best'")
            gate.on_all_deleted = "keep_best"
            out = model(input_ids=x, attention_mask=m, labels=y)
        loss = out.loss
        rate = alpha = 0.0
        if gate is not None:
            alpha = gate.alpha
            rate = float(gate.last.deletion_rate())
            loss = loss + gate.penalty(per_sequence=cfg.per_sequence)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, g["base"])
        opt.step()
        hist.append((out.loss.item(), rate, alpha))
        if log and (step % 10 == 0 or step == steps - 1):
            ce = np.mean([h[0] for h in hist[-25:]])
            r = np.mean([h[1] for h in hist[-25:]])
            log(f"{tag} step {step + 1}/{steps} ce {ce:.3f} rate {r:.3f} alpha {alpha:.4f} "
                f"({time.perf_counter() - t0:.0f}s)")
    if gate is not None:
        gate.all_deleted_train_steps = all_deleted
    return hist, time.perf_counter() - t0


def evaluate(model, cfg, held, codes, script, vocab, gate=None):
    """Held-out span-corruption loss with hard deletion (eval mode) and deletion rate per script."""
    import torch

    model.eval()
    rng = random.Random(cfg.seed + 12345)      # the same held-out batches for every model
    losses, deleted, real = [], {}, {}
    wiped = 0
    if gate is not None:
        # one language per batch here, so a gate that deletes a whole script would stop MrT5's check: count
        # those batches and keep each sequence's best token instead
        gate.on_all_deleted = "keep_best"
    with torch.no_grad():
        for _ in range(cfg.eval_batches):
            for code in codes:   # every language equally, one batch each
                sub = [code]
                x, m, y, langs = make_batch(held, sub, cfg, rng, vocab)
                out = model(input_ids=x, attention_mask=m, labels=y)
                losses.append(float(out.loss))
                if gate is not None:
                    g = gate.last
                    s = script[code]
                    deleted[s] = deleted.get(s, 0) + int(g.deleted.sum())
                    real[s] = real.get(s, 0) + int(g.mask.sum())
                    wiped += int(not bool(((g.gate > gate.threshold) & g.mask).any()))
    res = {"heldout_loss": float(np.mean(losses))}
    if gate is not None:
        res["deletion_rate"] = sum(deleted.values()) / max(1, sum(real.values()))
        res["deletion_rate_by_script"] = {s: deleted[s] / max(1, real[s]) for s in sorted(real)}
        res["all_deleted_eval_batches"] = wiped
    return res


def time_encoder(models, cfg, held, codes, vocab, repeats):
    """Encoder wall time per batch at inference (eval, no grad) for each model, over the same fixed
    held-out batches, the models interleaved call by call; the minimum over repeats (the least disturbed
    run on a shared machine) and the median are reported. Also the kept share of the length."""
    import torch

    rng = random.Random(cfg.seed + 999)
    batches = [make_batch(held, codes, cfg, rng, vocab, corrupt=False)[:2] for _ in range(3)]
    times = [[[] for _ in batches] for _ in models]
    kept = [[] for _ in models]
    for m in models:
        m.eval()
    with torch.no_grad():
        for m in models:
            for x, am in batches:       # warm-up
                m.encoder(input_ids=x, attention_mask=am)
        for _ in range(repeats):
            for j, (x, am) in enumerate(batches):
                for i, m in enumerate(models):
                    t0 = time.perf_counter()
                    h = m.encoder(input_ids=x, attention_mask=am).last_hidden_state
                    times[i][j].append(time.perf_counter() - t0)
                    kept[i].append(h.shape[1] / x.shape[1])
    out = []
    for i in range(len(models)):
        best = float(np.mean([min(t) for t in times[i]])) * 1e3
        med = float(np.mean([np.median(t) for t in times[i]])) * 1e3
        out.append((best, med, float(np.mean(kept[i]))))
    return out


def run(cfg: Config, udhr_dir, out_dir=None, log=print):
    import copy

    import torch

    from tokkit.dynamic.delete_gate import insert_delete_gate

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    vocab = 256 + N_SPECIAL + N_SENTINELS
    train_t, held_t, script = load_texts(udhr_dir, cfg.languages, cfg.seed)
    codes = sorted(train_t)
    log(f"{len(codes)} languages, {len(set(script.values()))} scripts, "
        f"{sum(map(len, train_t.values())) / 1e3:.0f} kB train / "
        f"{sum(map(len, held_t.values())) / 1e3:.0f} kB held out")
    rng = random.Random(cfg.seed)
    base = build_model(cfg, vocab)
    log(f"model: {sum(p.numel() for p in base.parameters()) / 1e6:.2f}M parameters, "
        f"torch threads {torch.get_num_threads()}")
    _, pre_s = train(base, cfg, cfg.pre_steps, train_t, codes, rng, vocab, log=log, tag="pretrain")
    base_eval = evaluate(base, cfg, held_t, codes, script, vocab)
    base_ms = time_encoder([base], cfg, held_t, codes, vocab, cfg.time_repeats)[0][0]
    log(f"pretrained: held-out loss {base_eval['heldout_loss']:.3f}, encoder {base_ms:.1f} ms/batch")
    rows = []
    for target in cfg.targets:
        model = copy.deepcopy(base)
        gate = insert_delete_gate(model, layer=cfg.gate_layer, target_rate=target, kp=cfg.kp, ki=cfg.ki,
                                  alpha_min=cfg.alpha_min, norm=cfg.norm, init=cfg.init,
                                  keep_hard_bias=cfg.keep_hard_bias, on_all_deleted=cfg.on_all_deleted,
                                  gumbel_noise=cfg.gumbel_noise, regularizer_delay=cfg.regularizer_delay)
        hist, secs = train(model, cfg, cfg.gate_steps, train_t, codes, random.Random(cfg.seed + 1), vocab,
                           gate=gate, log=log, tag=f"gate {target:.0%}")
        ev = evaluate(model, cfg, held_t, codes, script, vocab, gate=gate)
        # time the same model with and without hard deletion, and the gate-less base, interleaved
        (ms_hard, med_hard, kept), (ms_base, med_base, _) = time_encoder([model, base], cfg, held_t, codes,
                                                                         vocab, cfg.time_repeats)
        row = {"target": target, **ev, "encoder_ms_hard": ms_hard, "encoder_ms_no_gate": ms_base,
               "encoder_ms_hard_median": med_hard, "encoder_ms_no_gate_median": med_base,
               "speedup": ms_base / ms_hard, "kept_length_ratio": kept, "train_seconds": secs,
               "final_alpha": gate.alpha,
               "all_deleted_train_steps": gate.all_deleted_train_steps,
               "train_rate_last50": float(np.mean([h[1] for h in hist[-50:]]))}
        rows.append(row)
        log(f"target {target:.0%}: held-out loss {ev['heldout_loss']:.3f}, deletion {ev['deletion_rate']:.3f}, "
            f"encoder {ms_hard:.1f} vs {ms_base:.1f} ms ({ms_base / ms_hard:.2f}x)")
    result = {"config": asdict(cfg), "languages": {c: script[c] for c in codes}, "pretrain_seconds": pre_s,
              "pretrained": {**base_eval, "encoder_ms": base_ms}, "rows": rows,
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
    if out_dir is not None:
        write(result, out_dir)
    return result


def table(result) -> str:
    rows = result["rows"]
    scripts = sorted({s for r in rows for s in r.get("deletion_rate_by_script", {})})
    pre = result["pretrained"]
    cfg = result["config"]
    lines = [f"Pre-trained (no gate): held-out loss {pre['heldout_loss']:.3f}",
             f"Encoder timing: batches of {cfg['time_batch']} x {cfg.get('time_seq_len', cfg['seq_len'])} bytes, "
             "best of the repeats (median in the json)",
             "",
             "| target | held-out loss | deletion rate (held out) | train rate, last 50 steps | kept length | "
             "encoder ms (hard) | encoder ms (no gate) | speed-up |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['target']:.0%} | {r['heldout_loss']:.3f} | {r['deletion_rate']:.1%} | "
                     f"{r.get('train_rate_last50', float('nan')):.1%} | {r['kept_length_ratio']:.2f} | "
                     f"{r['encoder_ms_hard']:.1f} | {r['encoder_ms_no_gate']:.1f} | {r['speedup']:.2f}x |")
    if any("all_deleted_eval_batches" in r for r in rows):
        lines += ["", "Batches in which the gate deleted every token (MrT5 raises on these; the run keeps each "
                  "sequence's best token and goes on): " + ", ".join(
                      f"{r['target']:.0%}: {r.get('all_deleted_train_steps', 0)} train / "
                      f"{r.get('all_deleted_eval_batches', 0)} held-out (one language each)" for r in rows)]
    gate_cfg = {k: cfg[k] for k in ("gate_layer", "norm", "init", "keep_hard_bias", "on_all_deleted", "gumbel_noise",
                                    "regularizer_delay", "per_sequence") if k in cfg}
    if gate_cfg:
        lines += ["", "Gate: " + ", ".join(f"{k}={v}" for k, v in gate_cfg.items())]
    lines += ["", "Deletion rate per script (held out):", "",
              "| script | " + " | ".join(f"{r['target']:.0%}" for r in rows) + " |",
              "|---|" + "---|" * len(rows)]
    for s in scripts:
        lines.append(f"| {s} | " + " | ".join(f"{r['deletion_rate_by_script'].get(s, float('nan')):.1%}"
                                              for r in rows) + " |")
    return "\n".join(lines) + "\n"


def write(result, out_dir):
    from tokkit._atomic import atomic_path

    os.makedirs(out_dir, exist_ok=True)
    with atomic_path(os.path.join(out_dir, "mrt5_gate_run.json")) as p:
        with open(p, "w") as fh:
            json.dump(result, fh, indent=1)
    with atomic_path(os.path.join(out_dir, "mrt5_gate_run.md")) as p:
        with open(p, "w") as fh:
            fh.write(table(result))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--udhr", default=None, help="UDHR folder (default: $TOKKIT_DATA/udhr or ../shared/corpora/udhr)")
    ap.add_argument("--out", default=None, help="results folder (default: benchmarks/results; with --smoke a "
                    "scratch folder, so a smoke run never overwrites the committed results)")
    ap.add_argument("--smoke", action="store_true", help="tiny model, a few steps (seconds)")
    ap.add_argument("--pre-steps", type=int)
    ap.add_argument("--gate-steps", type=int)
    ap.add_argument("--targets", type=str, help="comma-separated target rates, e.g. 0,0.3,0.5,0.7")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--per-sequence", type=float,
                    help="per-sequence rate term weight (0: MrT5's batch-level rate only)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--gumbel-noise", action="store_true", default=None, help="MrT5's Gumbel noise on the gate logits")
    ap.add_argument("--regularizer-delay", type=int, help="MrT5's regularizer_delay, in gate-training steps")
    ap.add_argument("--table", metavar="JSON", help="only rewrite the markdown table from a results json")
    a = ap.parse_args(argv)
    if a.table:
        with open(a.table) as fh:
            result = json.load(fh)
        write(result, os.path.dirname(os.path.abspath(a.table)))
        print(table(result))
        return 0
    if a.out is None:
        a.out = (tempfile.mkdtemp(prefix="tokkit-mrt5-smoke-") if a.smoke
                 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    cfg = Config(**SMOKE) if a.smoke else Config()
    for k in ("pre_steps", "gate_steps", "threads", "seed", "per_sequence", "gumbel_noise", "regularizer_delay"):
        if getattr(a, k) is not None:
            setattr(cfg, k, getattr(a, k))
    if a.targets:
        cfg.targets = [float(t) for t in a.targets.split(",")]
    udhr = a.udhr
    if udhr is None:
        from tokkit.corpora.paths import data_path

        udhr = data_path("udhr")
    result = run(cfg, udhr, a.out, log=lambda s: print(s, flush=True))
    print(table(result))
    print(f"results written to {a.out}")


if __name__ == "__main__":
    sys.exit(main())
