"""Live stores mask log lines exactly as the replay store does in DuckDB."""

from __future__ import annotations

import random

import duckdb

from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.store import TEMPLATE_CHARS, mask_template, template_sql

TRICKY = [
    "GET /checkout 200 in 33 ms",
    "a=b1.2-3 c: x9 v2 Impl#31 -5.5 id 550e8400-e29b-41d4-a716-446655440000",
    "from 10.0.0.1:8080 token deadbeefcafe12 at 0x1f",
    "é 12 ünïcode ١٢٣ 42 ＃７",  # non-ASCII digits are not masked by RE2's \\d
    "x\x0b1 y=\x0b9 tab\t=\t7",  # RE2's \\s has no vertical tab
    "(-3) [4] <5> .6 #7 v=-2",
    "a" * 250 + " 1",
    "",
]


def duckdb_templates(messages: list[str]) -> list[str]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, m VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(messages)))
    return [
        row[0] for row in con.execute(f"SELECT {template_sql('m')} FROM t ORDER BY i").fetchall()
    ]


def test_tricky_lines_mask_as_in_duckdb() -> None:
    assert [mask_template(m) for m in TRICKY] == duckdb_templates(TRICKY)


def test_random_lines_mask_as_in_duckdb() -> None:
    rng = random.Random(3)
    alphabet = "ab09xX=:.-#<_ \t\n\x0bé١/@fF"
    lines = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    assert [mask_template(m) for m in lines] == duckdb_templates(lines)


def test_every_synthetic_line_masks_as_the_replay_store_stored_it(
    synthetic: SyntheticDataset,
) -> None:
    rows = synthetic.open().store.cursor().execute("SELECT message, template FROM logs").fetchall()
    assert rows
    assert all(mask_template(message) == template for message, template in rows)
    assert all(len(mask_template(m)) <= TEMPLATE_CHARS for m, _ in rows)
