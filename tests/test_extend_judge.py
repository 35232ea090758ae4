"""The fair dynamic-merging judge: chain-rule bits per byte over the base vocabulary (tokkit.analysis.judge)."""

import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

TEXTS = ["indemnification notwithstanding subrogation indemnification", "subrogation and indemnification "
         "notwithstanding severability", "naïve café — ünïcödé 12345 severability, indemnification"]


def _model(vocab, layers=2, attn="sdpa"):
    torch.manual_seed(1)
    cfg = transformers.LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                                   num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                                   bos_token_id=0, eos_token_id=0, attn_implementation=attn)
    model = transformers.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # a random model's logits are nearly flat: sharpen them so errors would show
        model.lm_head.weight.mul_(30)
    return model


def _brute_force(model, units_batch, embed_units, bos_id):
    """One forward pass per unit: [BOS, merged units < i, base tokens 0..k-2 of unit i], plain causal mask."""
    emb, nll = model.get_input_embeddings(), 0.0
    for units in units_batch:
        merged = embed_units(units)
        for i, unit in enumerate(units):
            x = torch.cat([emb.weight[[bos_id]], merged[:i], emb.weight[list(unit[:-1])]])
            logp = torch.log_softmax(model(inputs_embeds=x[None]).logits[0].float(), -1)
            for j, tok in enumerate(unit):
                nll -= float(logp[i + j, tok])
    return nll


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_chain_rule_nll_equals_one_pass_per_unit(attn):
    from tokkit.analysis.judge import chain_rule_nll

    model = _model(300, attn=attn)
    emb = model.get_input_embeddings()
    gen = torch.Generator().manual_seed(0)

    def embed_units(units):
        return torch.stack([emb.weight[list(u)].mean(0) for u in units])

    batch = []
    for n in (7, 1, 12):  # ragged: padding must not leak into any row
        lens = torch.randint(1, 5, (n,), generator=gen).tolist()
        batch.append([torch.randint(1, 300, (k,), generator=gen).tolist() for k in lens])
    with torch.no_grad():
        got = chain_rule_nll(model, batch, embed_units, bos_id=0, logits_chunk=5)
        want = _brute_force(model, batch, embed_units, 0)
    assert got == pytest.approx(want, rel=1e-5)
    # and one text at a time gives the same sum
    with torch.no_grad():
        one = sum(chain_rule_nll(model, [u], embed_units, bos_id=0) for u in batch)
    assert one == pytest.approx(want, rel=1e-5)
    # per target: one NLL per base token in text order; units of one token are the plain model's log-probs
    with torch.no_grad():
        each = chain_rule_nll(model, batch, embed_units, bos_id=0, per_target=True)
        assert each.shape == (sum(len(t) for u in batch for t in u),)
        assert float(each.sum()) == pytest.approx(want, rel=1e-5)
        flat = [t for unit in batch[0] for t in unit]
        single = chain_rule_nll(model, [[[t] for t in flat]], embed_units, bos_id=0, per_target=True)
        logp = torch.log_softmax(model(input_ids=torch.tensor([[0] + flat])).logits[0, :-1].float(), -1)
    assert torch.allclose(single, -logp[torch.arange(len(flat)), flat], rtol=1e-4, atol=1e-5)


def test_merge_bits_per_byte_is_fair(tokenizers_dir):
    """Budget 0 is the plain model; with merges the judge is the brute-force chain rule over base tokens."""
    import tokkit
    from tokkit.analysis.judge import merge_bits_per_byte
    from tokkit.dynamic.batch_merge import expansions, merge_batch
    from tokkit.dynamic.boundaries import tokenize_with_words

    model = _model(50257, layers=1)
    tok = tokkit.load_tokenizer(tokenizers_dir / "gpt2")
    rows = merge_bits_per_byte(model, tok, TEXTS, budgets=(0, 3, None, "words"), batch_size=3)
    plain = tokkit.bits_per_byte(model, tok, TEXTS)
    assert rows[0]["ratio"] == 1.0
    assert rows[0]["bits_per_byte"] == pytest.approx(plain.bits_per_byte, rel=1e-5)
    assert rows[1]["ratio"] < 1.0 and rows[3]["ratio"] <= rows[2]["ratio"] <= rows[1]["ratio"]

    ids, words = tokenize_with_words(tok, TEXTS)
    res = merge_batch(ids, words, max_merges=None, min_count=2, vocab_size=50257)
    flat, off = expansions(res.merges, 50257)
    batch = [[[int(t)] if t < 50257 else flat[off[t - 50257]:off[t - 50257 + 1]].tolist() for t in s] for s in res.seqs]
    assert any(len(u) > 1 for units in batch for u in units)
    emb = model.get_input_embeddings()
    with torch.no_grad():
        want = _brute_force(model, batch, lambda units: torch.stack([emb.weight[u].mean(0) for u in units]), 0)
    n_bytes = sum(len(t.encode()) for t in TEXTS)
    assert rows[2]["bits_per_byte"] == pytest.approx(want / math.log(2) / n_bytes, rel=1e-5)
