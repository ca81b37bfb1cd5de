// The server's `perfpilot` settings, built from what the user actually set, so that
// `[tool.perfpilot]` in pyproject.toml keeps applying to everything the user did not override.
import * as vscode from "vscode";

/** Keys the server reads (camelCase, as in the `perfpilot` settings section). */
const SERVER_KEYS = ["profiles", "threshold", "unsafeFixes", "includeGenerated"] as const;
/** LLM keys a workspace may tune (they also come from the workspace's pyproject.toml). */
const LLM_KEYS = ["model"] as const;
/**
 * LLM keys only the user decides: whether code is sent, where, and which variable holds the key.
 * Declared `"scope": "application"` in package.json, and read here from user settings only,
 * so a `.vscode/settings.json` that came with a repository cannot set them.
 */
const USER_ONLY_LLM_KEYS = ["enabled", "provider", "baseUrl", "apiKeyEnv"] as const;
/** Verification runs the workspace's code: whether and how much is the user's (user settings). */
const USER_ONLY_VERIFY_KEYS = ["run", "tests"] as const;
/** Regressions of the branch: what to compare a workspace may tune; what runs is the user's. */
const REGRESSION_KEYS = ["enabled", "workload", "base", "repeat"] as const;
const USER_ONLY_REGRESSION_KEYS = ["testCommand", "verify"] as const;

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
  for (const key of USER_ONLY_LLM_KEYS) {
    const value = config.inspect(`llm.${key}`)?.globalValue;
    if (value !== undefined && value !== "") {
      llm[key] = value;
    }
  }
  settings.llm = llm;
  const verify: Record<string, unknown> = {};
  for (const key of USER_ONLY_VERIFY_KEYS) {
    const value = config.inspect(`verify.${key}`)?.globalValue;
    if (value !== undefined) {
      verify[key] = value;
    }
  }
  const budget = config.inspect("verify.budget");
  if (budget && isSet(budget)) {
    verify.budget = config.get("verify.budget");
  }
  settings.verify = verify;
  const regressions: Record<string, unknown> = {};
  for (const key of REGRESSION_KEYS) {
    const inspected = config.inspect(`regressions.${key}`);
    const value = config.get(`regressions.${key}`);
    if (inspected && isSet(inspected) && value !== "") {
      regressions[key] = value;
    }
  }
  for (const key of USER_ONLY_REGRESSION_KEYS) {
    const value = config.inspect(`regressions.${key}`)?.globalValue;
    if (value !== undefined && value !== "") {
      regressions[key] = value;
    }
  }
  settings.regressions = regressions;
  // Skills measured not to win on real code are offered only if the user says so: a
  // repository's settings cannot turn that on (scope "application" in package.json).
  const includeUnproven = config.inspect("skills.includeUnproven")?.globalValue;
  if (typeof includeUnproven === "boolean") {
    settings.skills = { includeUnproven };
  }
  return settings;
}

/** Settings changes that need the server told. */
export function affectsServer(event: vscode.ConfigurationChangeEvent): boolean {
  return [...SERVER_KEYS, "llm", "verify", "regressions", "skills"].some((key) => event.affectsConfiguration(`perfpilot.${key}`));
}
