"""The baseline install step: pinned, and a no-op when the pins are in place."""

from __future__ import annotations

import pytest

from evals.baselines import install


def test_every_pin_is_an_exact_version() -> None:
    assert set(install.PINS) == {"RCAEval", "causal-learn", "momentchi2", "pydot"}
    assert all(v.count(".") >= 2 and v[0].isdigit() for v in install.PINS.values())


def test_missing_pins_lists_absent_and_mismatched_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = {"a": "1.0.0", "b": "2.0.0"}
    monkeypatch.setattr(install, "installed_version", versions.get)
    pins = {"a": "1.0.0", "b": "2.1.0", "c": "0.1.0"}
    assert install.missing_pins(pins) == ["b==2.1.0", "c==0.1.0"]


def test_main_does_nothing_when_every_pin_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "missing_pins", lambda pins=install.PINS: [])

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip or python was run although nothing was missing")

    monkeypatch.setattr(install.subprocess, "run", no_subprocess)
    assert install.main([]) == 0
