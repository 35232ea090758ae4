"""Output folders are tokkit's own or refused, are replaced whole in one atomic step, and survive kill -9 at
every point of the swap (the exchange rename and the two-rename fallback) with the next run cleaning up."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tokkit._atomic import CARD_NAME, atomic_dir, atomic_path, check_out, exchange, recover
from tokkit.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def write_artifact(tmp: str, tag: str, files=("a.json",)) -> None:
    for f in files:
        Path(tmp, f).write_text(tag)
    Path(tmp, CARD_NAME).write_text(json.dumps({"tokkit_card": 1, "tag": tag, "files": list(files)}))


def artifact_tag(out: Path) -> str:
    """The tag of a complete artifact at out (every file its card lists holds the card's tag)."""
    card = json.loads((out / CARD_NAME).read_text())
    for f in card["files"]:
        assert (out / f).read_text() == card["tag"]
    assert sorted(os.listdir(out)) == sorted(card["files"] + [CARD_NAME])
    return card["tag"]


def make(out: Path, tag: str, files=("a.json",)) -> None:
    with atomic_dir(out) as tmp:
        write_artifact(tmp, tag, files)


def test_replaced_whole_never_merged(tmp_path):
    out = tmp_path / "tok"
    make(out, "one", files=("tokenizer.json", "tokenizer-500.json"))
    make(out, "two", files=("spm.model",))
    assert artifact_tag(out) == "two"
    assert not (out / "tokenizer.json").exists() and not (out / "tokenizer-500.json").exists()
    assert sorted(os.listdir(tmp_path)) == ["tok"]


def test_symlinks_in_old_artifact_are_not_followed(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    (big / "data.bin").write_bytes(b"x" * 1000)
    out = tmp_path / "tok"
    make(out, "one")
    os.symlink(big, out / "link")
    make(out, "two")
    assert artifact_tag(out) == "two"
    assert (big / "data.bin").read_bytes() == b"x" * 1000  # the link's target is untouched
    assert sorted(os.listdir(tmp_path)) == ["big", "tok"]


def test_folder_without_card_is_refused_unless_forced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="without a tokkit card"):
        make(out, "one")
    assert (out / "thesis.tex").read_text() == "years of work"
    with pytest.raises(InputError, match="without a tokkit card"):
        check_out(out)
    with atomic_dir(out, force=True) as tmp:
        write_artifact(tmp, "one")
    assert artifact_tag(out) == "one"


def test_check_out_force_allows_the_later_write(tmp_path):
    out = tmp_path / "mine2"
    out.mkdir()
    (out / "x").write_text("x")
    check_out(out, force=True)  # the CLI's --force: checked up front, honoured by the write at the end
    make(out, "one")
    assert artifact_tag(out) == "one"


def test_empty_existing_folder_is_accepted(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    make(out, "one")
    assert artifact_tag(out) == "one"


@pytest.mark.parametrize("bad, match", [
    ("", "empty output path"), ("   ", "empty output path"), (".", "working directory"),
    ("/", "refusing"), ("..", "working directory"),
])
def test_check_out_refuses_dangerous_paths(bad, match):
    with pytest.raises(InputError, match=match):
        check_out(bad)


def test_check_out_refuses_files_inputs_and_unwritable(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="existing file"):
        check_out(f)
    with pytest.raises(InputError, match="existing folder"):
        check_out(tmp_path, kind="file")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(InputError, match="inside the input"):
        check_out(corpus / "tok", inputs=[corpus])
    with pytest.raises(InputError, match="inside the input"):
        check_out(f, inputs=[f], kind="file")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    with pytest.raises(InputError, match="dangling"):
        check_out(tmp_path / "dangling")
    assert check_out(tmp_path / "new" / "deeper" / "tok") == str(tmp_path / "new" / "deeper" / "tok")
    assert not (tmp_path / "new").exists()  # checking creates nothing


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_check_out_refuses_read_only_parent(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_out(ro / "tok")
        with pytest.raises(InputError, match="not writable"):
            check_out(ro / "sub" / "counts.tsv", kind="file")
    finally:
        ro.chmod(0o755)


def test_failed_write_leaves_old_artifact_and_nothing_else(tmp_path):
    out = tmp_path / "tok"
    make(out, "one")
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            write_artifact(tmp, "two")
            raise RuntimeError("training failed")
    assert artifact_tag(out) == "one"
    assert os.listdir(tmp_path) == ["tok"]


def test_overlapping_writers_one_wins_one_clear_error(tmp_path):
    out = tmp_path / "tok"
    make(out, "zero")
    with pytest.raises(InputError, match="another run replaced"):
        with atomic_dir(out) as first:
            write_artifact(first, "first")
            make(out, "second")  # a second writer finishes while the first is still writing
    assert artifact_tag(out) == "second"
    assert os.listdir(tmp_path) == ["tok"]


def test_recover_leaves_a_live_writers_folder_alone(tmp_path):
    out = tmp_path / "tok"
    make(out, "one")
    with atomic_dir(out) as tmp:
        write_artifact(tmp, "two")
        assert recover(out) == []
        assert os.path.isdir(tmp)
    assert artifact_tag(out) == "two"


def test_stale_leftovers_of_earlier_versions_are_removed(tmp_path):
    out = tmp_path / "tok"
    make(out, "one")
    for name in (".tok.abc123_x.tmp", ".tok.k9f_2abc.old"):  # mkdtemp names of tokkit before the fix
        (tmp_path / name).mkdir()
        (tmp_path / name / "tokenizer.json").write_text("{}")
    (tmp_path / ".tok.zz1wq_8a.tmp").mkdir()
    (tmp_path / ".tok.backup.old").mkdir()  # a user's own folder: not a name tokkit ever made
    make(out, "two")
    assert artifact_tag(out) == "two"
    assert sorted(os.listdir(tmp_path)) == [".tok.backup.old", "tok"]


def test_concurrent_processes_end_with_one_complete_artifact(tmp_path):
    out = tmp_path / "tok"
    script = r"""
import json, os, sys, time
from tokkit._atomic import atomic_dir
from tokkit.errors import InputError
out, tag = sys.argv[1], sys.argv[2]
try:
    with atomic_dir(out) as tmp:
        for f in ("a.json", "b.json"):
            open(os.path.join(tmp, f), "w").write(tag)
        time.sleep(0.3)
        open(os.path.join(tmp, "tokkit.json"), "w").write(
            json.dumps({"tokkit_card": 1, "tag": tag, "files": ["a.json", "b.json"]}))
except InputError as e:
    print(e, file=sys.stderr); sys.exit(2)
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(out), f"w{i}"], env=env, stderr=subprocess.PIPE)
             for i in range(4)]
    codes = [p.wait(timeout=120) for p in procs]
    errs = [p.stderr.read().decode() for p in procs]
    assert set(codes) <= {0, 2}, errs
    assert 0 in codes
    for c, e in zip(codes, errs):
        if c == 2:
            assert "another run replaced" in e and e.count("\n") == 1
    assert artifact_tag(out).startswith("w")
    assert os.listdir(tmp_path) == ["tok"]


FAULT_SCRIPT = r"""
import json, os, sys
from tokkit._atomic import atomic_dir
out, tag = sys.argv[1], sys.argv[2]
with atomic_dir(out) as tmp:
    for f in ("a.json", "b.json"):
        open(os.path.join(tmp, f), "w").write(tag)
    open(os.path.join(tmp, "tokkit.json"), "w").write(
        json.dumps({"tokkit_card": 1, "tag": tag, "files": ["a.json", "b.json"]}))
"""


@pytest.mark.parametrize("point, exchange_ok, expect", [
    ("dir-written", "1", "old"),                 # complete new folder beside the old one, not swapped yet
    ("dir-swapped", "1", "new"),                 # exchanged; the old content still at the .tmp name
    ("dir-swapped", "0", None),                  # (no fault point on the fallback path: runs to the end)
    ("fallback-between-renames", "0", "gap"),    # old renamed away, new not yet in: the next run restores
])
def test_kill_at_each_point_of_the_swap(tmp_path, point, exchange_ok, expect):
    if exchange_ok == "1" and not exchange_supported(tmp_path):
        pytest.skip("no renameat2(RENAME_EXCHANGE) here")
    out = tmp_path / "tok"
    make(out, "old")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TOKKIT_ATOMIC_FAULT=point, TOKKIT_ATOMIC_EXCHANGE=exchange_ok)
    p = subprocess.run([sys.executable, "-c", FAULT_SCRIPT, str(out), "new"], env=env, capture_output=True)
    if expect is None:
        assert p.returncode == 0
        assert artifact_tag(out) == "new"
    else:
        assert p.returncode == -9, p.stderr.decode()
        if expect == "gap":
            assert not out.exists()
            assert recover(out)  # a reader, or the next run, puts the old artifact back
            assert artifact_tag(out) == "old"
        else:
            assert artifact_tag(out) == expect
            assert len(os.listdir(tmp_path)) > 1  # the killed run left its folder...
    make(out, "next")  # ...which the next run removes
    assert artifact_tag(out) == "next"
    assert os.listdir(tmp_path) == ["tok"]


def exchange_supported(tmp_path) -> bool:
    a, b = tmp_path / "xa", tmp_path / "xb"
    a.mkdir()
    b.mkdir()
    try:
        return exchange(str(a), str(b))
    finally:
        a.rmdir()
        b.rmdir()


def test_killed_file_write_leaves_old_file_and_next_run_cleans(tmp_path):
    target = tmp_path / "counts.tsv"
    target.write_text("old\t1\n")
    script = ("import sys\nfrom tokkit._atomic import atomic_path\n"
              "with atomic_path(sys.argv[1]) as t:\n    open(t, 'w').write('new\\t2\\n')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TOKKIT_ATOMIC_FAULT="file-written")
    p = subprocess.run([sys.executable, "-c", script, str(target)], env=env)
    assert p.returncode == -9
    assert target.read_text() == "old\t1\n"
    assert len(os.listdir(tmp_path)) == 2
    with atomic_path(target) as t:
        Path(t).write_text("next\t3\n")
    assert os.listdir(tmp_path) == ["counts.tsv"]


def test_symlinked_out_keeps_naming_the_artifact(tmp_path):
    real = tmp_path / "v1"
    make(real, "one")
    os.symlink(real, tmp_path / "current")
    make(tmp_path / "current", "two")
    assert os.path.islink(tmp_path / "current")
    assert artifact_tag(tmp_path / "current") == "two"


def test_writers_in_threads_do_not_take_each_others_folders(tmp_path):
    errors = []

    def run(i):
        try:
            make(tmp_path / f"t{i}", f"tag{i}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(os.listdir(tmp_path)) == [f"t{i}" for i in range(6)]
