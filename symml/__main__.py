import sys

from symml.cli import main

sys.exit(main())
