"""The estate simulator: coherent replay/1 telemetry for Sakura Mart's estate.

Real datasets cover a few fault kinds and carry no severity, owners or
attacks; the simulator writes metrics, logs, traces, changes, alerts and truth
for the whole catalogue in config/policy.example.yaml, with faults (and
attacks) planted so the engine, the policy and people can be scored on the
same exercise. docs/simulator.md describes it.
"""
