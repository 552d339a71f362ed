"""The rule engine: a catalogue of rules (SQL templates and numba kernels filled by the
knowledge base) run over the claims lake, every hit explained by its lines."""
