"""The ``cool`` command-line client (cliff), like openstackclient."""
