"""Errors that the CLI turns into one clear line and exit status 2."""


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the problem."""
