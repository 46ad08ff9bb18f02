"""Incident drills: a hidden simulated scenario for a team to work, and a
scorecard holding their answers against the truth and the agent's own run."""
