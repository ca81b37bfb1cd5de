// Finds the command that starts `perfpilot serve`: the setting, the selected Python environment,
// PATH, then the workspace's own virtualenv.
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

export async function resolveServerCommand(folder?: vscode.WorkspaceFolder): Promise<Resolution> {
  const config = vscode.workspace.getConfiguration("perfpilot", folder?.uri);
  const configured = config.get<string[]>("serverCommand") ?? [];
  if (configured.length > 0) {
    const [command, ...args] = configured;
    return { found: { command, args, source: "the setting perfpilot.serverCommand" }, searched: [] };
  }
  const searched: string[] = [];
  const interpreter = await selectedInterpreter(folder);
  if (interpreter) {
    const candidate = path.join(path.dirname(interpreter), SCRIPT);
    if (isExecutable(candidate)) {
      return {
        found: { command: candidate, args: ["serve"], source: `the selected Python environment (${interpreter})` },
        searched,
      };
    }
    searched.push(`the selected Python environment (${path.dirname(interpreter)})`);
  }
  const onPath = findOnPath(SCRIPT);
  if (onPath) {
    return { found: { command: onPath, args: ["serve"], source: "PATH" }, searched };
  }
  searched.push("PATH");
  if (folder) {
    for (const venv of [".venv", "venv"]) {
      const candidate = path.join(folder.uri.fsPath, venv, isWindows ? "Scripts" : "bin", SCRIPT);
      if (isExecutable(candidate)) {
        return { found: { command: candidate, args: ["serve"], source: `the workspace's ${venv}` }, searched };
      }
      searched.push(path.join(folder.uri.fsPath, venv));
    }
  }
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
