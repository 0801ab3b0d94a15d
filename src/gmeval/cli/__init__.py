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
    """The `gmeval` parser with one subcommand per module of COMMAND_MODULES.

    Usage errors exit with code 2 and one line naming the flag, the allowed values and what was given.

    Returns:
        An argparse.ArgumentParser; each subcommand sets `func`, the function `main` calls.

    Example:
        >>> import contextlib, io
        >>> parser = build_parser()
        >>> sorted(parser._subparsers._group_actions[0].choices)[:4]
        ['classifier', 'compare', 'datasets', 'evaluate']
        >>> parser.parse_args(["stats", "show", "s.npz"]).path
        's.npz'
        >>> out = io.StringIO()
        >>> with contextlib.redirect_stdout(out):
        ...     parser.parse_args(["--help"])
        Traceback (most recent call last):
        ...
        SystemExit: 0
        >>> out.getvalue().splitlines()[0]
        'usage: gmeval [-h] [--version] COMMAND ...'
    """
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
    """Print `obj` as indented JSON with sorted keys (values JSON does not know are printed with str).

    Args:
        obj: JSON-serialisable data; other values (paths, ...) are written as their str.

    Example:
        >>> from pathlib import Path
        >>> print_json({"b": 1, "a": Path("x")})
        {
          "a": "x",
          "b": 1
        }
    """
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def main(argv=None) -> int:
    """Run one `gmeval` command line; the `gmeval` console script.

    A library error (GmevalError, or a storage OSError such as a full disk) is printed as one line
    "gmeval COMMAND: error: ..." on stderr and gives exit code 2, never a traceback.

    Args:
        argv: the arguments without the program name (None: sys.argv[1:]).

    Returns:
        The exit code: 0 on success, 2 on a library error, 130 on Ctrl-C.

    Raises:
        SystemExit: for --help, --version (code 0) and usage errors (code 2), from argparse.

    Example:
        >>> import contextlib, io
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     main(["sample", "missing.pt", "-n", "4", "-o", "out.npz"])
        2
        >>> print(err.getvalue(), end="")
        gmeval sample: error: missing.pt: checkpoint file not found
        >>> with contextlib.redirect_stderr(err):
        ...     main(["train", "mlp-gan", "--steps", "0"])
        Traceback (most recent call last):
        ...
        SystemExit: 2
        >>> print(err.getvalue().splitlines()[-1])
        gmeval train: error: argument --steps: must be an integer >= 1, but got '0' (see gmeval train --help)
    """
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
