"""Render findings for the terminal, machines (JSON), code scanning (SARIF) and GitHub Actions."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from perfpilot.tools.model import Finding, Severity

OUTPUT_FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/perfpilot/perfpilot"

# Rule metadata shown by code-scanning UIs; one entry per code perfpilot emits.
RULES: dict[str, tuple[str, str]] = {
    "PP001": ("hot-function", "A function that takes a large share of the profiled time."),
    "PP201": ("regressed-function", "A function whose share of the program grew between commits."),
    "PP202": ("new-hot-function", "A function that became hot between commits."),
    "PP203": ("improved-function", "A function whose share of the program shrank (a note)."),
    "PP901": ("unmapped-profile-paths", "Profiled files that match no workspace file."),
    "PP902": ("missing-profiled-functions", "Profiled functions no longer in the workspace."),
    "PP903": ("few-samples", "A sampled profile with too few samples for precise shares."),
}


@dataclass
class FixSummary:
    """What the offense half found and, with --fix/--diff, did."""

    mode: str = "report"  # "report", "fix" or "diff"
    unsafe: bool = False
    opportunities: int = 0
    applied: int = 0
    files_changed: int = 0
    hidden_unsafe: int = 0
    display_only: int = 0
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # path, title, reason
    held: list[tuple[str, str, str]] = field(default_factory=list)  # path, title, verdict
    generated_files: int = 0  # generated files whose opportunities were skipped
    skipped_generated: int = 0  # opportunities in them
    unproven: int = 0  # opportunities of skills measured below 1.05x, not offered


@dataclass(frozen=True, slots=True)
class Summary:
    """What the run looked at, for the summary line and machine outputs."""

    profiles: Sequence[str]
    formats: Sequence[str]
    threshold: float
    duration: float | None
    fixes: FixSummary | None = None
    samples: int | None = None  # of a sampled profile; None for tracing profiles


def display_path(path: str, root: Path) -> str:
    """Show a path relative to the workspace when it is inside it."""
    try:
        relative = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def render(fmt: str, findings: Sequence[Finding], summary: Summary, root: Path) -> str:
    """Render `findings` in one of OUTPUT_FORMATS."""
    if fmt == "json":
        return _json(findings, summary, root)
    if fmt == "sarif":
        return _sarif(findings, root)
    if fmt == "github":
        return _github(findings, root)
    return _text(findings, summary, root)


def _text(findings: Sequence[Finding], summary: Summary, root: Path) -> str:
    lines = [
        f"{display_path(f.path, root)}:{f.line}:{f.column}: {f.code} {f.message}" for f in findings
    ]
    hot = sum(1 for f in findings if f.code == "PP001")
    offense = sum(1 for f in findings if f.code.startswith("PP1"))
    notes = len(findings) - hot - offense
    if summary.profiles:
        profiles = len(summary.profiles)
        what = f"{profiles} profile{'s' if profiles != 1 else ''} ({', '.join(summary.formats)}"
        what += f", {summary.samples:,} samples" if summary.samples is not None else ""
        what += f", {summary.duration:.2f} s)" if summary.duration else ")"
        found = f"Found {hot} hot function{_s(hot)} at or above {summary.threshold:g}% in {what}"
    else:
        found = "No profile: looked at every function"
    if offense:
        found += f"; {offense} fix opportunit{'ies' if offense != 1 else 'y'}"
    if summary.fixes is not None and summary.fixes.generated_files:
        found += _generated_note(summary.fixes)
    if summary.fixes is not None and summary.fixes.unproven:
        count = summary.fixes.unproven
        found += (
            f"; {count} held back (skill{_s(count)} measured below 1.05x on real code:"
            " --include-unproven)"
        )
    if notes:
        found += f"; {notes} note{_s(notes)} about the profile"
    lines.append(found + ".")
    if summary.fixes is not None and summary.fixes.mode != "report":
        lines += _fix_lines(summary.fixes, root)
    return "\n".join(lines) + "\n"


def _fix_lines(fixes: FixSummary, root: Path) -> list[str]:
    verb = "Applied" if fixes.mode == "fix" else "Would apply"
    kind = "safe and unsafe" if fixes.unsafe else "safe"
    line = f"{verb} {fixes.applied} {kind} fix{'es' if fixes.applied != 1 else ''}"
    line += f" in {fixes.files_changed} file{_s(fixes.files_changed)}"
    if fixes.hidden_unsafe:
        line += f"; {fixes.hidden_unsafe} unsafe fix{'es' if fixes.hidden_unsafe != 1 else ''}"
        line += " hidden (use --unsafe-fixes)"
    if fixes.display_only:
        line += f"; {fixes.display_only} display-only (see them with --diff-all)"
    if fixes.refused:
        line += f"; {len(fixes.refused)} refused"
    if fixes.held:
        line += f"; {len(fixes.held)} not verified faster"
    lines = [line + "."]
    for path, title, reason in fixes.refused:
        lines.append(f"  refused: {display_path(path, root)}: {title}: {reason}")
    for path, title, verdict in fixes.held:
        lines.append(f"  not applied: {display_path(path, root)}: {title}: {verdict}")
    return lines


def _generated_note(fixes: FixSummary) -> str:
    count, files = fixes.skipped_generated, fixes.generated_files
    what = f"{count} fix opportunit{'ies' if count != 1 else 'y'}"
    return f"; {what} in {files} generated file{_s(files)} skipped (--include-generated)"


def _s(count: int) -> str:
    return "s" if count != 1 else ""


def _finding_record(finding: Finding, root: Path) -> dict[str, object]:
    return {
        "code": finding.code,
        "message": finding.message,
        "filename": display_path(finding.path, root),
        "location": {"row": finding.line, "column": finding.column},
        "end_location": {
            "row": finding.end_line or finding.line,
            "column": finding.end_column or finding.column,
        },
        "severity": finding.severity.name.lower(),
        "data": finding.data,
    }


def _json(findings: Sequence[Finding], summary: Summary, root: Path) -> str:
    document = {
        "version": package_version(),
        "profiles": list(summary.profiles),
        "threshold": summary.threshold,
        "samples": summary.samples,
        "findings": [_finding_record(f, root) for f in findings],
        "fixes": asdict(summary.fixes) if summary.fixes is not None else None,
    }
    return json.dumps(document, indent=2) + "\n"


_SARIF_LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "note",
    Severity.HINT: "note",
}


def _sarif(findings: Sequence[Finding], root: Path) -> str:
    codes = sorted({f.code for f in findings} | {"PP001"})
    rules = [
        {
            "id": code,
            "name": _rule(code)[0],
            "shortDescription": {"text": _rule(code)[1]},
            "helpUri": f"{INFORMATION_URI}#{code.lower()}",
        }
        for code in codes
    ]
    results = []
    for finding in findings:
        region: dict[str, int] = {"startLine": finding.line, "startColumn": finding.column}
        if finding.end_line:
            region["endLine"] = finding.end_line
        if finding.end_column:
            region["endColumn"] = finding.end_column
        uri = display_path(finding.path, root)
        location: dict[str, object] = {"uri": Path(uri).as_posix()}
        if not os.path.isabs(uri):
            location["uriBaseId"] = "%SRCROOT%"
        else:
            location["uri"] = Path(uri).as_uri()
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": codes.index(finding.code),
                "level": _SARIF_LEVELS[finding.severity],
                "message": {"text": finding.message},
                "locations": [
                    {"physicalLocation": {"artifactLocation": location, "region": region}}
                ],
                "properties": {"perfpilot": finding.data},
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "perfpilot",
                        "version": package_version(),
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _rule(code: str) -> tuple[str, str]:
    """A code's rule name and description: fixed ones, else the skill that reports it."""
    return RULES.get(code) or _skill_rules().get(code) or (code.lower(), code)


@lru_cache(maxsize=1)
def _skill_rules() -> dict[str, tuple[str, str]]:
    """PP1xx rules from the built-in skills' SKILL.md (read once; only SARIF needs them)."""
    from perfpilot.skills.registry import discover

    return {
        skill.code: (skill.name, skill.description.split(". ")[0].rstrip(".") + ".")
        for skill in discover(packages=False).skills
        if skill.code
    }


def _github(findings: Sequence[Finding], root: Path) -> str:
    commands = {Severity.ERROR: "error", Severity.WARNING: "warning"}
    lines = []
    for f in findings:
        command = commands.get(f.severity, "notice")
        path = display_path(f.path, root)
        properties = f"title=perfpilot ({f.code}),file={_escape_property(path)},line={f.line}"
        properties += f",col={f.column}"
        if f.end_line:
            properties += f",endLine={f.end_line}"
        if f.end_column:
            properties += f",endColumn={f.end_column}"
        lines.append(f"::{command} {properties}::{_escape_data(f'{f.code} {f.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")


def _escape_data(text: str) -> str:
    # GitHub workflow-command escaping, as in @actions/core.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


@lru_cache(maxsize=1)
def package_version() -> str:
    """Return the installed perfpilot version."""
    # The metadata file of the first perfpilot installation on sys.path, read by hand, as
    # importlib.metadata would find it: importing that (and the email package it parses
    # with) costs every language server ~1.2 MiB and ~30 ms at start-up for one line.
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, _, kind = name.rpartition(".")
            if kind in ("dist-info", "egg-info") and _is_perfpilot(stem):
                found = _metadata_version(os.path.join(entry or ".", name), kind)
                if found:
                    return found
    return "0+unknown"  # running from a source tree without an install


def _is_perfpilot(stem: str) -> bool:
    """A dist-info/egg-info stem ("perfpilot-0.1.0", "perfpilot") of this distribution."""
    return stem.split("-", 1)[0].lower().replace("-", "_").replace(".", "_") == "perfpilot"


def _metadata_version(folder: str, kind: str) -> str | None:
    """The Version header of a dist-info's METADATA (an egg-info's PKG-INFO), else None."""
    try:
        with open(os.path.join(folder, "METADATA" if kind == "dist-info" else "PKG-INFO")) as file:
            for line in file:
                if not line.strip():
                    return None  # the headers end at the first blank line
                if line.lower().startswith("version:"):
                    return line.split(":", 1)[1].strip() or None
    except (OSError, UnicodeDecodeError):
        return None
    return None
