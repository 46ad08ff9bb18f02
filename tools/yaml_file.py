"""Reading a settings file (triage.yaml) as YAML: every way it can be unreadable is one
line that names the file, never a traceback. Shared by the agent's config, the
tools that read only their own section of it (`triage doctor`) and the memory's
front matter (`triage kb ingest`), which says where in one line too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlFileError(ValueError):
    """The file cannot be read, is not text, or is not YAML; says which and where."""


def read_yaml(path: Path) -> Any:
    """The file's YAML document (an empty file is {}), or YamlFileError in one line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise YamlFileError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise YamlFileError(
            f"{path}: not UTF-8 text (byte {error.start}); a YAML file was expected"
        ) from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise YamlFileError(f"{path}: not valid YAML: {yaml_problem(error)}") from None


def yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's message on one line: where (line, column) and what."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return " ".join(str(error).split())
