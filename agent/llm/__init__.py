"""The optional LLM investigator: re-ranks the deterministic suspects, or falls back.

Off by default (LLMConfig.enabled); see docs/llm.md.
"""

from agent.llm.config import LLMConfig, LLMConfigError, chat_model
from agent.llm.investigate import LLMOutcome, llm_engine, llm_isolation

__all__ = [
    "LLMConfig",
    "LLMConfigError",
    "LLMOutcome",
    "chat_model",
    "llm_engine",
    "llm_isolation",
]
