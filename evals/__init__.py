"""The eval harness: replays replay/1 datasets blind, scores the engine, writes the report."""
