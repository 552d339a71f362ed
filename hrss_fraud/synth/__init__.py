"""The synthetic county: realistic uploads with injected schemes and their truth."""
