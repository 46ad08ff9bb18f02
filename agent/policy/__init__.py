"""The incident policy file: teams, services, severity, rotations, escalation."""

from agent.policy.errors import PolicyError
from agent.policy.load import default_policy, load_policy, parse_policy
from agent.policy.models import Policy

__all__ = ["Policy", "PolicyError", "default_policy", "load_policy", "parse_policy"]
