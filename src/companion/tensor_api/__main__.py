"""``python -m companion.tensor_api``: the NumPy-spelling report, as JSON."""

import sys

from companion.tensor_api.spelling import main

sys.exit(main())
