"""Group masked log lines into templates with Drain (drain3).

Lines are masked once at ingest (ids, numbers, addresses); what masking cannot
see (enum values, variable-length lists) Drain folds into wildcards. Only the
first tokens are clustered: they carry the event (logger, line, message) while
the tail is usually payload, whose length would otherwise split one event into
many templates.
"""

from __future__ import annotations

from collections.abc import Iterable

from drain3.drain import Drain

HEAD_TOKENS = 12
SIMILARITY = 0.5


def head(text: str, tokens: int = HEAD_TOKENS) -> str:
    return " ".join(text.split()[:tokens])


def cluster_templates(lines: Iterable[str]) -> dict[str, str]:
    """Map each distinct masked line to its Drain template."""
    distinct = sorted(set(lines))
    drain = Drain(depth=4, sim_th=SIMILARITY, parametrize_numeric_tokens=False)
    cluster_of = {line: drain.add_log_message(head(line))[0].cluster_id for line in distinct}
    templates = {c.cluster_id: c.get_template() for c in drain.clusters}
    return {line: templates[cid] for line, cid in cluster_of.items()}
