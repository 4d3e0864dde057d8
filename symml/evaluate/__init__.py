"""Numbers for expressions: sampling in declared domains, certified enclosures, and
expansion of matrix and sum expressions at concrete sizes."""
