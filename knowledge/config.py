"""The `memory:` section of triage.yaml: where the incident memory lives and how it embeds.

Defaults work offline on a fresh machine: a chromadb store under the data
directory and the bundled multilingual sentence encoder. A Chroma server URL moves the store out
of process (the scale-out path); Titan moves embedding to Bedrock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TITAN_MODEL = "amazon.titan-embed-text-v2:0"
EmbeddingProvider = Literal["multilingual", "minilm", "titan"]


class EmbeddingConfig(BaseModel):
    """Which model turns text into vectors. Changing it starts a new collection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: EmbeddingProvider = Field(
        "multilingual",
        description="'multilingual' (offline, bundled, Japanese and English), 'minilm'"
        " (offline, English only) or 'titan' (Bedrock).",
    )
    model: str = Field(TITAN_MODEL, description="titan: the Bedrock model id.")
    dimensions: Literal[256, 512, 1024] = Field(1024, description="titan: vector size.")
    region: str | None = Field(None, description="titan: AWS region; None: AWS defaults.")
    endpoint_url: str | None = Field(None, description="titan: override the runtime endpoint.")


class MemoryConfig(BaseModel):
    """Where past incidents and runbooks are kept, and whether the triage uses them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Recall similar incidents during triage.")
    path: Path | None = Field(None, description="Embedded store folder; default <data dir>/memory.")
    server_url: str | None = Field(
        None, description="A `chroma run` server (http://host:port); overrides `path`."
    )
    collection: str = Field(
        "triage-memory",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,40}$",
        description="Collection name prefix; the embedding model's tag is appended.",
    )
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    lift: bool = Field(True, description="Let matching past incidents re-rank suspects.")

    def store_path(self, home: Path) -> Path:
        return self.path or home / "memory"
