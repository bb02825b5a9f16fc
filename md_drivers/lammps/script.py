"""Run a user's LAMMPS input script with an equiforce potential: ``equiforce lammps``.

The script needs no equiforce line. It is split before its first ``run``, ``minimize``
or ``rerun`` (or just after its own ``fix ID group external pf/callback ...``); LAMMPS
reads the first part, the driver attaches the potential (see :func:`~.fix.attach`), and
LAMMPS reads the rest, so thermo output, dumps, loops and restarts stay LAMMPS's.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

from .fix import LAMMPS_DEFAULT_METAL_SKIN, EquiforceFix, attach

__all__ = ["ScriptPlan", "plan_script", "run_script"]

_FORCE_COMMANDS = {"run", "minimize", "rerun"}
# before the split point the driver reads commands one by one: no flow control there
_FLOW_CONTROL = {"jump", "label", "next", "if", "loop"}


@dataclass(frozen=True)
class ScriptPlan:
    """The input split for the driver.

    Attributes:
        head: commands LAMMPS reads before the potential is attached (includes inlined).
        tail: the rest of the script, verbatim (LAMMPS reads it as a file).
        fix_id: the script's own ``fix external`` ID, or None (the driver adds one).
        comm_cutoff: the value of the script's ``comm_modify cutoff`` before the split,
            or None. skin: its ``neighbor`` skin (A), or None (LAMMPS's default).
    """

    head: List[str]
    tail: str
    fix_id: Optional[str]
    comm_cutoff: Optional[float]
    skin: Optional[float]


def plan_script(path: str | Path) -> ScriptPlan:
    """Split ``path`` where the potential must be attached.

    Raises:
        FileNotFoundError: no such script (or included file).
        ValueError: no run/minimize, flow control or a variable ``include`` before it, a
            ``fix external`` that is not pf/callback every step, or one after a run.
    """
    lines = _logical_lines(Path(path))
    head: List[str] = []
    fix_id = comm_cutoff = skin = None
    for index, (line, source) in enumerate(lines):
        words = _words(line)
        command = words[0] if words else ""
        if command in _FORCE_COMMANDS:
            return ScriptPlan(head, _rest(lines, index), fix_id, comm_cutoff, skin)
        if command in _FLOW_CONTROL:
            raise ValueError(f"{source}: '{command}' before the first run or minimize; the "
                             f"driver attaches the potential before it and reads the commands "
                             f"up to there one by one: move flow control after the first run")
        if command == "fix" and len(words) > 3 and words[3] == "external":
            fix_id = _checked_external_fix(words, source)
            head.append(line)
            return ScriptPlan(head, _rest(lines, index + 1), fix_id, comm_cutoff, skin)
        comm_cutoff = _keyword_value(words, "comm_modify", "cutoff", comm_cutoff)
        if command == "neighbor" and len(words) > 1:
            skin = float(words[1])
        head.append(line)
    raise ValueError(f"{path}: no run, minimize or rerun command: nothing for the potential "
                     f"to drive")


def run_script(lmp: Any, path: str | Path, potential: str, elements: Sequence[str],
               dtype: Optional[str] = None, device: str = "cpu") -> EquiforceFix:
    """Run the script on ``lmp`` with the potential attached (see :func:`plan_script`)."""
    plan = plan_script(path)
    lmp.commands_list(plan.head)
    fix = attach(lmp, potential, elements, fix_id=plan.fix_id or "equiforce",
                 create_fix=plan.fix_id is None, dtype=dtype, device=device,
                 set_comm_cutoff=plan.comm_cutoff is None,
                 lammps_skin=LAMMPS_DEFAULT_METAL_SKIN if plan.skin is None else plan.skin)
    with tempfile.TemporaryDirectory(prefix="equiforce-lammps-") as folder:
        rest = Path(folder) / Path(path).name
        rest.write_text(plan.tail)
        lmp.file(str(rest))
    fix.raise_if_failed()
    return fix


def _logical_lines(path: Path, depth: int = 0) -> List[tuple[str, str]]:
    """``(command, "file:line")`` pairs: comments stripped, ``&`` continuations joined,
    ``include FILE`` inlined (up to the split point the caller decides; later ones are
    inlined too, which LAMMPS would read the same way)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such LAMMPS input file")
    if depth > 10:
        raise ValueError(f"{path}: include nested more than 10 deep")
    out: List[tuple[str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        text = _strip_comment(raw).rstrip()
        if not pending:
            start = number
        if pending:
            text = text.lstrip()
        if text.endswith("&"):
            pending += text[:-1].rstrip() + " "
            continue
        line = (pending + text).strip()
        pending = ""
        if not line:
            continue
        words = _words(line)
        if words[0] == "include" and len(words) == 2:
            if "$" in words[1] or "v_" in words[1]:
                raise ValueError(f"{path}:{start}: include of a variable file name; write "
                                 f"the file name out")
            out.extend(_logical_lines(Path(words[1]), depth + 1))
            continue
        out.append((line, f"{path}:{start}"))
    return out


def _rest(lines: List[tuple[str, str]], index: int) -> str:
    return "\n".join(line for line, _ in lines[index:]) + "\n"


def _strip_comment(line: str) -> str:
    """The line up to a ``#`` that is not inside quotes."""
    quote = None
    for position, char in enumerate(line):
        if char in "\"'" and quote in (None, char):
            quote = None if quote else char
        elif char == "#" and quote is None:
            return line[:position]
    return line


def _words(line: str) -> List[str]:
    return re.findall(r"\"[^\"]*\"|'[^']*'|\S+", line)


def _keyword_value(words: List[str], command: str, keyword: str,
                   previous: Optional[float]) -> Optional[float]:
    if words[:1] != [command] or keyword not in words[1:-1]:
        return previous
    return float(words[words.index(keyword) + 1])


def _checked_external_fix(words: List[str], source: str) -> str:
    """The ID of ``fix ID group external pf/callback N 1``."""
    if len(words) < 7 or words[4] != "pf/callback" or words[6] != "1":
        raise ValueError(f"{source}: the driver needs 'fix ID group external pf/callback "
                         f"N 1', got '{' '.join(words)}'")
    return words[1]
