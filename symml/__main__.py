from symml.cli.main import run

run()
