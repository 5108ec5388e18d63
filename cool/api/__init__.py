"""Step 1: the REST API (WSGI), its auth wiring, policy, handlers and error rendering.

The only package that imports the web framework and keystonemiddleware.
"""
