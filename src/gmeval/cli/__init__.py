"""`gmeval` command line: a thin argparse shell over the library.

Each subcommand lives in its own module with `register(subparsers)`; heavy imports happen inside
the command's function so `gmeval --help` stays fast. Unknown flags are errors (strict parsing).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from .. import __version__
from ..errors import GmevalError

#: subcommand modules, in help order
COMMAND_MODULES = ("train", "sample", "datasets", "evaluate", "compare", "sanity", "stats", "text", "human", "classifier", "weights")


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line (flag, allowed values, given value), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"gmeval: warning: {message}\n"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gmeval", description="Train generative models and evaluate them honestly.")
    parser.add_argument("--version", action="version", version=f"gmeval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{mod_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{mod_name}":
                continue  # command not built (yet)
            raise
        mod.register(sub)
    return parser


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def main(argv=None) -> int:
    import warnings

    from ..utils.io import STORAGE_ERRNOS, as_storage_error

    warnings.formatwarning = _one_line_warning  # warnings are one line on the command line
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from .. import distributed as gdist

        if gdist.launched_by_torchrun():  # torchrun --nproc-per-node N -m gmeval ...: the one place the group starts
            gdist.init_distributed()
        return int(args.func(args) or 0)
    except GmevalError as exc:
        print(f"gmeval {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, permission denied, ... outside the wrapped writes
        if exc.errno not in STORAGE_ERRNOS:
            raise
        print(f"gmeval {args.command}: error: {as_storage_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
