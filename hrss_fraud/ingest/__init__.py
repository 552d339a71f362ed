"""Ingest: read uploads, map layouts, validate, quarantine, commit to the lake."""
