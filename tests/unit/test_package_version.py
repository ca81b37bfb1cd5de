"""The version is read from the installed metadata by hand, without importing importlib.metadata.

Each check runs in a fresh interpreter: this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def fresh(code: str, *path: str) -> dict[str, object]:
    """Run `code` (which sets `result`) in a fresh interpreter, `path` first on sys.path."""
    script = f"import sys\nsys.path[:0] = {list(path)!r}\n{code}\n"
    script += "import json\nprint(json.dumps(result))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_the_language_server_knows_its_version_without_importlib_metadata() -> None:
    result = fresh(
        "from perfpilot.server.lsp.app import create_server\n"
        "server = create_server()\n"
        "loaded = 'importlib.metadata' in sys.modules\n"
        "from importlib.metadata import version\n"
        "result = {'server': server.version, 'metadata': version('perfpilot'), 'loaded': loaded}"
    )
    assert result["loaded"] is False
    assert result["server"] == result["metadata"]


def test_the_first_installation_on_sys_path_wins_as_for_importlib_metadata(
    tmp_path: Path,
) -> None:
    shadow = tmp_path / "Perfpilot-9.8.7.dist-info"
    shadow.mkdir()
    (shadow / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: perfpilot\nVersion: 9.8.7\n\nVersion: 1.0 (the body)\n"
    )
    (tmp_path / "perfpilot_extra-5.0.dist-info").mkdir()  # another distribution: ignored
    code = (
        "from perfpilot.server.render import package_version\n"
        "from importlib.metadata import version\n"
        "result = {'ours': package_version(), 'metadata': version('perfpilot')}"
    )
    result = fresh(code, str(tmp_path))
    assert result == {"ours": "9.8.7", "metadata": "9.8.7"}
    # A METADATA without a version is passed over for the next installation.
    (shadow / "METADATA").write_text("Metadata-Version: 2.1\nName: perfpilot\n\n")
    assert fresh(code, str(tmp_path))["ours"] == fresh(code)["ours"] != "9.8.7"
