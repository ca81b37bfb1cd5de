"""Workload: parse a pyproject-like TOML document, edit it in place and dump it (style-preserving)."""

import tomlkit

SECTIONS = []
for s in range(80):
    SECTIONS.append(
        f'[tool.section{s}]\n# comment {s}\nname = "pkg{s}"\nversion = "1.{s}.0"\n'
        f"enabled = {'true' if s % 2 else 'false'}\nratio = {s}.5\n"
        f"list = [{', '.join(str(i) for i in range(10))}]\n"
        f'inline = {{ a = {s}, b = "x{s}", c = [1, 2, 3] }}\n'
        f'[[tool.section{s}.entries]]\nkey = "k{s}"\nwhen = 2020-01-{s % 28 + 1:02d}T10:00:00Z\n'
    )
DOCUMENT = "\n".join(SECTIONS)

for _ in range(2):
    doc = tomlkit.parse(DOCUMENT)
    for s in range(80):
        table = doc["tool"][f"section{s}"]
        table["version"] = f"2.{s}.0"
        table["list"].append(s)
    text = tomlkit.dumps(doc)
print(len(text))
