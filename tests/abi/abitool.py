"""Pieces shared by the ABI check scripts: argument parsing, C comment stripping, and
the exit statuses meson reads (77 skipped, 99 the check itself could not run)."""

import argparse
import re
import sys

SKIP, ERROR = 77, 99


class Unrunnable(Exception):
    """The check cannot run (missing tool, unreadable input): no finding either way."""


class Parser(argparse.ArgumentParser):
    """A usage error is the check failing to run, not a finding: exit 99."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(ERROR)


def strip_c_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def run(check, *args):
    """check(*args)'s status, or 99 with the message when it raises Unrunnable."""
    try:
        return check(*args)
    except Unrunnable as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return ERROR
