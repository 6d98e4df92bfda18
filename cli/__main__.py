import sys

from rlmodules.cli import main

sys.exit(main())
