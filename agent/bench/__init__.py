"""`triage bench`: measurements of a deployment on this machine (docs/scale.md)."""
