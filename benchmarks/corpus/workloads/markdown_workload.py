"""Workload: render a README-like document to HTML with Python-Markdown's common extensions."""

import markdown
from _text import markdown_document

DOCUMENT = markdown_document(120)

for _ in range(12):
    html = markdown.markdown(DOCUMENT, extensions=["extra", "toc", "sane_lists"])
print(len(html))
