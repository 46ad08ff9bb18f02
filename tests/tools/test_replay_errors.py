"""A broken replay dataset is a one-line error naming the file, never DuckDB's internals,
and a relabelled CSV header is refused instead of read into the wrong columns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import DatasetFormatError

METRICS_HEADER = "ts,service,instance,metric,value"


def _plain(root: Path, table: str) -> Path:
    return next(p for p in sorted((root / table).iterdir()) if p.suffix == ".csv")


def _relabel(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(METRICS_HEADER, "time,svc,host,name,val", 1), encoding="utf-8")


def _corrupt(path: Path) -> None:
    path.write_text(f'{METRICS_HEADER}\n\x00\x01 garbage\n"unterminated,,\n', encoding="utf-8")


@pytest.mark.parametrize(
    ("table", "breaks", "says"),
    [
        ("metrics", lambda p: p.write_text(""), "empty file; expected the header line"),
        ("traces", lambda p: p.write_text(""), "empty file; expected the header line ts,trace_id"),
        ("metrics", _relabel, "line 1: header is time,svc,host,name,val; expected ts,service"),
        ("metrics", _corrupt, "cannot parse telemetry"),
    ],
)
def test_a_broken_csv_is_one_line_naming_the_file(
    synthetic: SyntheticDataset,
    tmp_path: Path,
    table: str,
    breaks: Callable[[Path], None],
    says: str,
) -> None:
    root = shutil.copytree(synthetic.root, tmp_path / "broken")
    broken = _plain(root, table)
    breaks(broken)
    with pytest.raises(DatasetFormatError) as error:
        ReplayDataset.open(root)
    message = str(error.value)
    assert says in message and "\n" not in message and len(message) < 500
    assert broken.name in message


def test_the_cli_says_it_in_one_line(synthetic: SyntheticDataset, tmp_path: Path) -> None:
    root = shutil.copytree(synthetic.root, tmp_path / "broken")
    _plain(root, "metrics").write_text("", encoding="utf-8")
    command = [sys.executable, "-m", "agent", "replay", str(root), "--data-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "empty file" in done.stderr
