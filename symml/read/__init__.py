"""Reading ML formulas written in LaTeX or in a formula sheet's plain Unicode math."""

from symml.read.errors import LatexParseError
from symml.read.latex import Reading, parse_latex, read_latex
from symml.read.shapes import ShapeDeclaration, shape_declarations
from symml.read.statements import Statement, read_statements, split_statements
from symml.read.table import SymbolTable

__all__ = [
    "LatexParseError",
    "Reading",
    "ShapeDeclaration",
    "Statement",
    "SymbolTable",
    "parse_latex",
    "read_latex",
    "read_statements",
    "shape_declarations",
    "split_statements",
]
