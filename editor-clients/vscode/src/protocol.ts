// The shapes perfpilot's server commands return (see server/lsp/handlers/commands.py).

export const LOAD_PROFILE = "perfpilot.loadProfile";
export const CLEAR_PROFILES = "perfpilot.clearProfiles";
export const PROFILE_RUN = "perfpilot.profileRun";
export const HOT_FUNCTIONS = "perfpilot.hotFunctions";
export const OPTIMIZE = "perfpilot.optimize";
export const VERIFY = "perfpilot.verify";
export const WORKSPACE_INFO = "perfpilot.workspaceInfo";

/** `1 call`, `12,345 calls`, as the server words them. */
export function callsText(calls: number): string {
  return `${calls.toLocaleString("en-US")} call${calls === 1 ? "" : "s"}`;
}

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

export interface HotFunction {
  uri: string;
  path: string;
  qualname: string;
  rank: number;
  ownPercent: number;
  selfPercent: number;
  libraryPercent: number;
  totalPercent: number;
  calls: number | null;
  range: LspRange;
}

export interface LoadResult {
  loaded: boolean;
  profiles?: string[];
}

export interface ProfileRunResult {
  ok: boolean;
  profile?: string;
  seconds?: number;
  error?: string;
  returncode?: number;
  cancelled?: boolean;
}
