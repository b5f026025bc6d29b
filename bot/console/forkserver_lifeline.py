"""Imported by multiprocessing's forkserver only (its preload list, set by bot.console.lifeline.install):
the forkserver dies with the process that started it, and so does every process it forks."""

import os
import sys

from bot.console.lifeline import PARENT_ENV, forkserver_started

if sys.argv[:1] == ["-c"] and PARENT_ENV in os.environ:  # the forkserver runs `python -c`; never a stray import
    forkserver_started()
