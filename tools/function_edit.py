"""Check a proposed replacement of one function: it parses, keeps its signature, stays inside it.

Used for edits written by someone perfpilot does not trust (an LLM): the proposal is only
parsed (never executed), spliced over the function's lines, and put through the validation
pipeline; the result says why it was refused, in words a model can act on.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perfpilot.tools.edits import line_edits, split_lines, unified_diff
from perfpilot.tools.model import Applicability, StageResult
from perfpilot.tools.registry import HIDDEN
from perfpilot.tools.source_index import SourceFunction
from perfpilot.tools.validate import validate_edit

if TYPE_CHECKING:
    from perfpilot.tools.verify.model import Verdict

_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)
MAX_PROPOSAL_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class EditCheck:
    """The verdict on a proposed function replacement."""

    ok: bool
    reason: str  # "stage: why" when refused, "" when accepted
    stages: tuple[StageResult, ...]
    diff: str  # unified diff of the file, when the proposal got that far
    applicability: Applicability | None = None
    # The whole validated file: for the caller that applies it, not for the model.
    text: str | None = field(default=None, metadata={HIDDEN: True})
    # Behaviour and speed on recorded calls, when verification is on.
    verdict: Verdict | None = None


def refused(stage: str, reason: str, stages: tuple[StageResult, ...] = ()) -> EditCheck:
    """A refusal at `stage`, with the stages that ran before it."""
    return EditCheck(False, f"{stage}: {reason}", (*stages, StageResult(stage, False, reason)), "")


def check_function_edit(
    original: str,
    path: str,
    function: SourceFunction,
    new_source: str,
    *,
    display_path: str | None = None,
    root: str | None = None,
    python: tuple[int, int] | None = None,
) -> EditCheck:
    """Splice `new_source` over `function` in `original` and validate the file it makes.

    Refuses: an empty or non-Python reply, anything besides one definition of the same
    function, a changed name/parameters/return annotation, dropped decorators, an edit that
    changes nothing, and whatever the validation pipeline refuses (syntax, new lint).
    """
    if len(new_source) > MAX_PROPOSAL_CHARS:
        return refused("parse", f"the proposal is larger than {MAX_PROPOSAL_CHARS} characters")
    lines = split_lines(original)
    old_text = "".join(lines[function.first_line - 1 : function.end_line])
    source = _unfenced(new_source)
    if not source.strip():
        return refused("parse", "the proposal is empty: send the complete new function")
    dedented = textwrap.dedent(source.expandtabs(8) if "\t" in source and " " in source else source)
    try:
        tree = ast.parse(dedented)
    except SyntaxError as exc:
        return refused(
            "parse",
            f"new_source is not Python code (line {exc.lineno}: {exc.msg}); send only the"
            f" complete definition of `{function.name}`, no prose",
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return refused("parse", f"new_source is not Python code ({exc})")
    reason = _one_definition(tree, function.name)
    if reason is not None:
        return refused("scope", reason)
    old_tree = ast.parse(textwrap.dedent(old_text))
    reason = _same_signature(old_tree.body[0], tree.body[0])  # type: ignore[arg-type]
    if reason is not None:
        return refused("signature", reason)
    indent = re.match(r"[ \t]*", lines[function.first_line - 1]).group()  # type: ignore[union-attr]
    newline = "\r\n" if old_text.endswith("\r\n") else "\n"
    new_text = _indented(dedented, indent, newline)
    if _code_of(new_text) == _code_of(old_text):
        return refused("parse", "the proposal is the function as it is: nothing changed")
    proposed = "".join([*lines[: function.first_line - 1], new_text, *lines[function.end_line :]])
    validation = validate_edit(
        original,
        proposed,
        path,
        claim=Applicability.UNSAFE,
        root=root,
        python=python,
        transform=StageResult("transform", True, "parsed; one definition, same signature"),
    )
    if validation.text is None or validation.applicability is None:
        return EditCheck(False, validation.refusal or "refused", validation.stages, "")
    outside = _outside(original, validation.text, function)
    if outside is not None:
        return refused("scope", outside, validation.stages)
    shown = display_path or path
    return EditCheck(
        True,
        "",
        validation.stages,
        unified_diff(original, validation.text, shown),
        min(validation.applicability, Applicability.UNSAFE),
        validation.text,
    )


def _unfenced(text: str) -> str:
    """The code inside one Markdown fence, if the whole reply is fenced."""
    match = _FENCE.match(text)
    return match.group(1) + "\n" if match else text


def _one_definition(tree: ast.Module, name: str) -> str | None:
    body = tree.body
    if not body:
        return f"new_source holds no code; send the complete definition of `{name}`"
    extra = next(
        (s for s in body if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)), None
    )
    if extra is not None:
        return (
            f"new_source may only hold the definition of `{name}`, but line {extra.lineno} is"
            f" `{ast.unparse(extra).splitlines()[0][:60]}` outside it; nothing outside the function"
            " may change (put a needed import inside the function body)"
        )
    names = [s.name for s in body]  # type: ignore[union-attr]
    if names != [name]:
        others = ", ".join(f"`{n}`" for n in names if n != name) or f"`{name}` twice"
        return f"new_source may only define `{name}`; it defines {others}: only `{name}` may change"
    return None


def _same_signature(old: ast.stmt, new: ast.stmt) -> str | None:
    assert isinstance(old, ast.FunctionDef | ast.AsyncFunctionDef)
    assert isinstance(new, ast.FunctionDef | ast.AsyncFunctionDef)
    if type(old) is not type(new):
        return "the function must stay " + (
            "async" if isinstance(old, ast.AsyncFunctionDef) else "sync"
        )
    if ast.dump(old.args) != ast.dump(new.args):
        return (
            f"the parameters changed from ({ast.unparse(old.args)}) to ({ast.unparse(new.args)});"
            " callers must not notice: keep them exactly"
        )
    if ast.dump(old.returns or ast.Constant(None)) != ast.dump(new.returns or ast.Constant(None)):
        return "the return annotation changed; keep it"
    kept = [ast.dump(d) for d in new.decorator_list]
    for decorator in old.decorator_list:
        if ast.dump(decorator) not in kept:
            return f"the decorator @{ast.unparse(decorator)} was dropped; keep it"
    return None


def _indented(text: str, indent: str, newline: str) -> str:
    body = text.strip("\n")
    out = [(indent + line if line.strip() else "") for line in body.split("\n")]
    return newline.join(line.rstrip() for line in out) + newline


def _code_of(text: str) -> str:
    try:
        return ast.dump(ast.parse(textwrap.dedent(text)))
    except SyntaxError:
        return text


def _outside(original: str, validated: str, function: SourceFunction) -> str | None:
    """A reason when the validated text differs from the original outside the function."""
    first, end = function.first_line - 1, function.end_line
    for edit in line_edits(original, validated):
        if edit.start_line < first or edit.end_line > end:
            line = edit.start_line + 1 if edit.start_line < first else edit.end_line
            return f"the edit changed line {line}, outside `{function.qualname}`"
    return None
