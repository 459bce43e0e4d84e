"""The ``oncotrials`` command line."""
