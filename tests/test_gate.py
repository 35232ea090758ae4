"""DeleteGate, its controller, and insert_delete_gate on a small Hugging Face T5 built from a config.

The MrT5 oracles below re-implement the rules of MrT5's code (jkallini/mrt5 at commit
e79c3e752ef73fb8c375ac3ef61aa2fc2dcff323, models/modeling_mrt5.py: SigmoidDeleteGate, MrT5Block, MrT5Attention)
on top of the stock Hugging Face T5 blocks: the gate reads the input of block `delete_gate_layer` through
T5's RMS norm, soft mode adds G to the attention scores of that block, every later encoder block and the
decoder's cross-attention, hard mode gathers the kept tokens and the position bias and adds no G.
"""

import math

import pytest

torch = pytest.importorskip("torch")

from tokkit.dynamic.delete_gate import DeleteGate, RateController, insert_delete_gate, remove_delete_gate  # noqa: E402
from tokkit.errors import InputError  # noqa: E402


def _t5_rms(h, eps=1e-6):
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)


def test_gate_formula_is_mrt5s_rms_norm_without_bias():
    torch.manual_seed(0)
    gate = DeleteGate(8)
    assert sorted(n for n, _ in gate.named_parameters()) == ["norm.weight", "proj.bias", "proj.weight"]
    with torch.no_grad():
        gate.norm.weight.uniform_(0.5, 1.5)
    h = torch.randn(2, 5, 8) * 3 + 1
    out = gate(h)
    expect = -30 * torch.sigmoid(-gate.proj(_t5_rms(h) * gate.norm.weight).squeeze(-1))
    assert torch.allclose(out.gate, expect, atol=1e-6)
    assert torch.equal(out.keep, expect > -15)          # MrT5: kept where G > deletion_threshold (-15)
    assert DeleteGate(8, norm="layer").norm.bias is not None


def test_mrt5_initialisation_deletes_about_a_quarter():
    torch.manual_seed(0)
    rates = [float(DeleteGate(256)(torch.randn(8, 64, 256)).deletion_rate()) for _ in range(20)]
    assert 0.18 < sum(rates) / len(rates) < 0.32
    assert float(DeleteGate(256, init="keep_all")(torch.randn(8, 64, 256)).deletion_rate()) == 0.0


def test_gate_formula_padding_and_start_state():
    torch.manual_seed(0)
    gate = DeleteGate(8, init="keep_all", norm="layer")
    h = torch.randn(2, 5, 8)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    out = gate(h, mask)
    expect = -30 * torch.sigmoid(-gate.proj(gate.norm(h)).squeeze(-1))
    assert torch.allclose(out.gate[0], expect[0])
    assert torch.all(out.gate[1, 3:] == -30)              # padding forced to k
    assert out.keep[0].all() and out.keep[1].tolist() == [True, True, True, False, False]
    assert float(out.deletion_rate()) == 0.0
    assert -12 < float(out.gate[0].mean().detach()) < -5     # near k * sigmoid(-1) ~ -8.07, all above k/2


def test_all_deleted_raises_as_mrt5_unless_keep_best():
    gate = DeleteGate(4)
    with torch.no_grad():
        gate.proj.bias.fill_(-20.0)
    with pytest.raises(InputError, match="every token of the batch is deleted"):
        gate(torch.randn(2, 3, 4))
    # one sequence losing every token is not an error (MrT5 only checks the whole batch)
    with torch.no_grad():
        gate.proj.bias.fill_(0.0)
        gate.proj.weight.zero_()
        gate.proj.weight[0, 0] = 50.0
    h = torch.randn(2, 3, 4)
    h[0, :, 0] = -5.0
    h[1, 0, 0] = 5.0
    out = gate(h)
    assert out.keep[0].sum() == 0 and out.keep[1, 0]
    # an all-padding batch has nothing to delete: no error
    assert gate(torch.randn(2, 3, 4), torch.zeros(2, 3)).keep.sum() == 0


def test_keeps_at_least_one_token_per_sequence():
    gate = DeleteGate(4, on_all_deleted="keep_best")
    with torch.no_grad():
        gate.proj.bias.fill_(-20.0)                        # G ~ k everywhere: all would be deleted
        gate.proj.weight.zero_()
        gate.proj.weight[0, 0] = 1.0
    h = torch.randn(3, 6, 4)
    mask = torch.tensor([[1] * 6, [1, 1, 0, 0, 0, 0], [0] * 6])
    out = gate(h, mask)
    assert out.keep.sum(1).tolist() == [1, 1, 0]           # one kept per non-empty row, none for an empty row
    for b in range(2):
        real = mask[b].bool()
        best = out.gate[b].masked_fill(~real, -math.inf).argmax()
        assert out.keep[b, best]
    x, key_mask, index = out.compact(h)
    assert x.shape == (3, 1, 4) and key_mask[:, 0].tolist() == [True, True, False]


def test_length_one_and_length_zero():
    gate = DeleteGate(4, init="keep_all")
    out = gate(torch.randn(2, 1, 4))
    assert out.keep.all()
    with pytest.raises(InputError, match="length-0"):
        gate(torch.randn(2, 0, 4))


def test_nan_input_is_a_clear_error():
    gate = DeleteGate(4)
    h = torch.randn(1, 3, 4)
    h[0, 1, 2] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        gate(h)


def test_bad_arguments():
    with pytest.raises(InputError, match="k must be negative"):
        DeleteGate(4, k=1.0)
    with pytest.raises(InputError, match="mode"):
        DeleteGate(4, mode="sometimes")
    with pytest.raises(InputError, match="target_rate"):
        DeleteGate(4, target_rate=1.5)
    with pytest.raises(InputError, match="attention_mask"):
        DeleteGate(4)(torch.randn(1, 3, 4), torch.ones(1, 4))
    for kw, msg in [({"norm": "batch"}, "norm"), ({"init": "zeros"}, "init"), ({"threshold": -40}, "threshold"),
                    ({"on_all_deleted": "skip"}, "on_all_deleted"), ({"regularizer_delay": -1}, "delay")]:
        with pytest.raises(InputError, match=msg):
            DeleteGate(4, **kw)


def test_controller_follows_mrt5_update():
    c = RateController(0.5, kp=0.5, ki=1e-2, beta=0.9)
    p = i = 0.0
    for rate in [0.0, 0.1, 0.3, 0.6, 0.9, 0.5]:
        err = 0.5 - rate
        p = 0.9 * p + 0.1 * 0.5 * err
        i += 1e-2 * err
        assert c.update(rate) == pytest.approx(max(0.0, p + i))
    two_sided = RateController(0.2, alpha_min=-1.0)
    assert two_sided.update(0.9) < 0                       # pushes the rate back up toward the target


def test_penalty_is_alpha_times_mean_gate_and_moves_the_rate():
    torch.manual_seed(0)
    gate = DeleteGate(6, target_rate=0.5, kp=5.0, ki=0.0, beta=0.0, init="keep_all", on_all_deleted="keep_best")
    h = torch.randn(4, 10, 6)
    out = gate(h)
    assert float(gate.penalty().detach()) == 0.0                    # alpha starts at 0; update sees rate 0
    assert gate.alpha == pytest.approx(2.5)
    out = gate(h)
    pen = gate.penalty(update=False)
    assert float(pen.detach()) == pytest.approx(2.5 * float(out.gate.detach().mean()), rel=1e-5)
    opt = torch.optim.SGD(gate.parameters(), lr=1.0)
    for _ in range(20):                                    # the penalty alone drives deletion up
        gate(h)
        opt.zero_grad()
        gate.penalty(update=False).backward()
        opt.step()
    assert float(gate(h).deletion_rate()) > 0.3


@pytest.fixture(scope="module")
def t5():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.T5Config(vocab_size=300, d_model=32, d_kv=8, d_ff=64, num_layers=4, num_decoder_layers=2,
                                num_heads=4, dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0,
                                eos_token_id=1)
    torch.manual_seed(0)
    return transformers, cfg


def _batch():
    g = torch.Generator().manual_seed(1)
    x = torch.randint(3, 300, (3, 12), generator=g)
    am = torch.ones(3, 12, dtype=torch.long)
    am[1, 8:] = 0
    am[2, 3:] = 0
    x = x * am
    labels = torch.randint(3, 300, (3, 6), generator=g)
    return x, am, labels


def _force_deletions(gate):
    with torch.no_grad():
        gate.proj.bias.fill_(0.0)
        gate.proj.weight.normal_(0, 3, generator=torch.Generator().manual_seed(5))


def _mrt5_encoder(ref, gate, x, am, layer, hard):
    """MrT5's encoder forward on stock T5 blocks: soft -> ([B, T, D], G); hard -> (one [1, n_b, D] per row, G)."""
    enc = ref.encoder
    h = enc.embed_tokens(x)
    lo = torch.finfo(h.dtype).min
    pad = torch.where(am.bool(), 0.0, lo)[:, None, None, :]
    pb = None
    for blk in enc.block[:layer]:
        h, pb, _ = blk(h, pad, pb)
    g = -30 * torch.sigmoid(-gate.proj(_t5_rms(h) * gate.norm.weight).squeeze(-1))
    g = torch.where(am.bool(), g, torch.tensor(-30.0))
    if not hard:
        mask = pad + g[:, None, None, :]          # G on the scores of block `layer` and every later block
        for blk in enc.block[layer:]:
            h, pb, _ = blk(h, mask, pb)
        return enc.final_layer_norm(h), g
    rows = []
    for b in range(x.shape[0]):                   # the kept tokens, original distances, no G
        kept = ((g[b] > -15) & am[b].bool()).nonzero().squeeze(1)
        hb, pbb = h[b:b + 1, kept], pb[:, :, kept][:, :, :, kept]
        for blk in enc.block[layer:]:
            hb, _, _ = blk(hb, None, pbb)
        rows.append(enc.final_layer_norm(hb))
    return rows, g


@pytest.mark.parametrize("layer", [1, 3])
def test_placement_soft_and_hard_mode_as_mrt5(t5, layer):
    import copy

    transformers, cfg = t5
    torch.manual_seed(layer)
    ref = transformers.T5ForConditionalGeneration(cfg).eval()
    model = copy.deepcopy(ref)
    x, am, labels = _batch()
    gate = insert_delete_gate(model, layer=layer, mode="soft")
    _force_deletions(gate)
    with torch.no_grad():
        gate.norm.weight.uniform_(0.5, 1.5)
        soft = model(input_ids=x, attention_mask=am, labels=labels)
        want, g = _mrt5_encoder(ref, gate, x, am, layer, hard=False)
        assert torch.allclose(gate.last.gate, g, atol=1e-5)
        real = am.bool()
        assert torch.allclose(soft.encoder_last_hidden_state[real], want[real], atol=1e-5)
        gate.mode = "hard"
        hard = model(input_ids=x, attention_mask=am, labels=labels)
        rows, _ = _mrt5_encoder(ref, gate, x, am, layer, hard=True)
        assert 0 < float(gate.last.deletion_rate()) < 1
        for b, row in enumerate(rows):
            n = row.shape[1]
            assert torch.allclose(hard.encoder_last_hidden_state[b, :n], row[0], atol=1e-5)
            logits = ref(encoder_outputs=(row,), labels=labels[b:b + 1]).logits
            assert torch.allclose(hard.logits[b], logits[0], atol=1e-4)
        # keep_hard_bias: tokkit's option, hard mode then adds G and no longer equals MrT5's hard mode
        gate.keep_hard_bias = True
        biased = model(input_ids=x, attention_mask=am, labels=labels)
        assert not torch.allclose(biased.logits, hard.logits, atol=1e-3)


def test_hard_mode_runs_on_an_all_padding_batch(t5):
    transformers, cfg = t5
    model = transformers.T5ForConditionalGeneration(cfg).eval()
    insert_delete_gate(model, layer=2)
    x, am, labels = _batch()
    with torch.no_grad():
        out = model(input_ids=x * 0, attention_mask=am * 0, labels=labels)
    assert out.encoder_last_hidden_state.shape[1] == 1 and torch.isfinite(out.logits).all()


def test_insert_into_t5_soft_equals_hard_with_keep_hard_bias(t5):
    transformers, cfg = t5
    model = transformers.T5ForConditionalGeneration(cfg).eval()
    x, am, labels = _batch()
    ref = model(input_ids=x, attention_mask=am, labels=labels)
    gate = insert_delete_gate(model, layer=2, mode="soft", keep_hard_bias=True, on_all_deleted="keep_best")
    assert model.encoder.delete_gate is gate
    _force_deletions(gate)
    soft = model(input_ids=x, attention_mask=am, labels=labels)
    rate = float(gate.last.deletion_rate())
    assert 0.1 < rate < 0.95 and soft.encoder_last_hidden_state.shape[1] == 12
    keep = gate.last.keep.clone()
    gate.mode = "hard"
    hard = model(input_ids=x, attention_mask=am, labels=labels)
    lengths = keep.sum(1)
    assert hard.encoder_last_hidden_state.shape[1] == int(lengths.max()) < 12
    # same function: deleted tokens had ~e^-15 of the attention in soft mode (rows that keep a token on their
    # own; a row whose only token is kept by keep_best still spreads its soft attention over deleted ones)
    rows = [b for b in range(3) if bool(((gate.last.gate[b] > -15) & gate.last.mask[b]).any())]
    assert len(rows) >= 2
    assert torch.allclose(hard.logits[rows], soft.logits[rows], atol=1e-4)
    index = model.encoder.delete_gate_state.index
    for b in rows:
        n = int(lengths[b])
        assert torch.equal(index[b, :n], keep[b].nonzero().squeeze(1))
        assert torch.allclose(hard.encoder_last_hidden_state[b, :n], soft.encoder_last_hidden_state[b, keep[b]],
                              atol=1e-4)
    # mode 'auto' is hard in eval, soft in train
    gate.mode = "auto"
    assert gate.hard and not gate.train().hard
    gate.eval()
    # removing restores the original model exactly
    remove_delete_gate(model)
    again = model(input_ids=x, attention_mask=am, labels=labels)
    assert torch.equal(again.logits, ref.logits)
    assert not any("delete_gate" in k for k in model.state_dict())


def test_soft_gate_trains_end_to_end(t5):
    transformers, cfg = t5
    model = transformers.T5ForConditionalGeneration(cfg).train()
    gate = insert_delete_gate(model, layer=1, target_rate=0.5)
    x, am, labels = _batch()
    out = model(input_ids=x, attention_mask=am, labels=labels)
    (out.loss + gate.penalty()).backward()
    assert gate.proj.weight.grad is not None and gate.proj.weight.grad.abs().sum() > 0
    assert model.encoder.block[3].block.layer[0].SelfAttention.q.weight.grad is not None
    # one gate state-dict entry set, under the encoder
    keys = [k for k in model.state_dict() if "delete_gate" in k]
    assert sorted(keys) == ["encoder.delete_gate.norm.weight",
                            "encoder.delete_gate.proj.bias", "encoder.delete_gate.proj.weight"]


def test_generate_with_hard_deletion(t5):
    transformers, cfg = t5
    model = transformers.T5ForConditionalGeneration(cfg).eval()
    gate = insert_delete_gate(model, layer=1)
    _force_deletions(gate)
    x, am, _ = _batch()
    out = model.generate(input_ids=x, attention_mask=am, max_new_tokens=4, do_sample=False)
    assert out.shape[0] == 3 and gate.last is not None
    out = model.generate(input_ids=x, attention_mask=am, max_new_tokens=3, num_beams=2, do_sample=False)
    assert out.shape[0] == 3


def test_encoder_only_model(t5):
    transformers, cfg = t5
    model = transformers.T5EncoderModel(cfg).eval()
    gate = insert_delete_gate(model, layer=2)
    _force_deletions(gate)
    x, am, _ = _batch()
    h = model(input_ids=x, attention_mask=am).last_hidden_state
    assert h.shape[1] == int(gate.last.keep.sum(1).max())


def test_bad_model_or_layer(t5):
    transformers, cfg = t5
    model = transformers.T5ForConditionalGeneration(cfg)
    for bad in (0, 4):
        with pytest.raises(InputError, match=rf"layer={bad} .* 4 blocks \(valid: 1..3\)"):
            insert_delete_gate(model, layer=bad)
    with pytest.raises(InputError, match="no T5-style encoder"):
        insert_delete_gate(torch.nn.Linear(3, 3))
    insert_delete_gate(model, layer=1)
    with pytest.raises(InputError, match="already has a delete gate"):
        insert_delete_gate(model, layer=2)
    remove_delete_gate(model)
    with pytest.raises(InputError, match="no delete gate"):
        remove_delete_gate(model)


def test_nan_through_model_names_the_layer(t5):
    transformers, cfg = t5
    model = transformers.T5EncoderModel(cfg).eval()
    insert_delete_gate(model, layer=1)
    with torch.no_grad():
        model.encoder.block[0].layer[0].SelfAttention.q.weight[0, 0] = float("nan")
    x, am, _ = _batch()
    with pytest.raises(InputError, match="before encoder block 1: .*NaN"):
        model(input_ids=x, attention_mask=am)


def test_position_bias_gather_keeps_original_distances():
    from tokkit.dynamic.delete_gate import _gather_position_bias

    g = torch.Generator().manual_seed(0)
    pb = torch.randn(3, 2, 7, 7, generator=g)
    ix = torch.tensor([[0, 2, 5], [1, 2, -1], [6, -1, -1]])
    c = ix.clamp(min=0)
    for src in (pb, pb[:1]):
        expect = torch.stack([src[b % src.shape[0]][:, c[b]][:, :, c[b]] for b in range(3)])
        assert torch.equal(_gather_position_bias(src, ix), expect)
    same = torch.arange(7).expand(3, 7)
    assert _gather_position_bias(pb, same) is pb             # nothing deleted: no copy


def test_per_sequence_penalty_weights_each_sequence_by_its_own_rate():
    torch.manual_seed(0)
    gate = DeleteGate(6, target_rate=0.5)
    gate.controller.alpha = 0.2
    out = gate(torch.randn(3, 8, 6), torch.tensor([[1] * 8, [1] * 5 + [0] * 3, [1] * 8]))
    with torch.no_grad():     # pretend sequence 0 lost everything but one token
        out.keep[0] = False
        out.keep[0, 0] = True
    pen = gate.penalty(out, update=False, per_sequence=1.0)
    n = out.mask.sum(1).float()
    rate = (out.mask & ~out.keep).sum(1) / n
    w = 0.2 + (0.5 - rate)
    expect = ((out.gate * out.mask).sum(1) / n * w).mean()
    assert torch.allclose(pen, expect) and float(w[0]) < 0 < float(w[1])


def test_gumbel_noise_only_while_training_and_regularizer_delay():
    torch.manual_seed(0)
    gate = DeleteGate(8, gumbel_noise=True)
    h = torch.randn(2, 6, 8)
    assert not torch.equal(gate.train()(h).gate, gate(h).gate)      # noisy logits in training (MrT5)
    assert torch.equal(gate.eval()(h).gate, gate(h).gate)
    gate = DeleteGate(8, target_rate=0.5, regularizer_delay=2, kp=5.0, ki=0.0, beta=0.0)
    for _ in range(2):                      # MrT5: no regulariser and no controller step during the delay
        gate(h)
        assert float(gate.penalty().detach()) == 0.0 and gate.alpha == 0.0
    gate(h)
    gate.penalty()
    assert gate.alpha > 0
