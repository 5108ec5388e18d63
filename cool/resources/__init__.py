"""Resource types: their schemas and attributes (and, later, their providers)."""
