"""Install RCAEval's BARO and NSigma (and only what they import), pinned.

RCAEval's own requirements pin half of PyPI (torch, an old numpy, dvc...), so
it goes in with --no-deps, and so do the few packages its import chain really
needs beyond the `eval` extra (pandas, scikit-learn, scipy, networkx,
matplotlib, requests, tqdm): causal-learn (RCAEval.e2e imports its RCD method
on Python 3.11), and causal-learn's momentchi2 and pydot. Idempotent: when
every pin is already installed it does nothing and returns at once.

    python -m evals.baselines.install [--check]
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

PINS: dict[str, str] = {
    "RCAEval": "1.8.1",
    "causal-learn": "0.1.4.8",
    "momentchi2": "0.1.8",
    "pydot": "4.0.1",
}


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def missing_pins(pins: dict[str, str] = PINS) -> list[str]:
    """`name==version` for every pin not installed at exactly that version."""
    return [f"{n}=={v}" for n, v in pins.items() if installed_version(n) != v]


def import_check() -> str | None:
    """Import BARO and NSigma in a fresh interpreter; the error text, or None when fine."""
    code = "from RCAEval.e2e.baro import baro; from RCAEval.e2e import nsigma"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    todo = missing_pins()
    if todo:
        print(f"installing (--no-deps): {' '.join(todo)}")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *todo]
        if subprocess.run(command, check=False).returncode != 0:
            print("baseline install failed; `triage eval --baselines` will skip BARO and NSigma")
            return 1
    if todo or "--check" in args:
        problem = import_check()
        if problem is not None:
            print(f"RCAEval installed but BARO/NSigma do not import: {problem}")
            return 1
    print("baselines ready: " + ", ".join(f"{n} {v}" for n, v in PINS.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
