"""The science of oncotrials, framework-free.

Nothing under ``oncotrials.core`` imports Django or the web layers; an import-linter contract
enforces it. Everything here is usable from a notebook.
"""
