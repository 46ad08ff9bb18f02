"""The optional LLM investigator: re-ranks the deterministic suspects, or falls back.

Off by default (LLMConfig.enabled); see docs/llm.md.
"""
