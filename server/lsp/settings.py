"""Editor settings (`perfpilot` section, camelCase) → perfpilot Settings, over pyproject's."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from perfpilot.tools.config import ConfigError, Settings, load_settings, settings_from_mapping
from perfpilot.tools.user_config import user_includes_unproven

# Keys the server accepts but other parts of perfpilot own (the LLM agent reads `llm`).
_PASSED_THROUGH = frozenset({"llm", "debounce", "verify", "regressions", "skills"})
# Why 150 ms: keystrokes within a word come ~100-200 ms apart, so a shorter wait recomputes
# (re-index, re-annotate, re-publish) on nearly every key and moves squiggles under the cursor;
# a longer one passes the ~200 ms where people notice a lag after they stop typing.
DEFAULT_DEBOUNCE_MS = 150
# When verification (which runs the workspace's code) may start: only on the user's command
# by default; "onCodeAction" also starts it when fixes are offered; "never" turns it off.
VERIFY_RUNS = ("onRequest", "onCodeAction", "never")


def snake_case(name: str) -> str:
    """`unsafeFixes` → `unsafe_fixes`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def client_settings(raw: object, root: Path) -> tuple[Settings, list[str]]:
    """Workspace settings: pyproject's `[tool.perfpilot]`, overridden by the editor's values.

    Returns the settings and warnings; raises ConfigError for an invalid value so the caller
    can keep the previous settings and tell the user.
    """
    base = load_settings(root)
    if raw is None or raw == []:
        # An empty Lua table reaches us as `[]` (Neovim cannot tell {} from []): no overrides.
        return base, base.warnings
    if not isinstance(raw, dict):
        raise ConfigError(f"perfpilot settings: expected an object, got {raw!r}")
    table = {snake_case(k): v for k, v in raw.items() if k not in _PASSED_THROUGH}
    table = {k: v for k, v in table.items() if v is not None}
    overrides = settings_from_mapping(table, "perfpilot settings:")
    merged = replace(
        base,
        profiles=overrides.profiles if "profiles" in table else base.profiles,
        threshold=overrides.threshold if "threshold" in table else base.threshold,
        path_mappings=overrides.path_mappings if "path_mappings" in table else base.path_mappings,
        unsafe_fixes=overrides.unsafe_fixes if "unsafe_fixes" in table else base.unsafe_fixes,
        include_generated=(
            overrides.include_generated if "include_generated" in table else base.include_generated
        ),
        select=overrides.select if "select" in table else base.select,
        ignore=overrides.ignore if "ignore" in table else base.ignore,
        warnings=[*base.warnings, *overrides.warnings],
    )
    return merged, merged.warnings


def debounce_seconds(raw: object) -> float:
    """The per-document debounce, from `perfpilot.debounce` (milliseconds) if valid."""
    if isinstance(raw, dict):
        value = raw.get("debounce")
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 5000:
            return value / 1000.0
    return DEFAULT_DEBOUNCE_MS / 1000.0


def include_unproven(raw: object, settings: Settings) -> bool:
    """`perfpilot.skills.includeUnproven` (else the user's config file), unless the project's
    pyproject turns it off."""
    table = raw.get("skills") if isinstance(raw, dict) else None
    chosen = table.get("includeUnproven") if isinstance(table, dict) else None
    asked = chosen if isinstance(chosen, bool) else user_includes_unproven()[0]
    return asked and not settings.forbid_unproven


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """`perfpilot.verify`: when verification runs, its budget per fix, and covering tests."""

    run: str = "onRequest"
    budget: float = 10.0
    tests: bool = False


def verify_options(raw: object) -> tuple[VerifyOptions, list[str]]:
    """The editor's `perfpilot.verify` settings; invalid values fall back, with a warning."""
    table = raw.get("verify") if isinstance(raw, dict) else None
    if not isinstance(table, dict):
        return VerifyOptions(), []
    warnings = []
    options = VerifyOptions()
    run = table.get("run", options.run)
    if run not in VERIFY_RUNS:
        warnings.append(f"perfpilot.verify.run: expected one of {', '.join(VERIFY_RUNS)}")
        run = options.run
    budget = table.get("budget", options.budget)
    if not isinstance(budget, int | float) or isinstance(budget, bool) or not 0 < budget <= 600:
        warnings.append("perfpilot.verify.budget: expected seconds between 0 and 600")
        budget = options.budget
    tests = table.get("tests", options.tests)
    if not isinstance(tests, bool):
        warnings.append("perfpilot.verify.tests: expected true or false")
        tests = options.tests
    return VerifyOptions(run, float(budget), tests), warnings
