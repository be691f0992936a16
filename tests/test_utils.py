"""relx.utils: atomic writes leave no stale temp files; write_json writes strict JSON."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from relx.utils import atomic_open, write_json


def dead_pid() -> int:
    """The pid of a process that has already exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_atomic_open_removes_stale_temps_of_killed_writers(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    stale = [tmp_path / ".result.json.abc123_x.tmp", tmp_path / f".result.json.{dead_pid()}-k9f2a1bc.tmp"]
    live = tmp_path / f".result.json.{os.getppid()}-live0001.tmp"  # a running process is writing it
    other = [tmp_path / ".result.json.gz.abc123.tmp", tmp_path / ".results.json.abc123.tmp"]  # temps of other files
    for p in [*stale, live, *other]:
        p.write_text("partial")
    with atomic_open(target) as fh:
        fh.write("{}")
    assert target.read_text() == "{}"
    assert not any(p.exists() for p in stale)
    assert live.exists() and all(p.exists() for p in other)
    assert sorted(p.name for p in tmp_path.glob(".result.json.*.tmp")) == sorted([live.name, other[0].name])


def test_atomic_open_leaves_no_temp_on_error(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    try:
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert list(tmp_path.iterdir()) == []


def reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def test_write_json_turns_nan_and_infinity_into_null(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_json(path, {"f1": math.nan, "loss": [1.5, math.inf, (-math.inf, 2)], "nested": {"x": {"y": float("nan")}}, "ok": 0.25, "n": 3})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=reject_constant)  # strict JSON: no NaN / Infinity literals
    assert json.loads(text) == {"f1": None, "loss": [1.5, None, [None, 2]], "nested": {"x": {"y": None}}, "ok": 0.25, "n": 3}


def test_atomic_path_publishes_a_writers_file_with_the_usual_mode(tmp_path: Path) -> None:
    import pytest

    from relx.utils import atomic_path, default_file_mode

    target = tmp_path / "model.safetensors"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(f".{target.name}.{os.getpid()}-") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"weights")
        os.chmod(tmp, 0o600)  # as safetensors leaves it
    assert target.read_bytes() == b"weights" and target.stat().st_mode & 0o777 == default_file_mode()
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"weights" and sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_staging_directory_is_removed_unless_published(tmp_path: Path) -> None:
    import pytest

    from relx.utils import install_files, staging_directory

    out = tmp_path / "out"
    with pytest.raises(RuntimeError), staging_directory(out) as tmp:
        (tmp / "a.txt").write_text("x")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    mask = os.umask(0)
    os.umask(mask)
    with staging_directory(out, ".staging") as tmp:
        assert tmp.name.startswith(".out.") and tmp.name.endswith(".staging") and tmp.stat().st_mode & 0o777 == 0o777 & ~mask
        (tmp / "a.txt").write_text("x")
        install_files(tmp, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (out / "a.txt").read_text() == "x"


def test_text_table_aligns_and_titles() -> None:
    from relx.evaluation.report import text_table

    assert text_table(["Label", "F1"], [["a", 1.5], ["long", 10]], "T") == "T\n=\nLabel   F1\n-----  ---\na      1.5\nlong    10"
    assert text_table(["x", "n"], [["a", 1]], "", right=[False, False], indent="  ", underline=False) == "\n  x  n\n  -  -\n  a  1"
