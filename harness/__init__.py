"""Running cool's parts on one machine: for the local system and for tests."""
