"""The built-in catalog: one file per part of the reference formula sheet.

Files here only declare (see ``symml.catalog.declare``); ``symml.catalog.loader`` loads them by path.
"""
