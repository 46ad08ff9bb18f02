"""The incident memory: past incidents and runbooks the triage recalls (docs/memory.md).

Self-contained: it uses tools/ (the replay format's fault types) and never the
agent or the evals; the agent uses it (tests/test_layering.py holds that).

memory     the interface the agent uses (RecallQuery, Recollection, IncidentMemory,
           LearnsResolved)
config     the `memory:` section of triage.yaml
records    PastIncident (also what the memory learns from a resolved incident), Runbook
ingest     postmortem/runbook markdown with front matter, JSON, JSON lines
embeddings offline multilingual USE v3 (default) and MiniLM (hash-checked), Bedrock Titan
           v2, registered with chromadb
lexical    English and Japanese terms (MeCab + UniDic), BM25, the fusion of two rankings
store      the chromadb collections (embedded, or a `chroma run` server)
retrieve   recall and search: hybrid (meaning + words) search under filters, re-ranked
           by shared signals;
           ChromaMemory.remember_resolved(record) stores a resolved incident
bench      search latency at 100k records

The `triage kb` command is the application's (agent/kb_cli.py): it reads triage.yaml.
"""
