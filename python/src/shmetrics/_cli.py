"""The ``shmetricsd`` and ``shmtool`` commands of the wheel: each execs the
binary shipped in the package, with the same arguments."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from . import _aggregator


def _exec(path: str) -> NoReturn:
    os.execv(path, [path, *sys.argv[1:]])


def shmetricsd() -> NoReturn:
    """Run the aggregator: ``shmetricsd --help``."""
    _exec(_aggregator.shmetricsd_path())


def shmtool() -> NoReturn:
    """Inspect a segment: ``shmtool --help``."""
    _exec(_aggregator.shmtool_path())
