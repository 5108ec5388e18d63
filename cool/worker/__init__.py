"""Step 4: workers claim builds and run them, step by step."""
