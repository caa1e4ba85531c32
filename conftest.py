"""Plugins for the whole suite, including the notebooks that nbval collects outside tests/."""

pytest_plugins = ["tests.nbval_memory"]
