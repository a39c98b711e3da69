"""Concept drills: the engine (engine.py), the cards (cards/<topic>.toml), their sources
(references.toml) and formulas.py, which computes every numeric answer."""
