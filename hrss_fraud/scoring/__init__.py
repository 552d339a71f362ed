"""Scoring: the orchestration that prepares the scoring database, runs the catalogue (rules
and the detectors registered with the engine), groups and publishes a run, full or
incremental."""
