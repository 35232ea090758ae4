"""tokkit.extend_model and the bits-per-byte judge, on tiny randomly initialised Llama models."""

import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from test_extend import _docs  # noqa: E402

from tokkit.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def ext(tokenizers_dir, tmp_path_factory):
    import tokkit

    out = tmp_path_factory.mktemp("m") / "gpt2x"
    tokkit.extend(tokenizers_dir / "gpt2", _docs(), add=60, out=out)
    return tokenizers_dir / "gpt2", out


def _model(vocab, tied):
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                   num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=tied,
                                   bos_token_id=0, eos_token_id=0)
    return transformers.LlamaForCausalLM(cfg).eval()


@pytest.mark.slow
@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("method", ["fvt", "merge", "mean", "random"])
def test_outputs_unchanged_on_base_text(ext, tied, method):
    import tokkit

    base, new = ext
    model = _model(50257, tied)
    ids = torch.tensor([tokkit.load_tokenizer(base).encode("Hello world, this is plain text.")])
    before = model(ids).logits
    old_in = model.get_input_embeddings().weight.detach().clone()
    tokkit.extend_model(model, base, new, method=method)
    assert model.get_input_embeddings().weight.shape[0] == 50257 + 60
    assert model.get_output_embeddings().weight.shape[0] == 50257 + 60
    assert (model.get_output_embeddings().weight is model.get_input_embeddings().weight) == tied
    after = model(ids).logits
    assert torch.equal(after[..., :50257], before)
    assert torch.equal(model.get_input_embeddings().weight[:50257], old_in)
    assert torch.isfinite(model.get_input_embeddings().weight).all()


@pytest.mark.slow
def test_fvt_and_merge_rows(ext):
    import tokkit
    from tokkit.train.extension import new_token_parts

    base, new = ext
    model = _model(50257, False)
    w0 = model.get_input_embeddings().weight.detach().clone()
    base_size, size, parts = new_token_parts(base, new)
    assert (base_size, size, len(parts)) == (50257, 50317, 60)
    base_tok, new_tok = tokkit.load_tokenizer(base), tokkit.load_tokenizer(new)
    tokkit.extend_model(model, base, new, method="fvt")
    w = model.get_input_embeddings().weight.detach()
    for i, seg, _ in parts:
        text = new_tok.decode([i])
        assert seg == base_tok.encode(text)  # the base tokens the new token's text encodes to
        assert torch.allclose(w[i], w0[seg].mean(0), atol=1e-6)
    model = _model(50257, False)
    tokkit.extend_model(model, base, new, method="merge")
    w = model.get_input_embeddings().weight.detach()
    for i, _, (a, b) in parts:
        assert torch.allclose(w[i], (w[a] + w[b]) / 2, atol=1e-6)


def test_model_size_mismatch_is_an_error_before_any_change(ext):
    import tokkit

    base, new = ext
    model = _model(1000, True)
    with pytest.raises(InputError, match="1000 embedding rows.*50257"):
        tokkit.extend_model(model, base, new)
    assert model.get_input_embeddings().weight.shape[0] == 1000
    with pytest.raises(InputError, match="method"):
        tokkit.extend_model(_model(50257, True), base, new, method="bogus")


def test_bits_per_byte_uniform_model(tokenizers_dir):
    """A model whose logits are all zero gives every token probability 1/V: ln V nats a token."""
    import tokkit

    model = _model(50257, False)
    with torch.no_grad():
        model.lm_head.weight.zero_()
    tok = tokkit.load_tokenizer(tokenizers_dir / "gpt2")
    texts = ["Hello world, plain text here.", "Zweite Zeile: äöü ß — 12345", "x" * 700]
    j = tokkit.bits_per_byte(model, tok, texts, window=64, batch_size=2)
    n_bytes = sum(len(t.encode()) for t in texts)
    n_tokens = sum(len(tok.encode(t)) for t in texts)
    assert (j.tokens, j.bytes) == (n_tokens, n_bytes)
    assert j.bits_per_byte == pytest.approx(n_tokens * math.log2(50257) / n_bytes, rel=1e-5)
    assert j.tokens_per_byte == pytest.approx(n_tokens / n_bytes)


def test_bits_per_byte_matches_the_model_loss(tokenizers_dir):
    import tokkit

    model = _model(50257, True)
    tok = tokkit.load_tokenizer(tokenizers_dir / "gpt2")
    text = "The quick brown fox jumps over the lazy dog."
    ids = torch.tensor([[0] + tok.encode(text)])
    with torch.no_grad():
        loss = model(ids, labels=ids).loss.item()  # mean nats over the predicted tokens
    j = tokkit.bits_per_byte(model, tok, [text])
    assert j.bits_per_byte == pytest.approx(loss * (ids.shape[1] - 1) / math.log(2) / len(text.encode()), rel=1e-4)
    with pytest.raises(InputError, match="beyond the model"):
        tokkit.bits_per_byte(_model(100, True), tok, [text])


def test_merge_bits_per_byte_budget_zero_is_the_plain_model(tokenizers_dir):
    import tokkit
    from tokkit.analysis.judge import merge_bits_per_byte

    model = _model(50257, False)
    tok = tokkit.load_tokenizer(tokenizers_dir / "gpt2")
    texts = ["indemnification notwithstanding subrogation indemnification", "subrogation and indemnification "
             "notwithstanding severability", "naïve café — ünïcödé 12345 severability"]
    rows = merge_bits_per_byte(model, tok, texts, budgets=(0, 3, None), batch_size=2)
    plain = tokkit.bits_per_byte(model, tok, texts)
    assert rows[0]["ratio"] == 1.0
    assert rows[0]["bits_per_byte"] == pytest.approx(plain.bits_per_byte, rel=1e-5)
    assert rows[0]["tokens_per_byte"] == pytest.approx(plain.tokens_per_byte)
    assert rows[1]["ratio"] < 1.0 and rows[2]["ratio"] <= rows[1]["ratio"]
    assert all(math.isfinite(r["bits_per_byte"]) for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("tied", [True, False])
def test_chain_init(ext, tied):
    """chain: fvt inputs, untied output rows = first base token's row + a fitted bias; base logits unchanged."""
    import tokkit
    from tokkit.train.extension import new_token_parts

    base, new = ext
    model = _model(50257, tied)
    base_tok = tokkit.load_tokenizer(base)
    ids = torch.tensor([base_tok.encode("Hello world, this is plain text.")])
    before = model(ids).logits
    w0 = model.get_input_embeddings().weight.detach().clone()
    with pytest.raises(InputError, match="calibration"):
        tokkit.extend_model(model, base, new, method="chain")
    assert model.get_input_embeddings().weight.shape[0] == 50257
    # str paths (a str has .encode: it must still be read as a path) for the tied model, Paths for the untied
    args = (str(base), str(new)) if tied else (base, new)
    tokkit.extend_model(model, *args, method="chain", calibration=_docs()[:5], calibration_tokens=600)
    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    assert emb.weight.shape == (50317, 16) and head.weight.shape == (50317, 16) and head.bias.shape == (50317,)
    assert head.weight is not emb.weight and not model.config.tie_word_embeddings
    after = model(ids).logits
    assert after.shape[-1] == 50317
    assert torch.allclose(after[..., :50257], before, atol=1e-5)
    assert torch.equal(emb.weight[:50257], w0)
    _, _, parts = new_token_parts(base, new)
    h = model.model(ids).last_hidden_state
    for i, seg, _ in parts:
        assert torch.allclose(emb.weight[i], w0[seg].mean(0), atol=1e-6)
        assert torch.allclose(after[..., i], after[..., seg[0]] + head.bias[i], atol=1e-5)
    assert torch.isfinite(head.bias[50257:]).all() and torch.isfinite(h).all()
    # a new token seen often in the calibration text gets a larger bias than one never seen
    tok = tokkit.load_tokenizer(new)
    seen = {i for d in _docs()[:5] for i in tok.encode(d) if i >= 50257}
    b = {i: float(head.bias[i].detach()) for i, _, _ in parts}
    if seen and len(seen) < len(parts):
        assert max(b[i] for i in seen) > min(b[i] for i in b if i not in seen)


@pytest.mark.slow
def test_chain_biases_are_the_maximum_likelihood(ext):
    """At the fitted biases the likelihood's gradient vanishes: N_k + prior*pooled = (S_k + prior) e^b_k."""
    from tokkit.train.embeddings import chain_biases
    from tokkit.train.extension import new_token_parts

    base, new = ext
    model = _model(50257, True)
    _, _, parts = new_token_parts(base, new)
    with torch.no_grad():
        b5 = chain_biases(model, base, new, parts, _docs()[:5], max_tokens=600, iterations=5)
        b50 = chain_biases(model, base, new, parts, _docs()[:5], max_tokens=600, iterations=50)
    assert torch.isfinite(b50).all()
    assert torch.allclose(b5, b50, atol=1e-2)  # the fixed point converges fast (the loss is convex)
