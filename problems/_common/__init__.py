"""Helpers shared by several problem specs (generators, checkers). Not part of the harness."""
