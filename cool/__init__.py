"""cool: a reliable, distributed build service for OpenStack clouds."""

__version__ = "0.1.0"
