"""Workload: highlight Python, JSON and HTML sources to HTML and to a terminal, as a doc tool does."""

import json
import pathlib

import pygments
from pygments.formatters import HtmlFormatter, TerminalFormatter
from pygments.lexers import HtmlLexer, JsonLexer, PythonLexer

PYTHON = pathlib.Path(pygments.__file__).with_name("lexer.py").read_text()
JSON = json.dumps(
    [{"id": i, "name": f"n{i}", "tags": ["a", "b"], "ok": i % 2 == 0} for i in range(800)], indent=2
)
HTML = "".join(
    f"<div class='c{i}'><a href=\"/p/{i}\">link {i}</a><!-- c --></div>\n" for i in range(800)
)

for _ in range(10):
    out = pygments.highlight(PYTHON, PythonLexer(), HtmlFormatter(linenos=True))
    out += pygments.highlight(PYTHON, PythonLexer(), TerminalFormatter())
    out += pygments.highlight(JSON, JsonLexer(), HtmlFormatter())
    out += pygments.highlight(HTML, HtmlLexer(), HtmlFormatter())
print(len(out))
