"""The frozen application's entry point (PyInstaller runs a script, not a console script)."""

import sys

from bsgbat_gui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
