from __future__ import annotations

import os

os.environ.setdefault("ONCOTRIALS_TESTING", "1")
