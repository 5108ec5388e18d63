"""The chaos run (``python -m bench.chaos``): builds through the API while workers,
ZooKeeper and cool-api are hurt; :mod:`bench.chaos.run` is the command."""
