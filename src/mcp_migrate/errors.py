"""Errors that end a run with exit code 2 and one clear line, never a traceback."""


class UsageError(Exception):
    """A bad path, option or configuration value supplied by the user."""


class ParseError(Exception):
    """A file a parser rejected; the message says where."""
