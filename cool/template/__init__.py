"""Step 2: template text -> a validated plan, or every problem located (pure: no I/O)."""
