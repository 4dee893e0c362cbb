"""``python -m tools.sandbox serve|say|config ...`` (from the addon directory): see ``cli.py``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
