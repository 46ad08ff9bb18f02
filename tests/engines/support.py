"""Worker processes for the distributed tests: `python -m agent worker` on a config file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import yaml

from agent.config import TriageConfig
from agent.service.build import STEP_DELAY_ENV
from tests.server.support import ENV


def write_config(config: TriageConfig, path: Path) -> Path:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True)))
    return path


@contextmanager
def process(
    args: list[str], config: Path, home: Path, log: Path, step_delay_s: float = 0.0
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m agent <args>` on `config` and `home`; killed when the block ends."""
    env = {**os.environ, **ENV, STEP_DELAY_ENV: str(step_delay_s)}
    for name in ("TRIAGE_DATABASE_URL", "TRIAGE_QUEUE_URL", "TRIAGE_CHROMA_URL"):
        env.pop(name, None)  # the config file names the test's own engines
    command = [sys.executable, "-m", "agent", *args, "--config", str(config)]
    command += ["--data-dir", str(home)]
    with log.open("ab") as output:
        started = subprocess.Popen(command, env=env, stdout=output, stderr=output, cwd=log.parent)
    try:
        yield started
    finally:
        if started.poll() is None:
            started.kill()
        started.wait(timeout=30)


def worker(
    config: Path, home: Path, log: Path, step_delay_s: float = 0.0
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """One `triage worker` with one triage thread."""
    args = ["worker", "--threads", "1", "--log-level", "warning"]
    return process(args, config, home, log, step_delay_s)
