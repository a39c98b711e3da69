"""Quiz content: cards (cards/<topic>.toml), their sources (references.toml) and formulas.py."""
