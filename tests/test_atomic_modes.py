"""Atomically written artifacts get the permissions a plain open()/mkdir() would give them (umask applied),
not the owner-only modes of the temporary files they start as."""

import os
import stat

import pytest

from tokkit._atomic import atomic_dir, atomic_path


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_file_mode_follows_umask(tmp_path, umask_022):
    target = tmp_path / "figure.png"
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(b"x")
    assert mode(target) == 0o644
    assert open(target, "rb").read() == b"x"
    plain = tmp_path / "plain"
    plain.write_bytes(b"y")
    assert mode(target) == mode(plain)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_dir_mode_follows_umask(tmp_path, umask_022):
    target = tmp_path / "tokenizer"
    for _ in range(2):  # a new folder, then one replacing an existing folder
        with atomic_dir(target) as tmp:
            (open(os.path.join(tmp, "tokenizer.json"), "w")).write("{}")
            (open(os.path.join(tmp, "tokkit.json"), "w")).write('{"tokkit_card": 1}')
        assert mode(target) == 0o755
    (tmp_path / "plain").mkdir()
    assert mode(target) == mode(tmp_path / "plain")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_stricter_umask_is_kept(tmp_path):
    old = os.umask(0o077)
    try:
        with atomic_path(tmp_path / "secret.json") as tmp:
            open(tmp, "w").write("{}")
    finally:
        os.umask(old)
    assert mode(tmp_path / "secret.json") == 0o600
