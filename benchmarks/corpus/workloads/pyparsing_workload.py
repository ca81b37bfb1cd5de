"""Workload: parse arithmetic expressions and a small config language with pyparsing grammars."""

import pyparsing as pp

# An infix arithmetic grammar, the classic pyparsing use.
number = pp.pyparsing_common.number
ident = pp.Word(pp.alphas, pp.alphanums + "_")
operand = number | ident
expr = pp.infix_notation(
    operand,
    [
        (pp.one_of("- +"), 1, pp.OpAssoc.RIGHT),
        (pp.one_of("* /"), 2, pp.OpAssoc.LEFT),
        (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT),
    ],
)

# key = value config lines with sections and quoted strings.
key = pp.Word(pp.alphas + "_", pp.alphanums + "_.")
value = pp.QuotedString('"') | pp.pyparsing_common.number | pp.Word(pp.printables)
section = pp.Group(
    pp.Suppress("[")
    + key
    + pp.Suppress("]")
    + pp.Group(pp.ZeroOrMore(pp.Group(key + pp.Suppress("=") + value)))
)
config = pp.OneOrMore(section)

EXPRESSIONS = [f"a{i} * ({i} + b_{i % 7}) - -{i % 5} / c + {i}.5 * (d - {i})" for i in range(250)]
CONFIG = "\n".join(
    f"[section_{s}]\n"
    + "\n".join(f'key_{k} = "value {s} {k}"\nnum_{k} = {s * k}.25' for k in range(8))
    for s in range(60)
)

for _ in range(5):
    results = [expr.parse_string(text, parse_all=True) for text in EXPRESSIONS]
    parsed = config.parse_string(CONFIG, parse_all=True)
print(len(results), len(parsed))
