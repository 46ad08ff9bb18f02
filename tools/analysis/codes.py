"""Integer codes for string columns.

Telemetry arrives as numpy object arrays of strings; sorting those (what
np.unique does) costs far more than hashing them, and a triage factorizes
tens of thousands of rows per column.
"""

from __future__ import annotations

import numpy as np


def factorize(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct values in order of first appearance, and each row's index into them."""
    index: dict[str, int] = {}
    codes = np.fromiter(
        (index.setdefault(str(v), len(index)) for v in values), dtype=np.int64, count=len(values)
    )
    return list(index), codes
