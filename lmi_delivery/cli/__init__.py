"""The ``lmi-delivery`` command line: the only layer that knows click, argv and exit codes.

It owns the command registry (each command's one help text is its docstring), the shared
options, and the edge where the process environment is read once and handed down as values;
``main`` maps the :mod:`lmi_delivery.errors` hierarchy to exit codes. It never holds delivery
logic: each command parses its options, calls one function of a domain package and renders
the result.
"""
