"""`python -m albert_mlm`: the command line."""

import sys

from albert_mlm.cli import main

sys.exit(main())
