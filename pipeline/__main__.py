"""Entry point for `python -m pipeline`."""

import sys

from pipeline.cli import main

# The guard matters: process-pool workers started with "spawn" import this module as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
