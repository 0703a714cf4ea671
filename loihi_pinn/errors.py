"""The one exception type for bad user input: the CLI turns it into a one-line message, exit 2."""


class InputError(ValueError):
    """Bad input from the user (shape, NaN, unknown name, malformed file); the message says the fix."""
