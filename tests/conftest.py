"""Shared fixtures: an isolated parse cache and the synthetic replay dataset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.synthetic import SyntheticDataset, write_dataset
from tools.telemetry.replay.backend import ReplayBackend


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Parsed datasets go to a cache of this session's own, never the developer's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("triage-cache")))
        yield


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory, _isolated_cache: None) -> SyntheticDataset:
    """The synthetic shop with its planted payment fault (tests/support/synthetic.py)."""
    return write_dataset(tmp_path_factory.mktemp("synthetic-shop"))


@pytest.fixture
def backend(synthetic: SyntheticDataset) -> ReplayBackend:
    """The synthetic dataset as of its case's `now`."""
    return synthetic.backend()
