"""The words half of the memory's hybrid search: terms of English and Japanese text, and BM25.

Japanese has no spaces, so its runs are cut into words by MeCab (fugashi) with
the UniDic dictionary (unidic-lite, from PyPI), keeping content words in their
dictionary form (止まった -> 止まる). UniDic glosses loanwords in English
(メモリ -> "メモリー-memory"), and the gloss is kept as a term too, so 「メモリ不足」
also matches "memory". Latin runs are lower-cased, alert names split at their
humps (KubePodOOMKilled -> kube, pod, oom, killed, and the whole name), plurals
dropped. Both languages share one vocabulary, so mixed text ("PodがOOMKilled")
needs nothing special.

The index is BM25 (bm25s) over every stored record's terms, held in memory and
rebuilt from the collection's metadata (knowledge.store keeps each record's terms
there), so an embedded store and a Chroma server search alike.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff々〆ヵヶ]+")
RUNS = re.compile(r"[A-Za-z0-9]+|[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff々〆ヵヶ]+")
HUMPS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# UniDic parts of speech that carry meaning (particles, auxiliaries, symbols do not).
CONTENT = frozenset({"名詞", "動詞", "形容詞", "形状詞", "接頭辞", "副詞", "代名詞"})
# Dictionary forms too common to tell incidents apart (する, いる, ある, なる, こと, ...).
JA_STOP = frozenset(
    {"為る", "居る", "有る", "成る", "無い", "事", "物", "様", "為", "其れ", "此れ"}
)
EN_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "up",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
K1, B = 1.2, 0.75
RRF_K = 10  # small: the first few places of each ranking count most
WORDS_WEIGHT = 0.5  # the meaning carries across languages; the words sharpen within one


@cache
def _tagger() -> tuple[Any, threading.Lock]:
    """MeCab with UniDic, created once per process (a tagger is not thread-safe)."""
    import fugashi

    return fugashi.Tagger(), threading.Lock()


def terms(text: str) -> list[str]:
    """The words of `text` that a search matches on, in order (repeats kept for BM25)."""
    found: list[str] = []
    for run in RUNS.findall(unicodedata.normalize("NFKC", text)):
        found += _japanese(run) if JAPANESE.fullmatch(run) else _latin(run)
    return found


def _latin(word: str) -> list[str]:
    lower = word.lower()
    if lower in EN_STOP:
        return []
    parts = [_singular(p.lower()) for p in HUMPS.findall(word)]
    return [_singular(lower)] + (parts if len(parts) > 1 else [])


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _japanese(run: str) -> list[str]:
    tagger, lock = _tagger()
    with lock:
        words = [(w.surface, w.feature.lemma, w.feature.pos1) for w in tagger(run)]
    found: list[str] = []
    for surface, lemma, pos in words:
        if pos not in CONTENT:
            continue
        base, _, gloss = (lemma or surface).partition("-")
        if base in JA_STOP or (len(base) == 1 and "\u3040" <= base <= "\u309f"):
            continue
        found.append(base)
        if gloss and gloss.isascii():
            found += _latin(gloss)
    return found


class LexicalIndex:
    """BM25 over one collection's records: ids, their terms and when each became available."""

    def __init__(
        self, ids: Sequence[str], words: Sequence[Sequence[str]], available: Sequence[float]
    ):
        import bm25s

        self.ids = list(ids)
        self.row = {record_id: i for i, record_id in enumerate(self.ids)}
        self.available = np.asarray(available, dtype=np.float64)
        self.bm25 = bm25s.BM25(k1=K1, b=B)
        if self.ids:
            self.bm25.index([list(w) for w in words], show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """Every record's BM25 score for the query's terms (0 for a record sharing none)."""
        vocabulary = getattr(self.bm25, "vocab_dict", None) or {}
        known = [t for t in dict.fromkeys(query) if t in vocabulary]
        if not self.ids or not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)

    def top(self, scores: np.ndarray, n: int, before: float) -> list[tuple[str, float]]:
        """The `n` best-scoring records available before `before` (epoch seconds), score > 0."""
        allowed = np.where((scores > 0) & (self.available < before))[0]
        if n <= 0 or allowed.size == 0:
            return []
        if allowed.size > n:
            allowed = allowed[np.argpartition(-scores[allowed], n - 1)[:n]]
        ordered = sorted(allowed, key=lambda i: (-scores[i], self.ids[i]))
        return [(self.ids[i], float(scores[i])) for i in ordered]

    def score_of(self, scores: np.ndarray, record_id: str) -> float:
        row = self.row.get(record_id)
        return float(scores[row]) if row is not None else 0.0


def fuse(meaning: Mapping[str, float], words: Mapping[str, float]) -> dict[str, float]:
    """Reciprocal rank fusion of a ranking by meaning (cosine) and one by words (BM25; only
    what shares a word takes part), scaled so that first in both is 1."""
    fused = dict.fromkeys(meaning, 0.0)
    by_meaning = sorted(meaning, key=lambda key: (-meaning[key], key))
    by_words = sorted((k for k in words if words[k] > 0), key=lambda key: (-words[key], key))
    for weight, ranking in ((1.0, by_meaning), (WORDS_WEIGHT, by_words)):
        for place, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (RRF_K + place)
    best = (1.0 + WORDS_WEIGHT) / (RRF_K + 1)
    return {key: value / best for key, value in fused.items()}
