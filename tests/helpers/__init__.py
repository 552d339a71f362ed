"""Helpers the tests import as ``helpers.<module>`` (``pythonpath`` in pyproject.toml's
pytest section puts tests/ on the path): hand-made rows and runs, accounts, staff, and the
shared builds of ``shared``."""
