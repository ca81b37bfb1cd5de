"""Workload: render a README-like document to HTML with mistune (tables, strikethrough, urls)."""

import mistune
from _text import markdown_document

DOCUMENT = markdown_document(150)
render = mistune.create_markdown(plugins=["table", "strikethrough", "url", "footnotes"])

for _ in range(24):
    html = render(DOCUMENT)
print(len(html))
