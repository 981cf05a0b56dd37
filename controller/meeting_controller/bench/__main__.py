"""``python -m meeting_controller.bench``: the same as ``meeting-controller bench``."""

from __future__ import annotations

import sys

from meeting_controller.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
