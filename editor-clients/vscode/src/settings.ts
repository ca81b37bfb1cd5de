// The server's `perfpilot` settings, built from what the user actually set, so that
// `[tool.perfpilot]` in pyproject.toml keeps applying to everything the user did not override.
import * as vscode from "vscode";

/** Keys the server reads (camelCase, as in the `perfpilot` settings section). */
const SERVER_KEYS = ["profiles", "threshold", "unsafeFixes"] as const;
const LLM_KEYS = ["enabled", "provider", "model", "apiKeyEnv"] as const;
const VERIFY_KEYS = ["run", "budget", "tests"] as const;

interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Set by the user (user, workspace or folder settings), not just the declared default. */
function isSet(inspected: Inspected): boolean {
  return [inspected.globalValue, inspected.workspaceValue, inspected.workspaceFolderValue].some(
    (value) => value !== undefined,
  );
}

export function serverSettings(scope?: vscode.Uri): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("perfpilot", scope);
  const settings: Record<string, unknown> = {};
  for (const key of SERVER_KEYS) {
    const inspected = config.inspect(key);
    if (inspected && isSet(inspected)) {
      settings[key] = config.get(key);
    }
  }
  const llm: Record<string, unknown> = {};
  for (const key of LLM_KEYS) {
    // Only what the user set: a default (e.g. enabled: false) must not override pyproject.
    const inspected = config.inspect(`llm.${key}`);
    const value = config.get(`llm.${key}`);
    if (inspected && isSet(inspected) && value !== undefined && value !== "") {
      llm[key] = value;
    }
  }
  settings.llm = llm;
  const verify: Record<string, unknown> = {};
  for (const key of VERIFY_KEYS) {
    const inspected = config.inspect(`verify.${key}`);
    if (inspected && isSet(inspected)) {
      verify[key] = config.get(`verify.${key}`);
    }
  }
  // Running the workspace's code is never switched on by an untrusted workspace.
  if (!vscode.workspace.isTrusted) {
    verify.run = "never";
  }
  settings.verify = verify;
  return settings;
}

/** Settings changes that need the server told. */
export function affectsServer(event: vscode.ConfigurationChangeEvent): boolean {
  return [...SERVER_KEYS, "llm", "verify"].some((key) => event.affectsConfiguration(`perfpilot.${key}`));
}
