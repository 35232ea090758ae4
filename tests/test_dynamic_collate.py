"""Collator (DataLoader / Trainer) and datasets.map function: tokenize, merge per batch, model inputs."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tokkit.dynamic.batch_merge import merge_batch, unmerge  # noqa: E402
from tokkit.dynamic.boundaries import tokenize_with_words  # noqa: E402
from tokkit.dynamic.collate import DynamicMergeCollator, merge_map_function  # noqa: E402
from tokkit.errors import InputError  # noqa: E402

TEXTS = ["the tokenizer tokenizes text", "tokenizers and tokenization", "the cat sat, the cat sat,",
         "a mat, a cat, detokenization"]


def _check_batch(batch, tok, texts):
    ids, _ = tokenize_with_words(tok, texts, add_special_tokens=True)
    v = int(batch["vocab_size"])
    assert v == tok.get_vocab_size()
    back = unmerge([row[:n].tolist() for row, n in zip(batch["input_ids"], batch["lengths"])],
                   batch["merges"].numpy(), v)
    assert back == [s.tolist() for s in ids]
    pad = tok.token_to_id("[PAD]")
    assert (batch["input_ids"][batch["attention_mask"] == 0] == pad).all()
    seg = batch["segments"]
    assert ((seg[..., 0] >= 0) == batch["attention_mask"].bool()).all()


def test_collator_on_strings_and_dicts(mbert):
    c = DynamicMergeCollator(mbert, min_count=2)
    b = c(TEXTS)
    _check_batch(b, mbert, TEXTS)
    assert int(b["lengths"].sum()) < sum(len(s) for s in tokenize_with_words(mbert, TEXTS, add_special_tokens=True)[0])
    d = c([{"text": t, "label": i} for i, t in enumerate(TEXTS)])
    assert torch.equal(d["input_ids"], b["input_ids"]) and d["label"].tolist() == [0, 1, 2, 3]
    n = DynamicMergeCollator(mbert, max_merges=1, return_tensors="np")(TEXTS)
    assert isinstance(n["input_ids"], np.ndarray) and len(n["merges"]) == 1


def test_collator_with_dataloader_and_wrapped_model(mbert):
    transformers = pytest.importorskip("transformers")
    from tokkit.dynamic.embeddings import DynamicMergeModel

    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=mbert.get_vocab_size(), hidden_size=16, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=32)
    model = DynamicMergeModel(transformers.BertModel(cfg).eval())
    dl = torch.utils.data.DataLoader(TEXTS, batch_size=2, collate_fn=DynamicMergeCollator(mbert, min_count=1))
    for batch in dl:
        with torch.no_grad():
            out = model(**batch)
        assert out.last_hidden_state.shape[:2] == batch["input_ids"].shape


def test_map_function_then_collator_combines_tables(mbert):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": TEXTS * 2, "label": list(range(8))})
    fn = merge_map_function(mbert, min_count=2)
    mapped = ds.map(fn, batched=True, batch_size=3, remove_columns=["text"])
    assert set(mapped.column_names) >= {"input_ids", "attention_mask", "segments", "merges", "vocab_size", "label"}
    rows = [mapped[i] for i in range(len(mapped))]
    batch = DynamicMergeCollator(mbert)(rows)  # rows of three map batches: three tables, renumbered into one
    _check_batch(batch, mbert, TEXTS * 2)
    assert batch["label"].tolist() == list(range(8))
    # the first map batch alone reproduces merge_batch on those texts
    ids, words = tokenize_with_words(mbert, TEXTS[:3], add_special_tokens=True)
    ref = merge_batch(ids, words, vocab_size=mbert.get_vocab_size())
    assert rows[0]["merges"] == ref.merges.tolist() and rows[0]["input_ids"] == ref.seqs[0].tolist()


def test_collator_on_pretokenized_examples(mbert):
    ids, words = tokenize_with_words(mbert, TEXTS, add_special_tokens=True)
    ex = [{"input_ids": i.tolist(), "word_ids": [None if x < 0 else int(x) for x in w]} for i, w in zip(ids, words)]
    a = DynamicMergeCollator(vocab_size=mbert.get_vocab_size(), pad_id=0)(ex)
    b = DynamicMergeCollator(mbert)(TEXTS)
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["merges"], b["merges"])


def test_collator_bad_input(mbert):
    c = DynamicMergeCollator(mbert)
    with pytest.raises(InputError, match="no 'text' field"):
        c([{"sentence": "x"}])
    with pytest.raises(InputError, match="all be strings or all be dicts"):
        c(["x", {"text": "y"}])
    with pytest.raises(InputError, match="no tokenizer"):
        DynamicMergeCollator(vocab_size=10)(["x"])
    with pytest.raises(InputError, match="return_tensors"):
        DynamicMergeCollator(mbert, return_tensors="tf")
    with pytest.raises(InputError, match="column"):
        merge_map_function(mbert)({"sentence": ["x"]})


def test_trainer_runs_a_step_with_the_collator(mbert, tmp_path):
    transformers = pytest.importorskip("transformers")
    datasets = pytest.importorskip("datasets")
    pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate")
    from tokkit.dynamic.embeddings import DynamicMergeModel

    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=mbert.get_vocab_size(), hidden_size=8, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=16, num_labels=2)
    model = DynamicMergeModel(transformers.BertForSequenceClassification(cfg))
    ds = datasets.Dataset.from_dict({"text": TEXTS, "labels": [0, 1, 0, 1]})
    args = transformers.TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, max_steps=1,
                                          remove_unused_columns=False, report_to=[], save_strategy="no",
                                          use_cpu=True, logging_strategy="no")
    trainer = transformers.Trainer(model=model, args=args, train_dataset=ds,
                                   data_collator=DynamicMergeCollator(mbert, min_count=1))
    out = trainer.train()
    assert out.global_step == 1 and np.isfinite(out.training_loss)


def test_rule_original_merges_with_dynamic_bpes_own_rule(tokenizers_dir):
    """rule="original": the collator and measure_reduction decide each pair with DynamicBPERule, so their
    output is merge_batch(pair_rule=...) exactly (itself pinned to the original in
    test_batch_merge_dynamic_bpe.py); on French with U+00A0 it differs from the fixed word ids."""
    from tokenizers import Tokenizer

    from tokkit.dynamic.boundaries import DynamicBPERule
    from tokkit.dynamic.collate import measure_reduction

    gpt2 = Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    texts = ["Il dit\u00a0: «\u00a0bonjour\u00a0» et\u00a0; puis\u00a0!", "Tous les êtres\u00a0: libres\u00a0?"] * 6
    c = DynamicMergeCollator(gpt2, rule="original", min_count=1, add_special_tokens=False, return_tensors="np")
    b = c(texts)
    ids, _ = tokenize_with_words(gpt2, texts)
    want = merge_batch(ids, pair_rule=DynamicBPERule(gpt2, "word"), min_count=1, vocab_size=gpt2.get_vocab_size())
    assert b["lengths"].tolist() == want.lengths.tolist()
    assert np.array_equal(b["merges"], want.merges)
    r = measure_reduction(gpt2, texts, rule="original", min_count=1, batch_size=12)
    f = measure_reduction(gpt2, texts, rule="fixed", min_count=1, batch_size=12)
    assert r["tokens_out"] == int(want.lengths.sum()) and r["exact"]
    assert r["tokens_out"] != f["tokens_out"]
    with pytest.raises(InputError, match="rule"):
        DynamicMergeCollator(gpt2, rule="paper")
