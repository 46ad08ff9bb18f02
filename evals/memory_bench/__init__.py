"""The memory retrieval benchmark: responders' questions in English and Japanese over the
seed corpus, scored recall@1, recall@3 and MRR per direction (EN->EN, JA->JA, JA->EN,
EN->JA). `triage eval-memory` runs it (evals/memory_bench/cli.py)."""
