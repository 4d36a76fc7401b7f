"""Scan a pickle's opcode stream before anything in it is loaded.

The restricted unpickler (:mod:`analognasbench.release.original`) resolves only whitelisted globals, but loading still
executes the stream: it builds whatever nesting the stream asks for and applies ``BUILD`` to whatever object is on
the stack. Two attacks get through a ``find_class`` whitelist alone:

* **deep nesting**: a few hundred kB of ``TUPLE1`` opcodes make a tuple nested a hundred thousand levels deep; hashing
  it as a dict key (during loading) or printing it recurses in C and kills the interpreter (a segmentation fault), a
  less deep one raises ``RecursionError``;
* **BUILD on a whitelisted global**: ``BUILD`` with a ``(None, {"__defaults__": ...})`` state sets attributes on the
  object below it, which may be a whitelisted *function or class itself*, changing it for the rest of the process.

:func:`scan_pickle` simulates the stack (with the memo) without creating any object, and refuses, before loading:

* nesting deeper than :data:`MAX_DEPTH` (the release's ``data.anb`` needs :data:`RELEASE_DEPTH`: dict -> record ->
  its attribute dict -> a drift record -> its attribute dict -> a number);
* a global that is not in ``allowed_globals``, a non-literal ``STACK_GLOBAL``, and the extension registry / persistent
  id opcodes (which reach objects without naming them);
* ``BUILD`` on anything but an instance of ``buildable`` classes (the release's two record classes), created in the
  stream by ``NEWOBJ`` / ``copyreg._reconstructor``;
* mutating a container after it was placed inside another one (no pickler does that for acyclic data, and it would
  let nesting grow behind the depth count).

So a refused pickle never runs, and therefore leaves no trace in the process.
"""

from __future__ import annotations

import pickletools
import struct
from collections.abc import Collection
from dataclasses import dataclass, field

#: Object nesting the release's data.anb needs (measured with :func:`scan_pickle` on the published file).
RELEASE_DEPTH = 5
#: Deepest nesting accepted: the release's, with room for a container more (tuple keys, lists of repetitions).
MAX_DEPTH = 8
#: Largest pickle read (bytes): the release's is 5.6 MB.
MAX_BYTES = 256 * 2**20
#: SHA-256 of the published release's data.anb, scanned (depth 5, tests/test_hardening_pickle.py): a file with exactly
#: these bytes needs no second scan.
RELEASE_SHA256 = "85f3435b877aa2d36268d55ce07f6ff6d73643d17a840f1941745da5eb80db32"

_CONSTRUCTORS = frozenset({"TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "LIST", "DICT", "FROZENSET", "OBJ", "INST",
                           "REDUCE", "NEWOBJ", "NEWOBJ_EX"})
_FORBIDDEN = {
    "PERSID": "persistent ids", "BINPERSID": "persistent ids", "EXT1": "the copyreg extension registry",
    "EXT2": "the copyreg extension registry", "EXT4": "the copyreg extension registry",
}
_STRINGS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
                      "SHORT_BINSTRING"})
_RECONSTRUCTOR = frozenset({("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor")})


class PickleScanError(ValueError):
    """The pickle asks for something its format never needs (the message says what, and where)."""


class PickleFormatError(ValueError):
    """The byte stream is not a complete pickle (truncated or corrupted)."""


@dataclass(eq=False)
class _Cell:
    """One stack value: its nesting depth and what the scan knows about it (never the value itself)."""

    depth: int = 0
    placed: bool = False  # already inside another container
    text: str | None = None  # a string literal (for STACK_GLOBAL)
    global_name: tuple[str, str] | None = None  # a resolved global
    instance_of: tuple[str, str] | None = None  # an object made in the stream from this class
    items: list[_Cell] = field(default_factory=list)  # a tuple's members (for copyreg._reconstructor's args)



@dataclass(frozen=True)
class ScanReport:
    """What a scan found: the deepest nesting and the opcode count."""

    max_depth: int
    opcodes: int


def scan_pickle(data: bytes, allowed_globals: Collection[tuple[str, str]],
                buildable: Collection[tuple[str, str]], *, max_depth: int = MAX_DEPTH) -> ScanReport:
    """Check ``data`` as described in the module docstring; raise :class:`PickleScanError` (refused) or
    :class:`PickleFormatError` (not a pickle), else say how deep it nests."""
    if len(data) > MAX_BYTES:
        raise PickleScanError(f"{len(data)} bytes is larger than any original-release pickle ({MAX_BYTES} at most)")
    data = bytes(data)
    try:
        report = _fast_scan(data, _Scan(allowed_globals, buildable, max_depth))
        if report is not None:
            return report
        scan = _Scan(allowed_globals, buildable, max_depth)  # text protocols: pickletools decodes every opcode
        count = pos = 0
        for count, (op, arg, pos) in enumerate(pickletools.genops(data), start=1):  # noqa: B007
            scan.step(op.name, arg, pos)
        return ScanReport(scan.deepest, count)
    except (PickleScanError, PickleFormatError):
        raise
    except (ValueError, IndexError, KeyError, TypeError, EOFError, UnicodeDecodeError, struct.error) as exc:
        raise PickleFormatError(f"not a complete pickle: {exc}") from None


# Binary opcodes (protocols 2-5) decoded by the fast path: byte -> (name, fixed argument size or -n for an
# n-byte length prefix). Anything else (protocols 0 and 1's text opcodes) goes through pickletools.
_FAST: dict[int, tuple[str, int]] = {
    0x80: ("PROTO", 1), 0x95: ("FRAME", 8), ord("}"): ("EMPTY_DICT", 0), ord("]"): ("EMPTY_LIST", 0),
    ord(")"): ("EMPTY_TUPLE", 0), 0x8F: ("EMPTY_SET", 0), 0x94: ("MEMOIZE", 0), ord("("): ("MARK", 0),
    ord("h"): ("BINGET", 1), ord("j"): ("LONG_BINGET", 4), ord("q"): ("BINPUT", 1), ord("r"): ("LONG_BINPUT", 4),
    ord("G"): ("BINFLOAT", 8), ord("J"): ("BININT", 4), ord("K"): ("BININT1", 1), ord("M"): ("BININT2", 2),
    ord("N"): ("NONE", 0), 0x88: ("NEWTRUE", 0), 0x89: ("NEWFALSE", 0), 0x8A: ("LONG1", -1), 0x8B: ("LONG4", -4),
    0x8C: ("SHORT_BINUNICODE", -1), ord("X"): ("BINUNICODE", -4), 0x8D: ("BINUNICODE8", -8),
    ord("C"): ("SHORT_BINBYTES", -1), ord("B"): ("BINBYTES", -4), 0x8E: ("BINBYTES8", -8),
    ord("t"): ("TUPLE", 0), 0x85: ("TUPLE1", 0), 0x86: ("TUPLE2", 0), 0x87: ("TUPLE3", 0), ord("l"): ("LIST", 0),
    ord("d"): ("DICT", 0), 0x91: ("FROZENSET", 0), ord("u"): ("SETITEMS", 0), ord("s"): ("SETITEM", 0),
    ord("e"): ("APPENDS", 0), ord("a"): ("APPEND", 0), 0x90: ("ADDITEMS", 0), ord("b"): ("BUILD", 0),
    0x81: ("NEWOBJ", 0), 0x92: ("NEWOBJ_EX", 0), ord("R"): ("REDUCE", 0), 0x93: ("STACK_GLOBAL", 0),
    ord("0"): ("POP", 0), ord("1"): ("POP_MARK", 0), ord("2"): ("DUP", 0), ord("."): ("STOP", 0),
}
_UNSIGNED = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


def _fast_scan(data: bytes, scan: _Scan) -> ScanReport | None:
    """The scan over binary opcodes without pickletools' per-opcode objects; None at the first opcode it does not
    decode (the caller then scans with pickletools)."""
    stack, marks, memo, push = scan.stack, scan.marks, scan.memo, scan.stack.append
    n, i, count = len(data), 0, 0
    fast, unpack_from = _FAST, struct.unpack_from
    atom = _ATOM
    while i < n:
        code = data[i]
        entry = fast.get(code)
        if entry is None:
            return None
        name, size = entry
        pos = i
        i += 1
        count += 1
        arg: object = None
        if size > 0:
            if i + size > n:
                raise PickleFormatError(f"{name} at byte {pos}: truncated")
            if name == "BINFLOAT" or name == "BININT1" or name == "BININT" or name == "BININT2":
                i += size
                push(atom)
                continue
            arg = unpack_from(_UNSIGNED[size], data, i)[0]
            i += size
            if name == "BINGET" or name == "LONG_BINGET":
                cell = memo.get(arg)  # type: ignore[call-overload]
                if cell is None:
                    raise PickleFormatError(f"{name} at byte {pos}: memo key {arg} was never stored")
                push(cell)
                continue
        elif size < 0:
            if i - size > n:
                raise PickleFormatError(f"{name} at byte {pos}: truncated")
            length = unpack_from(_UNSIGNED[-size], data, i)[0]
            i -= size
            if i + length > n:
                raise PickleFormatError(f"{name} at byte {pos}: truncated")
            raw = data[i:i + length]
            i += length
            arg = raw.decode("utf-8", "surrogatepass") if "UNICODE" in name else None
        elif name == "MEMOIZE":
            if not stack:
                raise PickleFormatError(f"MEMOIZE at byte {pos}: nothing to memoize")
            memo[len(memo)] = stack[-1]
            continue
        elif name == "MARK":
            marks.append(len(stack))
            continue
        scan.step(name, arg, pos)
        if name == "STOP":
            return ScanReport(scan.deepest, count)
    raise PickleFormatError("the pickle ends before its STOP opcode (truncated)")


_PLAIN_ATOMS = frozenset({
    "BINFLOAT", "FLOAT", "BININT", "BININT1", "BININT2", "INT", "LONG", "LONG1", "LONG4", "NONE", "NEWTRUE",
    "NEWFALSE", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
})
_EMPTY = frozenset({"EMPTY_DICT", "EMPTY_LIST", "EMPTY_SET", "EMPTY_TUPLE"})
_SKIP = frozenset({"PROTO", "FRAME"})
_OPCODES = {op.name: op for op in pickletools.opcodes}
_ATOM = _Cell()  # numbers and other leaves share one cell: they are never containers


class _Scan:
    """The simulated stack, memo and marks of one scan (values never created, only their nesting tracked)."""

    def __init__(self, allowed: Collection[tuple[str, str]], buildable: Collection[tuple[str, str]],
                 max_depth: int) -> None:
        self.allowed, self.buildable, self.max_depth = allowed, buildable, max_depth
        self.stack: list[_Cell] = []
        self.marks: list[int] = []
        self.memo: dict[int, _Cell] = {}
        self.deepest = 0
        self.stopped = False

    def step(self, name: str, arg: object, pos: int) -> None:
        stack = self.stack
        if name in _PLAIN_ATOMS:
            stack.append(_ATOM)
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            cell = self.memo.get(int(arg))  # type: ignore[call-overload]
            if cell is None:
                raise PickleFormatError(f"{name} at byte {pos}: memo key {arg} was never stored")
            stack.append(cell)
        elif name in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):
            if not stack:
                raise PickleFormatError(f"{name} at byte {pos}: nothing to memoize")
            self.memo[len(self.memo) if name == "MEMOIZE" else int(arg)] = stack[-1]  # type: ignore[call-overload]
        elif name == "MARK":
            self.marks.append(len(stack))
        elif name in _EMPTY:
            stack.append(_Cell())
        elif name in _STRINGS:
            stack.append(_Cell(text=arg if isinstance(arg, str) else None))
        elif name in ("SETITEMS", "APPENDS", "ADDITEMS"):
            items = self._pop_mark(name, pos)
            self._fill(name, pos, self._pop(1, name, pos)[0], items)
        elif name in ("SETITEM", "APPEND", "BUILD"):
            items = self._pop(2 if name == "SETITEM" else 1, name, pos)
            self._fill(name, pos, self._pop(1, name, pos)[0], items)
        elif name in _FORBIDDEN:
            raise PickleScanError(f"{name} at byte {pos} uses {_FORBIDDEN[name]}, which an original-release pickle "
                                  "never needs")
        elif name in ("GLOBAL", "STACK_GLOBAL", "INST"):
            self._global(name, arg, pos)
        elif name in _SKIP:
            pass
        elif name == "STOP":
            self._pop(1, name, pos)
        else:
            self._generic(_OPCODES[name], pos)

    # --- helpers -----------------------------------------------------------------------------------------------
    def _pop(self, n: int, name: str, pos: int) -> list[_Cell]:
        stack = self.stack
        floor = self.marks[-1] if self.marks else 0
        if len(stack) - n < floor:
            raise PickleFormatError(f"{name} at byte {pos}: stack underflow")
        items = stack[len(stack) - n:]
        del stack[len(stack) - n:]
        return items

    def _pop_mark(self, name: str, pos: int) -> list[_Cell]:
        if not self.marks:
            raise PickleFormatError(f"{name} at byte {pos}: no MARK on the stack")
        i = self.marks.pop()
        items = self.stack[i:]
        del self.stack[i:]
        return items

    def _nest(self, cell: _Cell, items: list[_Cell], name: str, pos: int) -> None:
        depth = cell.depth
        for c in items:
            if c is not _ATOM:
                c.placed = True
                if c.depth >= depth:
                    depth = c.depth + 1
            elif depth < 1:
                depth = 1
        if depth > self.max_depth:
            raise PickleScanError(f"{name} at byte {pos}: objects nested {depth} deep; an original-release pickle "
                                  f"needs {RELEASE_DEPTH} (at most {self.max_depth} accepted)")
        cell.depth = depth
        if depth > self.deepest:
            self.deepest = depth

    def _fill(self, name: str, pos: int, target: _Cell, items: list[_Cell]) -> None:
        if name == "BUILD" and (target.instance_of not in self.buildable or target.global_name is not None):
            what = (f"global {'.'.join(target.global_name)}" if target.global_name else
                    f"an instance of {'.'.join(target.instance_of)}" if target.instance_of else "a plain value")
            raise PickleScanError(f"BUILD at byte {pos} on {what}; only instances of "
                                  f"{', '.join('.'.join(b) for b in sorted(self.buildable))} take state")
        if target.placed or target.global_name is not None or target is _ATOM or target.text is not None:
            raise PickleScanError(f"{name} at byte {pos} changes an object after it was stored inside another (or "
                                  "a global or a literal), which an original-release pickle never does")
        self._nest(target, items, name, pos)
        self.stack.append(target)

    def _global(self, name: str, arg: object, pos: int) -> None:
        if name == "STACK_GLOBAL":
            module_cell, name_cell = self._pop(2, name, pos)
            if module_cell.text is None or name_cell.text is None:
                raise PickleScanError(f"STACK_GLOBAL at byte {pos}: the global's module and name are not string "
                                      "literals")
            key = (module_cell.text, name_cell.text)
        else:
            module, _, attr = str(arg).partition(" ")
            key = (module, attr)
        if key not in self.allowed:
            raise PickleScanError(f"refusing to load {key[0]}.{key[1]} ({name} at byte {pos}): not a global an "
                                  "original-release pickle holds")
        if name == "INST":
            cell = _Cell(instance_of=key)
            self._nest(cell, self._pop_mark(name, pos), name, pos)
            self.stack.append(cell)
        else:
            self.stack.append(_Cell(global_name=key))

    def _generic(self, op: pickletools.OpcodeInfo, pos: int) -> None:
        """Any other opcode, from pickletools' description of its stack effect."""
        name, before = op.name, op.stack_before
        if pickletools.markobject in before:
            items = self._pop_mark(name, pos)
            popped = self._pop(before.index(pickletools.markobject), name, pos) + items
        else:
            popped = self._pop(len(before), name, pos)
        if name == "DUP":
            self.stack.extend(popped * 2)
            return
        if not op.stack_after:
            return
        if name not in _CONSTRUCTORS:
            self.stack.append(_ATOM)
            return
        cell = _Cell()
        if name.startswith("TUPLE"):
            cell.items = list(popped)
        elif name in ("NEWOBJ", "NEWOBJ_EX", "REDUCE"):
            cell.instance_of = _made_class(name, popped)
        elif name == "OBJ" and popped:
            cell.instance_of = popped[0].global_name
        self._nest(cell, popped, name, pos)
        self.stack.append(cell)


def _made_class(name: str, popped: list[_Cell]) -> tuple[str, str] | None:
    """The class an object made by NEWOBJ(_EX) / REDUCE is an instance of, when the scan can tell."""
    if name in ("NEWOBJ", "NEWOBJ_EX"):
        return popped[0].global_name
    func, args = popped[0], popped[1]
    if func.global_name in _RECONSTRUCTOR and args.items:
        return args.items[0].global_name
    return func.global_name  # what calling a global made, e.g. a numpy dtype stand-in
