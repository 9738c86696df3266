"""Exceptions that stop a whole run (exit code 2), importable without the heavy rendering libraries."""


class TemplateProblem(Exception):
    """A template that cannot be used; stops the run (it is not bad input)."""
