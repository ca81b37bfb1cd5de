"""Convert perfpilot's findings and annotations into lsprotocol objects."""

from __future__ import annotations

from lsprotocol import types

from perfpilot.tools.annotate import FunctionAnnotation
from perfpilot.tools.evidence_text import calls_text, visible_shares
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Finding, Severity, TextEdit

SOURCE = "perfpilot"


def name_range(document: LiveDocument, line: int, column: int, length: int) -> types.Range:
    """Range of a name at 1-based `line`/`column` (code points), in the client's encoding."""
    row = line - 1
    start = document.position_of_column(row, column)
    end = document.position_of_column(row, column + length)
    return types.Range(types.Position(row, start), types.Position(row, end))


def finding_range(document: LiveDocument, finding: Finding) -> types.Range:
    """The finding's (possibly multi-line) range, in the client's encoding."""
    end_line = finding.end_line or finding.line
    end_column = finding.end_column or finding.column
    start = document.position_of_column(finding.line - 1, finding.column)
    end = document.position_of_column(end_line - 1, end_column)
    return types.Range(types.Position(finding.line - 1, start), types.Position(end_line - 1, end))


def diagnostic(
    finding: Finding, document: LiveDocument, version: int | None = None
) -> types.Diagnostic:
    """A finding as an LSP diagnostic on its range; `version` goes into data for fixes."""
    data = dict(finding.data)
    if version is not None:
        data["version"] = version
    return types.Diagnostic(
        range=finding_range(document, finding),
        message=finding.message,
        severity=types.DiagnosticSeverity(int(Severity(finding.severity))),
        code=finding.code,
        source=SOURCE,
        data=data,
    )


def text_edit(document: LiveDocument, edit: TextEdit) -> types.TextEdit:
    """A whole-line edit as an LSP edit (the end clamps to the end of the document)."""
    count = document.line_count()
    if edit.end_line < count:
        end = types.Position(edit.end_line, 0)
    else:
        last = count - 1
        end = types.Position(
            last, document.position_of_column(last, len(document.line_text(last)) + 1)
        )
        if edit.start_line >= count and document.text and not document.text.endswith(("\n", "\r")):
            # Appending after a last line without a newline: the new text starts a line.
            return types.TextEdit(types.Range(end, end), _newline(document) + edit.new_text)
    start = types.Position(min(edit.start_line, count), 0)
    if edit.start_line >= count:
        start = end
    return types.TextEdit(types.Range(start, end), edit.new_text)


def versioned_edit(
    uri: str,
    version: int,
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit],
    annotations: dict[str, types.ChangeAnnotation] | None = None,
) -> types.WorkspaceEdit:
    """Edits of one document against the version they were computed for (a client refuses
    them once the document has changed)."""
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=edits,
            )
        ],
        change_annotations=annotations,
    )


def _newline(document: LiveDocument) -> str:
    text = document.text
    return "\r\n" if "\r\n" in text else "\r" if "\r" in text and "\n" not in text else "\n"


def lens_title(annotation: FunctionAnnotation) -> str:
    """`23.4% total · 5.1% self · 12,345 calls` (plus a note when the code changed)."""
    hot = annotation.hot
    parts = [f"{hot.total_share:.1f}% total", f"{hot.self_share:.1f}% self"]
    if hot.library_share >= 0.05:
        parts.append(f"{hot.library_share:.1f}% in libraries")
    if hot.mapped.calls is not None:
        parts.append(calls_text(hot.mapped.calls))
    title = "perfpilot: " + " · ".join(parts)
    return title + " (changed since profile)" if annotation.changed else title


def code_lens(annotation: FunctionAnnotation) -> types.CodeLens:
    """A lens above the function's first line (its first decorator, where the eye starts)."""
    row = annotation.function.first_line - 1
    return types.CodeLens(
        range=types.Range(types.Position(row, 0), types.Position(row, 0)),
        # An empty command id: the lens is information, clicking it does nothing.
        command=types.Command(title=lens_title(annotation), command=""),
    )


def hover_markdown(annotation: FunctionAnnotation) -> str:
    """Hover text: shares and calls on one line, top callers and callees, hottest lines.

    Shares lead each row so a long callee name never hides the number (hovers are narrow);
    rows that round to 0.0 % are left out.
    """
    hot = annotation.hot
    data = annotation.finding.data
    figures = [f"**{hot.total_share:.1f}%** total", f"**{hot.self_share:.1f}%** self"]
    if hot.library_share >= 0.05:
        figures.append(f"**{hot.library_share:.1f}%** in libraries")
    if hot.mapped.calls is not None:
        figures.append(calls_text(hot.mapped.calls))
    lines = [
        f"**perfpilot** · `{annotation.function.qualname}` · #{hot.rank} by own time",
        "",
        " · ".join(figures),
    ]
    if hot.own_interval is not None:
        low, high = hot.own_interval
        lines += [
            "",
            f"_Only {hot.samples:,} samples: own share {low:.1f}–{high:.1f}% at 95%;"
            " profile a longer run for precise figures._",
        ]
    for title, key in (("Callers", "callers"), ("Callees", "callees")):
        rows = visible_shares(data.get(key) or [])  # type: ignore[arg-type]
        if rows:
            lines += ["", f"**{title}**", ""]
            lines += [f"- {percent:.1f}% · `{name}`" for name, percent in rows]
    if annotation.line_shares:
        hottest = sorted(annotation.line_shares.items(), key=lambda kv: -kv[1])[:5]
        hottest = [(line, share) for line, share in hottest if round(share, 1) > 0]
        if hottest:
            lines += ["", "**Hottest lines**", ""]
            lines += [f"- {share:.1f}% · line {line}" for line, share in hottest]
    if annotation.changed:
        lines += ["", "_The function changed since the profile was taken: re-profile._"]
    return "\n".join(lines)


def inlay_hints(annotation: FunctionAnnotation, document: LiveDocument) -> list[types.InlayHint]:
    """A hint at the end of each hot line with its share."""
    hints = []
    for line, share in sorted(annotation.line_shares.items()):
        row = line - 1
        if not 0 <= row < document.line_count():
            continue
        end = document.position_of_column(row, len(document.line_text(row)) + 1)
        hints.append(
            types.InlayHint(
                position=types.Position(row, end),
                label=f"{share:.1f}%",
                kind=types.InlayHintKind.Parameter,
                padding_left=True,
                tooltip=f"perfpilot: {share:.1f}% of the profile on this line",
                # Clients that tint hot lines read the share here rather than parse the label.
                data={"percent": round(share, 2)},
            )
        )
    return hints
