"""The proof cache validates what it reads: a forged, torn or foreign file is a miss with a
one-line note, never a verdict; its key changes with every source file and library version;
writers in several processes lose nothing."""

from __future__ import annotations

import json
import multiprocessing

import pytest
import sympy as sp

from symml.engine import cache
from symml.engine.checking import verify

NESTEROV = "optim.nesterov_step"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMML_CACHE_DIR", str(tmp_path))
    return tmp_path


def _statuses(ids):
    return [v.status.value for v in verify(ids, use_cache=True, processes=False, workers=1)]


def test_a_forged_proof_is_not_believed(cache_dir, capsys):
    first = _statuses([NESTEROV])
    assert first == ["refuted"]
    path = cache.cache_path()
    data = json.loads(path.read_text())
    for entry in data.values():
        entry["verdict"]["status"] = "proved"
        entry["verdict"]["method"] = "symbolic: forged"
    path.write_text(json.dumps(data))
    again = verify([NESTEROV], use_cache=True, processes=False, workers=1)
    assert [v.status.value for v in again] == ["refuted"]
    assert not any(v.cached for v in again)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"symml: ignoring 1 malformed or altered entries in the proof cache '{path}'; those "
        "claims are checked afresh (delete the file to silence this)"
    ]


@pytest.mark.parametrize("text", ["not json at all", "[1, 2]", '{"k": {"seal": 1}}', ""])
def test_a_file_that_is_not_a_cache_is_a_miss(cache_dir, capsys, text):
    cache.cache_dir().mkdir(parents=True, exist_ok=True)
    cache.cache_path().write_text(text)
    assert cache.load() == {}
    err = capsys.readouterr().err
    assert "proof cache" in err and str(cache.cache_path()) in err
    assert len(err.strip().splitlines()) == 1


def test_a_sealed_entry_round_trips(cache_dir):
    verdict = verify([NESTEROV], processes=False, workers=1)[0].to_json()
    cache.store({"k1": verdict})
    assert cache.load() == {"k1": verdict}
    assert cache.revive(cache.load()["k1"]).status.value == "refuted"


def test_the_key_changes_with_the_library_versions(monkeypatch):
    before = cache.engine_version()
    monkeypatch.setattr(sp, "__version__", sp.__version__ + ".forked")
    cache.engine_version.cache_clear()
    try:
        assert cache.engine_version() != before
    finally:
        monkeypatch.undo()
        cache.engine_version.cache_clear()
    assert cache.engine_version() == before


def _store_many(directory: str, prefix: str) -> None:
    import os

    os.environ["SYMML_CACHE_DIR"] = directory
    verdict = {"status": "proved", "method": "symbolic: test", "claim": prefix}
    for n in range(30):
        cache.store({f"{prefix}{n}": verdict})


def test_writers_in_several_processes_lose_no_entry(cache_dir):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_store_many, args=(str(cache_dir), p)) for p in ("a", "b", "c")
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert all(w.exitcode == 0 for w in workers)
    assert len(cache.load()) == 90
