"""Debugging tools a book can run: a scripted ``pdb``, NaN guards, readable errors.

A printed page cannot sit at an interactive prompt, so :func:`run_with_pdb`
and :func:`scripted_breakpoints` drive the real ``pdb`` debugger with a list
of commands given in advance, and return what it printed: the same session a
reader would type, recorded. :func:`report_error` prints an expected error as
one readable message. :func:`shorten_paths` removes the parts of file paths
that differ between machines (temporary notebook files, virtual
environments), so printed output stays the same from build to build.

>>> shorten_paths('File "/home/me/.venv/lib/python3.11/site-packages/torch/nn/functional.py"')
'File "torch/nn/functional.py"'
>>> with report_error(ZeroDivisionError):
...     1 / 0
ZeroDivisionError: division by zero
"""

from __future__ import annotations

import bdb
import inspect
import io
import pdb
import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from companion.validation import check_instance, check_int, check_text

# In a source checkout (an editable install) paths inside the repository are
# shown relative to its root; elsewhere the rules below still apply.
_REPOSITORY = Path(__file__).resolve().parents[2]

_PATH_RULES = (
    (
        re.compile(
            re.escape(str(_REPOSITORY)) + r"/(?=(?:tests|docs|examples)/)"
        ),
        "",
    ),
    # Notebook cells run from /tmp/ipykernel_<pid>/<hash>.py (the pid and hash vary).
    (re.compile(r"/[^\s\"'()]*/ipykernel_\d+/\d+\.py"), "<notebook cell>"),
    # AutoGraph writes converted code to a fresh temporary file on every run.
    (
        re.compile(r"/[^\s\"'()]*/__autograph_generated_file\w+\.py"),
        "<autograph code>",
    ),
    # Installed packages and this repository's sources: keep the package-relative part.
    (re.compile(r"/[^\s\"'()]*/(?:site-packages|dist-packages|src)/"), ""),
    # The standard library: keep the module's file name.
    (re.compile(r"/[^\s\"'()]*/lib/python3\.\d+/"), ""),
    # Memory addresses change on every run.
    (re.compile(r"\b0x[0-9a-f]{6,}\b"), "0x..."),
)


def shorten_paths(text: str) -> str:
    """Rewrite machine-specific paths and memory addresses in ``text``."""
    check_instance("text", text, str, what="a string")
    for pattern, replacement in _PATH_RULES:
        text = pattern.sub(replacement, text)
    return text


_FRAME_LINE = re.compile(r'^(\s*)File "[^"]*", line \d+')


def innermost_frames(text: str) -> str:
    """Shorten each run of stack-frame lines in ``text`` to its innermost frame.

    Error messages that embed a stack (TensorFlow's "defined at" lists, for
    example) start with the interpreter's and the notebook kernel's own
    frames; the last frame is the one that points at the user's code.

    >>> stack = [
    ...     "defined at:",
    ...     '  File "a.py", line 1, in <module>',
    ...     '  File "b.py", line 9, in run',
    ...     "    run()",
    ...     "Node: x",
    ... ]
    >>> print(innermost_frames("\\n".join(stack)))
    defined at:
      [1 outer frame]
      File "b.py", line 9, in run
        run()
    Node: x
    """
    lines = text.splitlines()
    result: list[str] = []
    index = 0
    while index < len(lines):
        match = _FRAME_LINE.match(lines[index])
        if not match:
            result.append(lines[index])
            index += 1
            continue
        indent = len(match.group(1))
        blocks: list[list[str]] = []
        while index < len(lines):
            match = _FRAME_LINE.match(lines[index])
            if match and len(match.group(1)) == indent:
                blocks.append([lines[index]])
            elif (
                blocks
                and lines[index].startswith(" " * (indent + 1))
                and not match
            ):
                blocks[-1].append(
                    lines[index]
                )  # the source line under a frame
            else:
                break
            index += 1
        if len(blocks) > 1:
            outer = len(blocks) - 1
            result.append(
                " " * indent
                + f"[{outer} outer frame{'s' if outer > 1 else ''}]"
            )
        result.extend(blocks[-1])
    return "\n".join(result)


def _wrap(text: str, width: int) -> str:
    """Wrap each over-long line of ``text`` at ``width``, keeping its indentation."""
    wrapped = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if len(line) <= width or not line.strip():
            wrapped.append(line)
            continue
        wrapped.extend(
            textwrap.wrap(
                line,
                width,
                subsequent_indent=indent + "  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(wrapped)


@contextmanager
def report_error(
    *expected: type[BaseException],
    max_lines: int | None = None,
    width: int | None = 72,
) -> Iterator[None]:
    """Expect one of ``expected`` inside the block; print it as ``Type: message``.

    The message has paths shortened (see :func:`shorten_paths`), each
    embedded stack cut to its innermost frame (see :func:`innermost_frames`),
    and is cut to ``max_lines`` lines if given; lines longer than ``width``
    characters are wrapped (``width=None`` leaves them). Any other exception
    propagates, and a block that raises nothing is itself an error, so a
    demonstration of a failure cannot silently stop failing.
    """
    if not expected or not all(
        isinstance(e, type) and issubclass(e, BaseException) for e in expected
    ):
        raise TypeError(
            "report_error needs at least one exception class to expect"
        )
    for name, value in (("max_lines", max_lines), ("width", width)):
        if value is not None:
            check_int(name, value, minimum=1)
    try:
        yield
    except expected as error:
        lines = innermost_frames(
            shorten_paths(str(error))
        ).strip().splitlines() or [""]
        if max_lines is not None and len(lines) > max_lines:
            lines = [*lines[:max_lines], "[...]"]
        report = f"{type(error).__name__}: " + "\n".join(lines)
        print(report if width is None else _wrap(report, width))
    else:
        names = ", ".join(e.__name__ for e in expected)
        raise AssertionError(f"expected {names}, but the block raised nothing")


# IPython kernels replace ``pdb.Pdb`` with IPython's debugger (coloured output,
# its own stepping); a transcript in a book should be the standard library's.
_STANDARD_PDB = next(
    cls
    for cls in pdb.Pdb.__mro__
    if cls.__module__ == "pdb" and cls.__name__ == "Pdb"
)


class ScriptedPdb(_STANDARD_PDB):
    """``pdb.Pdb`` reading commands from a list and echoing them into its transcript."""

    def __init__(self, commands: Sequence[str]):
        if isinstance(commands, str) or not all(
            isinstance(c, str) for c in commands
        ):
            raise TypeError(
                "commands must be a list of strings, one pdb command each"
            )
        if not commands:
            raise ValueError(
                "commands is empty: give at least one pdb command"
            )
        # pdb keeps breakpoints in class-level tables shared by every debugger;
        # start each scripted session from none, numbered from 1.
        bdb.Breakpoint.clearBreakpoints()
        self.transcript_buffer = io.StringIO()
        super().__init__(
            stdin=io.StringIO("\n".join(commands) + "\n"),
            stdout=self.transcript_buffer,
            nosigint=True,
            readrc=False,
        )
        self.use_rawinput = False
        self.prompt = "(Pdb) "
        self.ran_out = False

    def precmd(self, line):
        if line == "EOF":  # cmd's way of saying the script is used up
            self.ran_out = True
        # Echo the command after the prompt, as it would appear on a terminal.
        self.stdout.write(line + "\n")
        return super().precmd(line)

    @property
    def transcript(self) -> str:
        return shorten_paths(self.transcript_buffer.getvalue())


_RAN_OUT = (
    "the pdb script ran out of commands while the program was stopped; "
    "end the script with 'continue'"
)


@dataclass(frozen=True)
class PdbRun:
    """What :func:`run_with_pdb` returns: the function's result and the session text."""

    result: object
    transcript: str


def run_with_pdb(
    function: Callable, *args, commands: Sequence[str], **kwargs
) -> PdbRun:
    """Call ``function(*args, **kwargs)`` under ``pdb``, stopped at its first line.

    ``commands`` are typed at the ``(Pdb)`` prompt one by one (``break``,
    ``continue``, ``p``, ``where``, ...). End with ``continue`` so the
    function can finish.

    >>> def area(width, height):
    ...     result = width * height
    ...     return result
    >>> run = run_with_pdb(area, 3, 4, commands=["next", "p result", "continue"])
    >>> run.result
    12
    >>> run.transcript.splitlines()[-3:-1]
    ['(Pdb) p result', '12']
    """
    if not callable(function):
        raise TypeError(
            f"function must be callable, got {type(function).__name__}"
        )
    debugger = ScriptedPdb(commands)
    try:
        result = debugger.runcall(function, *args, **kwargs)
    except bdb.BdbQuit:
        debugger.ran_out = True
    finally:
        # A breakpoint left behind would keep tracing on in later sessions.
        bdb.Breakpoint.clearBreakpoints()
    if debugger.ran_out:
        raise RuntimeError(
            f"{_RAN_OUT}. Transcript so far:\n{debugger.transcript}"
        )
    return PdbRun(result=result, transcript=debugger.transcript)


class BreakpointSession:
    """The debugger behind :func:`scripted_breakpoints`: its stops and its transcript."""

    def __init__(self, commands: Sequence[str]):
        self.debugger = ScriptedPdb(commands)
        self.hits = 0

    def hook(self, *_args, **_kwargs):
        """Stands in for ``breakpoint()``, whatever it is called with."""
        self.hits += 1
        self.debugger.set_trace(sys._getframe(1))

    @property
    def transcript(self) -> str:
        return self.debugger.transcript


@contextmanager
def scripted_breakpoints(
    commands: Sequence[str],
) -> Iterator[BreakpointSession]:
    """Make ``breakpoint()`` open a scripted ``pdb`` inside the block.

    Every ``breakpoint()`` call reached in the block stops in one shared
    debugger that reads the next commands from ``commands``; the session
    object counts the stops (``hits``) and holds the ``transcript``.

    >>> def halve(x):
    ...     breakpoint()
    ...     return x / 2
    >>> with scripted_breakpoints(["p x", "continue"]) as session:
    ...     halve(10)
    5.0
    >>> session.hits, session.transcript.splitlines()[-3:-1]
    (1, ['(Pdb) p x', '10'])
    """
    session = BreakpointSession(commands)
    previous = sys.breakpointhook
    sys.breakpointhook = session.hook
    try:
        yield session
    except bdb.BdbQuit:
        session.debugger.ran_out = True
    finally:
        sys.breakpointhook = previous
        bdb.Breakpoint.clearBreakpoints()
        # A 'continue' with no breakpoints left already stops tracing; make sure.
        if sys.gettrace() == session.debugger.trace_dispatch:
            sys.settrace(None)
    if session.debugger.ran_out:
        raise RuntimeError(
            f"{_RAN_OUT}. Transcript so far:\n{session.transcript}"
        )


def source_line(function: Callable, text: str) -> tuple[str, int]:
    """``(file, line number)`` of the first line of ``function`` containing ``text``.

    Use it to build a ``break file:line`` command that survives edits above
    the function.

    >>> path, line = source_line(source_line, "inspect.getsourcelines")
    >>> path.endswith("debugging.py"), line > 0
    (True, True)
    """
    check_text("text", text)
    function = inspect.unwrap(function)
    lines, first = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if text in line:
            return inspect.getsourcefile(function), first + offset
    name = getattr(function, "__qualname__", repr(function))
    raise ValueError(f"{text!r} does not occur in the source of {name}")


def install_nan_guards(model) -> list:
    """Make every submodule of a PyTorch ``model`` raise on a NaN or infinite output.

    A forward hook on each submodule checks its output; the first non-finite
    value raises ``FloatingPointError`` naming the submodule, so the report
    points at the layer where the problem starts rather than at the loss.
    Returns the hook handles (call ``.remove()`` on each to take them off).
    """
    import torch

    check_instance("model", model, torch.nn.Module, what="a torch.nn.Module")

    def check(name):
        def hook(module, _inputs, output):
            outputs = output if isinstance(output, tuple | list) else (output,)
            for tensor in outputs:
                if (
                    isinstance(tensor, torch.Tensor)
                    and not torch.isfinite(tensor).all()
                ):
                    bad = (~torch.isfinite(tensor)).sum().item()
                    raise FloatingPointError(
                        f"{bad} non-finite value(s) in the output of {name or 'the model'} "
                        f"({type(module).__name__})"
                    )

        return hook

    return [
        module.register_forward_hook(check(name))
        for name, module in model.named_modules()
    ]
