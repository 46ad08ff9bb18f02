"""The embedding functions: the offline models are hash-checked; Titan speaks Bedrock's API."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from chromadb.utils.embedding_functions import known_embedding_functions

from knowledge.config import TITAN_MODEL, EmbeddingConfig
from knowledge.embeddings import (
    EmbeddingError,
    MiniLMEmbedding,
    MultilingualEmbedding,
    TitanEmbedding,
    default_model_path,
    embedding_from_config,
)


def test_minilm_embeds_offline_normalised_and_similar_texts_are_near() -> None:
    vectors = np.array(
        MiniLMEmbedding()(
            [
                "payment service returns errors after a deploy",
                "payments failing since the new release of the payment service",
                "disk full on the search nodes",
            ]
        )
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2


def test_the_multilingual_model_puts_a_japanese_question_near_its_english_incident() -> None:
    vectors = np.array(
        MultilingualEmbedding()(
            [
                "inventory pods OOMKilled and restarting again and again",
                "在庫サービスのPodがメモリ不足でOOMKilledされ再起動を繰り返している",
                "証明書の期限切れで決済結果の通知が届かない",
            ]
        )
    )
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[1] @ vectors[2] + 0.2


def test_a_tampered_model_file_fails_the_hash_check_clearly(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(default_model_path(), copy)
    with copy.open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbeddingError) as caught:
        MiniLMEmbedding(model_path=str(copy)).load()
    message = str(caught.value)
    assert str(copy) in message and "sha256" in message and "does not match" in message


def test_a_missing_model_file_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match=r"missing; install .*knowledge\.install"):
        MiniLMEmbedding(model_path=str(tmp_path / "nope.onnx")).load()


def test_both_embedding_functions_are_registered_with_chromadb() -> None:
    assert known_embedding_functions[MiniLMEmbedding.name()] is MiniLMEmbedding
    assert known_embedding_functions[MultilingualEmbedding.name()] is MultilingualEmbedding
    assert known_embedding_functions[TitanEmbedding.name()] is TitanEmbedding
    rebuilt = TitanEmbedding.build_from_config(TitanEmbedding(dimensions=256).get_config())
    assert isinstance(rebuilt, TitanEmbedding) and rebuilt.dimensions == 256


def _titan_reply(vector: list[float]) -> dict[str, object]:
    body = json.dumps({"embedding": vector, "inputTextTokenCount": 3}).encode()
    return {"body": StreamingBody(io.BytesIO(body), len(body)), "contentType": "application/json"}


def test_titan_calls_invoke_model_with_the_v2_request_body() -> None:
    client = boto3.client("bedrock-runtime", region_name="ap-northeast-1")
    embedding = TitanEmbedding(dimensions=256, client=client)
    with Stubber(client) as stub:
        for text, vector in (("first text", [0.6, 0.8]), ("second", [1.0, 0.0])):
            expected = {
                "modelId": TITAN_MODEL,
                "body": json.dumps({"inputText": text, "dimensions": 256, "normalize": True}),
                "contentType": "application/json",
                "accept": "application/json",
            }
            stub.add_response("invoke_model", _titan_reply(vector), expected)
        vectors = embedding(["first text", "second"])
        stub.assert_no_pending_responses()
    assert [list(np.round(v, 3)) for v in vectors] == [[0.6, 0.8], [1.0, 0.0]]


def test_titan_errors_become_embedding_errors() -> None:
    client = boto3.client("bedrock-runtime", region_name="ap-northeast-1")
    with Stubber(client) as stub:
        stub.add_client_error("invoke_model", "AccessDeniedException", "not allowed")
        with pytest.raises(EmbeddingError, match="AccessDeniedException"):
            TitanEmbedding(client=client)(["text"])


def test_the_config_chooses_the_embedding() -> None:
    assert isinstance(embedding_from_config(EmbeddingConfig()), MultilingualEmbedding)
    minilm = embedding_from_config(EmbeddingConfig(provider="minilm"))
    assert isinstance(minilm, MiniLMEmbedding)
    titan = embedding_from_config(EmbeddingConfig(provider="titan", dimensions=512))
    assert isinstance(titan, TitanEmbedding) and titan.dimensions == 512
