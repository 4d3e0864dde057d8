"""The verification engine: a claim in, a verdict out (symbolic and numeric checks,
properties, framework comparisons, the gradient API and the proof cache)."""
