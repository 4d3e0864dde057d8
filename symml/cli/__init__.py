"""The command line: ``symml <command>``, one module per command group."""
