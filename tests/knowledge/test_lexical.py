"""The words half of the hybrid search: English and Japanese terms, BM25, the fusion."""

from __future__ import annotations

from knowledge.lexical import LexicalIndex, fuse, terms


def test_japanese_is_cut_into_dictionary_forms_with_english_glosses() -> None:
    found = terms("在庫サービスのPodがメモリ不足でOOMKilledされ、決済が止まった")
    assert {"在庫", "pod", "メモリー", "memory", "不足", "oom", "killed", "決済", "止まる"} <= set(
        found
    )
    assert "が" not in found and "の" not in found, "particles carry no meaning"


def test_alert_names_split_at_their_humps_and_full_width_is_folded() -> None:
    assert terms("KubePodOOMKilled fires") == [
        "kubepodoomkilled",
        "kube",
        "pod",
        "oom",
        "killed",
        "fire",
    ]
    assert terms("ＯＯＭ　５０３エラー") == ["oom", "503", "エラー", "error"]


def test_bm25_ranks_by_shared_words_and_honours_the_time_filter() -> None:
    index = LexicalIndex(
        ["a", "b", "c"],
        [
            terms("redis evicted session keys"),
            terms("disk full on search"),
            terms("redis failover"),
        ],
        [10.0, 10.0, 50.0],
    )
    scores = index.scores(terms("Redisのセッションキーが消えた evicted"))
    assert [i for i, _ in index.top(scores, 5, before=100.0)] == ["a", "c"]
    assert [i for i, _ in index.top(scores, 5, before=20.0)] == ["a"], "c was not yet available"
    assert index.top(index.scores(terms("nothing shared")), 5, before=100.0) == []


def test_fusion_puts_first_in_both_at_one_and_ignores_records_sharing_no_word() -> None:
    fused = fuse({"a": 0.9, "b": 0.8, "c": 0.1}, {"a": 3.0, "b": 0.0, "c": 5.0})
    assert fused["a"] > fused["b"] and fused["c"] > 0
    assert abs(fuse({"a": 0.9}, {"a": 1.0})["a"] - 1.0) < 1e-9
