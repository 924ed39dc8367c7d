"""The subcommands of the ``paicha`` command line, one small module each.

A module here parses options and prints; the work lives in the package it names
(``paicha schemas`` calls ``schemas.export``). ``paicha.cli`` registers them.
"""
