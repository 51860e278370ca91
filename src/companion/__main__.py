"""``python -m companion``: print the environment report."""

import sys

from companion.environment import main

sys.exit(main())
