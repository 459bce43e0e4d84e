"""The shared fixtures (``unit``, ``client_for``, ``journey``, ``screen``) live in tests/conftest.py."""
