"""The built-in catalog: one file per part of the reference formula sheet.

Files here only declare (see ``symml.declare``); ``symml.catalog`` loads them by path.
"""
