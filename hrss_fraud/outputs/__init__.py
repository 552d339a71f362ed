"""Run outputs: what is read from a published run for people and other systems — the
dashboard marts and the data views behind its pages, risk rankings, flagged shares, the
findings, cases and data-quality exports."""
