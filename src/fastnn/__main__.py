"""`python -m fastnn`: the command line (see fastnn.cli); with no arguments,
the main job on the bundled digits."""
import sys

from fastnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
