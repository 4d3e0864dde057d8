"""The catalog: the data model of a formula sheet, the declaration API its files use, the
ML primitives its formulas are written in, and the loader that validates every entry."""
