"""The harness: cool's parts and the services it talks to, run on one machine.

For tests, benchmarks and the local system of ``./scripts/run.sh``. It lives in
the checkout, beside ``cool/``, and is not part of the wheel: nothing in ``cool``
imports it.
"""
