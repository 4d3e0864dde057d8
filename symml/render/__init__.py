"""Outputs for people: LaTeX and plain text, verdict explanations, the verify report, the
cheat sheet, plots and the JSON form of catalog entries."""
