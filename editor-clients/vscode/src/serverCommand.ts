// Finds the command that starts `perfpilot serve` (the order is on resolveServerCommand).
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";

export interface ServerCommand {
  command: string;
  args: string[];
  /** Where it came from, for messages. */
  source: string;
}

export interface Resolution {
  found?: ServerCommand;
  /** What was looked at, in order, when nothing was found. */
  searched: string[];
}

const isWindows = process.platform === "win32";
const SCRIPT = isWindows ? "perfpilot.exe" : "perfpilot";

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, isWindows ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, envPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) {
      return path.join(dir, name);
    }
  }
  return undefined;
}

/** The interpreter the Python extension has selected for this folder, if it is installed. */
async function selectedInterpreter(folder?: vscode.WorkspaceFolder): Promise<string | undefined> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) {
    return undefined;
  }
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const env = api?.environments?.getActiveEnvironmentPath?.(folder?.uri);
    return typeof env?.path === "string" ? env.path : undefined;
  } catch {
    return undefined;
  }
}

const BIN = isWindows ? "Scripts" : "bin";

/** `dir` or a folder below it. */
function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** The folder and its parents, nearest first: where a project's `.venv` may be. */
function folderAndParents(start: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (path.dirname(dir) === dir) return dirs;
  }
}

/**
 * Where `perfpilot serve` is looked for, in order; the first hit wins and its source is logged:
 * 1. the setting perfpilot.serverCommand (application scope: User settings only, which VS Code
 *    applies in remote windows and code-server as well; a workspace cannot choose what runs);
 * 2. the Python extension's selected interpreter, beside it;
 * 3. the activated virtual environment ($VIRTUAL_ENV of the editor's environment);
 * 4. a `.venv` or `venv` in the workspace folder or a parent, nearest first;
 * 5. PATH.
 * A `perfpilot` found inside the workspace (2 or 4) is code from the repository: it runs only
 * in a trusted workspace (package.json keeps the extension off in Restricted Mode; this check
 * holds should that ever be relaxed).
 */
export async function resolveServerCommand(folder?: vscode.WorkspaceFolder): Promise<Resolution> {
  const config = vscode.workspace.getConfiguration("perfpilot", folder?.uri);
  const configured = config.get<string[]>("serverCommand") ?? [];
  if (configured.length > 0) {
    const [command, ...args] = configured;
    return { found: { command, args, source: "the setting perfpilot.serverCommand" }, searched: [] };
  }
  const trusted = vscode.workspace.isTrusted;
  const folderPath = folder?.uri.fsPath;
  const searched: string[] = [];
  const fromWorkspace = (file: string) => folderPath !== undefined && isInside(file, folderPath);
  const candidates: Array<{ file: string; source: string; where: string }> = [];
  const interpreter = await selectedInterpreter(folder);
  if (interpreter) {
    candidates.push({
      file: path.join(path.dirname(interpreter), SCRIPT),
      source: `the Python extension's selected interpreter (${interpreter})`,
      where: `the selected Python environment (${path.dirname(interpreter)})`,
    });
  }
  const active = process.env.VIRTUAL_ENV;
  if (active) {
    candidates.push({
      file: path.join(active, BIN, SCRIPT),
      source: `the activated virtual environment ($VIRTUAL_ENV=${active})`,
      where: `$VIRTUAL_ENV (${active})`,
    });
  }
  if (folderPath) {
    for (const dir of folderAndParents(folderPath)) {
      for (const venv of [".venv", "venv"]) {
        const env = path.join(dir, venv);
        candidates.push({ file: path.join(env, BIN, SCRIPT), source: `the virtual environment ${env}`, where: env });
      }
    }
  }
  for (const candidate of candidates) {
    if (!isExecutable(candidate.file)) {
      if (!candidate.where.endsWith("venv") || fs.existsSync(candidate.where)) searched.push(candidate.where);
      continue;
    }
    if (!trusted && fromWorkspace(candidate.file)) {
      searched.push(`${candidate.where} (not run: the workspace is not trusted)`);
      continue;
    }
    return { found: { command: candidate.file, args: ["serve"], source: candidate.source }, searched };
  }
  const onPath = findOnPath(SCRIPT);
  if (onPath) {
    return { found: { command: onPath, args: ["serve"], source: "PATH" }, searched };
  }
  searched.push("PATH");
  if (folderPath) searched.push(`${path.join(folderPath, ".venv")} and its parents' .venv/venv`);
  return { searched };
}

/** Why a command cannot be run (missing, not executable), or undefined when it looks runnable. */
export function commandProblem(server: ServerCommand): string | undefined {
  const { command } = server;
  if (command.includes("/") || command.includes("\\")) {
    return isExecutable(command) ? undefined : "does not exist or is not executable";
  }
  return findOnPath(command) ? undefined : "was not found on PATH";
}
