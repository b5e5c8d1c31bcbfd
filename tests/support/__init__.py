"""Test-only helpers: writers of the formats the package reads."""
