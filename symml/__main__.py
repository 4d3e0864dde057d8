import sys

from symml.cli.main import main

sys.exit(main())
