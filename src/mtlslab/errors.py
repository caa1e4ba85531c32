"""Exceptions that the kit raises for a user's mistake."""


class InputError(ValueError):
    """A file, value or option that the kit cannot use.

    The message is one sentence that names the value and says what to do, so the
    command line prints it as it is, without a traceback.
    """
