"""Workload: compile a few templates (inheritance, macros, filters, loops) and render them often."""

import jinja2
from _text import words

TEMPLATES = {
    "base.html": (
        "<html><head><title>{% block title %}{% endblock %}</title></head><body>"
        "{% block body %}{% endblock %}</body></html>"
    ),
    "macros.html": (
        "{% macro row(item, loop) %}<tr class=\"{{ loop.cycle('odd', 'even') }}\">"
        "<td>{{ item.name|title }}</td><td>{{ '%.2f'|format(item.price) }}</td>"
        "<td>{{ item.tags|join(', ')|e }}</td>"
        "<td>{% if item.stock > 10 %}in stock{% elif item.stock %}low{% else %}out{% endif %}</td></tr>"
        "{% endmacro %}"
    ),
    "page.html": (
        "{% extends 'base.html' %}{% from 'macros.html' import row %}"
        "{% block title %}{{ title|upper }}{% endblock %}"
        "{% block body %}<h1>{{ title }}</h1><table>"
        "{% for item in items|sort(attribute='price') %}{{ row(item, loop) }}{% endfor %}"
        "</table><p>{{ items|length }} items, total {{ items|sum(attribute='price')|round(2) }}</p>"
        "{% for group in items|groupby('category') %}<h2>{{ group.grouper }}</h2>"
        "<ul>{% for item in group.list %}<li>{{ item.name|truncate(12) }}</li>{% endfor %}</ul>"
        "{% endfor %}{% endblock %}"
    ),
}

ITEMS = [
    {
        "name": " ".join(words(3, i)),
        "price": (i * 37 % 1000) / 7,
        "stock": i % 15,
        "tags": words(4, i * 3),
        "category": words(1, i % 6)[0],
    }
    for i in range(200)
]

for _ in range(10):
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)
    page = env.get_template("page.html")
    for n in range(60):
        html = page.render(title=f"catalogue {n}", items=ITEMS)
print(len(html))
