"""The exception long work raises when the person who asked for it asks it to stop."""


class Stopped(Exception):
    """Work was asked to stop (its ``stop`` event was set, from another thread) before it ended."""
