"""The floor for a pygls server's start-up: a server that only answers `initialize`.

Run by bench_vs_ruff.py; the time to its initialize result is what importing pygls and
lsprotocol and starting the loop cost, which no pygls server can go below.
"""

from pygls.lsp.server import LanguageServer

if __name__ == "__main__":
    LanguageServer("floor", "1.0").start_io()
