"""A real Keystone on loopback (:mod:`.server`), its virtual environment, its
bootstrapped template and its admin API."""
