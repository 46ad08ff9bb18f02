"""A replay dataset parsed once into a DuckDB file and reopened from cache.

Parsing a day of Nezha TrainTicket (a million metric rows, hundreds of MB of
logs) takes tens of seconds; querying a case window from the parsed file takes
milliseconds. The cache key covers every input file's size and mtime plus the
ingest version, so an edited dataset or a changed parser rebuilds it. Builds
write to a temporary file and rename it, so concurrent runs never see half a
cache.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
import threading
from pathlib import Path

import duckdb
import platformdirs

from tools.telemetry.replay.format import (
    DatasetFormatError,
    DatasetInfo,
    find_file,
    load_info,
    partitions,
)

# Bump when the parsed layout or the template masking changes.
INGEST_VERSION = "4"
# The CSV tables' headers (docs/replay-format.md): columns are read by position, so a
# relabelled or reordered header would silently put values in the wrong columns.
CSV_HEADERS = {
    "metrics": ("ts", "service", "instance", "metric", "value"),
    "traces": (
        "ts", "trace_id", "span_id", "parent_span_id", "service", "instance", "operation",
        "duration_ms", "status",
    ),
}  # fmt: skip

# Variable parts of a log line, masked so that equal templates mean the same code
# path: ids, addresses and free numbers go; numbers glued to a name (line numbers
# like `Impl#31`, versions like `v2`) stay because they identify the code.
TEMPLATE_MASKS: tuple[tuple[str, str], ...] = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<UUID>"),
    (r"\b[0-9a-fA-F]{12,}\b", "<HEX>"),
    (r"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b", "<IP>"),
    (r"([=:]\s?)[A-Za-z]*\d[\w.\-]*", r"\1<V>"),
    (r"(^|[^\w#.<])-?\d+(\.\d+)?", r"\1<N>"),
)
TEMPLATE_CHARS = 200


def cache_root() -> Path:
    """TRIAGE_CACHE_DIR, else the per-user cache directory."""
    override = os.environ.get("TRIAGE_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("incident-triage"))


def template_sql(column: str) -> str:
    """A DuckDB expression masking `column` into its log template."""
    expr = column
    for pattern, replacement in TEMPLATE_MASKS:
        expr = f"regexp_replace({expr}, '{_sql_text(pattern)}', '{_sql_text(replacement)}', 'g')"
    return f"left({expr}, {TEMPLATE_CHARS})"


def _re2_compatible(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled to match as DuckDB's RE2 does: ASCII classes, and `\\s`
    without the vertical tab (RE2's `\\s` is [\\t\\n\\f\\r ])."""
    return re.compile(pattern.replace(r"\s", r"[\t\n\f\r ]"), re.ASCII)


_PY_MASKS = tuple((_re2_compatible(p), r) for p, r in TEMPLATE_MASKS)


def mask_template(message: str) -> str:
    """The template of one log line, equal to what `template_sql` computes in DuckDB,
    for stores that hand back raw lines (CloudWatch Logs, ...)."""
    for pattern, replacement in _PY_MASKS:
        message = pattern.sub(replacement, message)
    return message[:TEMPLATE_CHARS]


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(f"'{_sql_text(str(p))}'" for p in paths) + "]"


class ReplayStore:
    """One dataset's telemetry as DuckDB tables: metrics, logs, spans."""

    _lock = threading.Lock()

    def __init__(self, root: Path, cache_dir: Path | None = None) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise DatasetFormatError(f"{root}: no such dataset folder")
        self.info: DatasetInfo = load_info(self.root)
        self.cache_dir = cache_dir or cache_root() / "replay"
        self.path = self.cache_dir / f"{self.info.name}-{self._fingerprint()}.duckdb"
        self.built_now = False
        with self._lock:
            if not self.path.exists():
                self._build()
                self.built_now = True
        self.connection = duckdb.connect(str(self.path), read_only=True)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for the calling thread."""
        return self.connection.cursor()

    def close(self) -> None:
        self.connection.close()

    # -- cache key ---------------------------------------------------------------
    def _inputs(self) -> list[Path]:
        return [
            *partitions(self.root / "metrics", ".csv"),
            *partitions(self.root / "logs", ".jsonl"),
            *partitions(self.root / "traces", ".csv"),
        ]

    def _fingerprint(self) -> str:
        digest = hashlib.sha256(f"{INGEST_VERSION}|{self.root}".encode())
        for path in self._inputs():
            stat = path.stat()
            digest.update(f"|{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    # -- build -------------------------------------------------------------------
    def _build(self) -> None:
        for table, header in CSV_HEADERS.items():
            for path in partitions(self.root / table, ".csv"):
                check_header(path, header)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        con.execute("SET enable_progress_bar = false")
        try:
            self._load_metrics(con)
            self._load_logs(con)
            self._load_spans(con)
            con.execute("CHECKPOINT")
        except duckdb.Error as error:
            con.close()
            tmp.unlink(missing_ok=True)
            raise DatasetFormatError(
                f"{self.root}: cannot parse telemetry: {_gist(error)}"
            ) from None
        con.close()
        os.replace(tmp, self.path)

    def _load_metrics(self, con: duckdb.DuckDBPyConnection) -> None:
        files = partitions(self.root / "metrics", ".csv")
        if not files:
            con.execute(
                "CREATE TABLE metrics (t DOUBLE, service VARCHAR, instance VARCHAR,"
                " metric VARCHAR, value DOUBLE)"
            )
            return
        con.execute(
            f"""CREATE TABLE metrics AS
            SELECT epoch_us(ts::TIMESTAMPTZ) / 1e6 AS t, service,
                   coalesce(instance, '') AS instance, metric, value
            FROM read_csv({_sql_list(files)}, header = true,
                 columns = {{'ts': 'VARCHAR', 'service': 'VARCHAR', 'instance': 'VARCHAR',
                            'metric': 'VARCHAR', 'value': 'DOUBLE'}})
            ORDER BY t"""
        )

    def _load_logs(self, con: duckdb.DuckDBPyConnection) -> None:
        files = partitions(self.root / "logs", ".jsonl")
        if not files:
            con.execute(
                "CREATE TABLE logs (t DOUBLE, service VARCHAR, instance VARCHAR, level VARCHAR,"
                " message VARCHAR, template VARCHAR, trace_id VARCHAR)"
            )
            return
        con.execute(
            f"""CREATE TABLE logs AS
            SELECT epoch_us(ts::TIMESTAMPTZ) / 1e6 AS t, service,
                   coalesce(instance, '') AS instance, upper(coalesce(level, '')) AS level,
                   coalesce(message, '') AS message,
                   {template_sql("coalesce(message, '')")} AS template, trace_id
            FROM read_json({_sql_list(files)}, format = 'newline_delimited',
                 columns = {{'ts': 'VARCHAR', 'service': 'VARCHAR', 'instance': 'VARCHAR',
                            'level': 'VARCHAR', 'message': 'VARCHAR', 'trace_id': 'VARCHAR'}})
            ORDER BY t"""
        )

    def _load_spans(self, con: duckdb.DuckDBPyConnection) -> None:
        files = partitions(self.root / "traces", ".csv")
        if not files:
            con.execute(
                "CREATE TABLE spans (t DOUBLE, trace_id VARCHAR, service VARCHAR,"
                " instance VARCHAR, operation VARCHAR, duration_ms DOUBLE, self_ms DOUBLE,"
                " status VARCHAR, parent_service VARCHAR, child_service VARCHAR)"
            )
            return
        con.execute(
            f"""CREATE TEMP TABLE raw_spans AS
            SELECT epoch_us(ts::TIMESTAMPTZ) / 1e6 AS t, trace_id, span_id,
                   coalesce(parent_span_id, '') AS parent_span_id, service,
                   coalesce(instance, '') AS instance, coalesce(operation, '') AS operation,
                   coalesce(duration_ms, 0) AS duration_ms, lower(coalesce(status, '')) AS status
            FROM read_csv({_sql_list(files)}, header = true,
                 columns = {{'ts': 'VARCHAR', 'trace_id': 'VARCHAR', 'span_id': 'VARCHAR',
                            'parent_span_id': 'VARCHAR', 'service': 'VARCHAR',
                            'instance': 'VARCHAR', 'operation': 'VARCHAR',
                            'duration_ms': 'DOUBLE', 'status': 'VARCHAR'}})"""
        )
        # Self time and the services across each call edge, computed once here
        # so every triage reads them instead of joining spans again.
        con.execute(
            """CREATE TABLE spans AS
            WITH children AS (
                SELECT trace_id, parent_span_id AS span_id, sum(duration_ms) AS child_ms,
                       arg_max(service, duration_ms) AS child_service
                FROM raw_spans WHERE parent_span_id <> '' GROUP BY ALL)
            SELECT s.t, s.trace_id, s.service, s.instance, s.operation, s.duration_ms,
                   greatest(s.duration_ms - coalesce(c.child_ms, 0), 0) AS self_ms, s.status,
                   coalesce(p.service, '') AS parent_service,
                   CASE WHEN c.child_service IS NULL OR c.child_service = s.service THEN ''
                        ELSE c.child_service END AS child_service
            FROM raw_spans s
            LEFT JOIN children c ON c.trace_id = s.trace_id AND c.span_id = s.span_id
            LEFT JOIN raw_spans p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
                                  AND s.parent_span_id <> ''
            ORDER BY s.t"""
        )
        con.execute("DROP TABLE raw_spans")


def check_header(path: Path, expected: tuple[str, ...]) -> None:
    """The CSV file's first line is exactly `expected`, else DatasetFormatError saying so."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise DatasetFormatError(f"{path}: cannot read: {error}") from None
    wanted = ",".join(expected)
    if not first.strip():
        raise DatasetFormatError(f"{path}: empty file; expected the header line {wanted}")
    got = [c.strip().strip('"') for c in next(csv.reader([first]))]
    if tuple(got) != expected:
        raise DatasetFormatError(f"{path}: line 1: header is {','.join(got)}; expected {wanted}")


def _gist(error: duckdb.Error) -> str:
    """DuckDB's message cut to what a person needs: its first line, and the file and line
    it names when it names them."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    where = [line for line in lines[1:] if line.startswith(("File:", "Line:", "file:"))]
    return " ".join([lines[0] if lines else type(error).__name__, *where[:2]])[:400]


def topology_file(root: Path) -> Path | None:
    return find_file(root, "topology.json")
