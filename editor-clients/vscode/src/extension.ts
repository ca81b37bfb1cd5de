// perfpilot for VS Code: starts `perfpilot serve` and adds profile commands, a hot-functions view,
// a status-bar item and line heat on top of the server's diagnostics, lenses, hints and fixes.
import * as path from "path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { HotFunctionsProvider, HotFunctionItem, openHotFunction } from "./hotFunctions";
import { LineHeat } from "./lineHeat";
import {
  CLEAR_PROFILES,
  HOT_FUNCTIONS,
  WORKSPACE_INFO,
  HotFunction,
  LOAD_PROFILE,
  LoadResult,
  OPTIMIZE,
  PROFILE_RUN,
  ProfileRunResult,
  VERIFY,
} from "./protocol";
import { commandProblem, resolveServerCommand, ServerCommand } from "./serverCommand";
import { affectsServer, serverSettings } from "./settings";
import { ProfileStatus } from "./statusBar";

const INSTALL_HINT =
  "Install it into your project's environment (`pip install perfpilot`), select that environment with " +
  "'Python: Select Interpreter', or set `perfpilot.serverCommand`.";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let status: ProfileStatus;
let hot: HotFunctionsProvider;
let heat: LineHeat;

function workspaceFolder(): vscode.WorkspaceFolder | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  return (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
}

/** The project root the server works in (perfpilot's one rule), once it said; else the folder. */
let serverRoot: string | undefined;

function root(): string | undefined {
  return serverRoot ?? workspaceFolder()?.uri.fsPath;
}

/** Run one of the server's workspace commands; a JSON-RPC error becomes a thrown Error. */
async function execute<T>(command: string, args: unknown[] = []): Promise<T> {
  if (!client || !client.isRunning()) {
    throw new Error("the perfpilot language server is not running (see the perfpilot output)");
  }
  return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
}

function describe(error: unknown): string {
  if (error instanceof ResponseError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

async function refreshHot(): Promise<void> {
  try {
    const entries = await hot.refresh();
    status.setHotCount(entries.length);
  } catch (error) {
    output.appendLine(`hotFunctions failed: ${describe(error)}`);
  }
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  status.setState("starting");
  const folder = workspaceFolder();
  const resolution = await resolveServerCommand(folder);
  if (!resolution.found) {
    const message =
      `perfpilot: the language server could not start: the \`perfpilot\` command was not found ` +
      `(looked in ${resolution.searched.join(", ")}). ${INSTALL_HINT}`;
    reportStartFailure(message);
    return;
  }
  const found: ServerCommand = resolution.found;
  const commandLine = [found.command, ...found.args].join(" ");
  const problem = commandProblem(found);
  if (problem) {
    reportStartFailure(
      `perfpilot: the language server could not start: \`${found.command}\` (from ${found.source}) ${problem}. ${INSTALL_HINT}`,
    );
    return;
  }
  if (resolution.searched.length > 0) {
    output.appendLine(`Looked for perfpilot in: ${resolution.searched.join(", ")}`);
  }
  output.appendLine(`Starting ${commandLine} (from ${found.source})`);
  // No `transport`: the server speaks LSP on stdio by default and takes no --stdio flag.
  const serverOptions: ServerOptions = {
    command: found.command,
    args: found.args,
    options: { cwd: folder?.uri.fsPath },
  };
  let initialized = false;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: { perfpilot: serverSettings(folder?.uri) },
    // Answer the server's workspace/configuration pulls with the server's keys only.
    middleware: {
      workspace: {
        configuration: async (params, token, next) => {
          const result = await next(params, token);
          if (!Array.isArray(result)) return result;
          return params.items.map((item, i) =>
            item.section === "perfpilot"
              ? serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : folder?.uri)
              : result[i],
          );
        },
      },
    },
    initializationFailedHandler: () => false,
    // A server that never came up is not restarted in a loop: the message below says why.
    errorHandler: {
      error: () => ({ action: initialized ? ErrorAction.Continue : ErrorAction.Shutdown }),
      closed: () => ({ action: initialized ? CloseAction.Restart : CloseAction.DoNotRestart }),
    },
  };
  const created = new LanguageClient("perfpilot", "perfpilot", serverOptions, clientOptions);
  client = created;
  created.onDidChangeState((event) => {
    if (event.newState === State.Stopped && client === created) {
      status.setState("failed", "It stopped; see the perfpilot output.");
      heat.clearAll();
    }
  });
  try {
    await created.start();
    initialized = true;
  } catch (error) {
    reportStartFailure(
      `perfpilot: the language server could not start: \`${commandLine}\` (from ${found.source}) failed: ` +
        `${describe(error)}. Is it perfpilot (\`perfpilot --version\`)? The perfpilot output has its messages. ${INSTALL_HINT}`,
    );
    return;
  }
  status.setState("running");
  try {
    const info = await execute<{ root?: string }>(WORKSPACE_INFO);
    serverRoot = info?.root;
    output.appendLine(`Project root: ${serverRoot} (profiles in ${serverRoot}/.perfpilot/profiles)`);
    status.render();
  } catch (error) {
    output.appendLine(`workspaceInfo failed: ${describe(error)}`);
  }
  void refreshHot();
  heat.refreshAll();
  context.subscriptions.push({ dispose: () => void (created.needsStop() ? created.stop() : undefined) });
}

function reportStartFailure(message: string): void {
  output.appendLine(message);
  status.setState("failed", message);
  void vscode.window.showErrorMessage(message, "Open Settings", "Show Output").then((choice) => {
    if (choice === "Open Settings") {
      // Filtered to the server settings; `application` scope, so they show (and apply) in the
      // User tab of remote windows and code-server as well as locally.
      void vscode.commands.executeCommand("workbench.action.openSettings", "perfpilot.server");
    } else if (choice === "Show Output") {
      output.show();
    }
  });
}

async function pickProfile(): Promise<void> {
  const base = root();
  const picked = await vscode.window.showOpenDialog({
    title: "perfpilot: Load Profile",
    openLabel: "Load Profile",
    canSelectMany: true,
    defaultUri: base ? vscode.Uri.file(path.join(base, ".perfpilot", "profiles")) : undefined,
    filters: {
      Profiles: ["prof", "pstats", "json", "txt", "collapsed", "folded", "pprof", "pb", "gz", "zst", "austin"],
      "All files": ["*"],
    },
  });
  if (!picked || picked.length === 0) return;
  await loadProfiles(picked.map((uri) => uri.fsPath));
}

async function loadProfiles(paths: string[]): Promise<void> {
  try {
    const result = await execute<LoadResult>(LOAD_PROFILE, paths);
    if (result?.loaded) {
      status.loaded(paths);
      await refreshHot();
      void vscode.window.setStatusBarMessage(`perfpilot: loaded ${paths.map((p) => path.basename(p)).join(", ")}`, 5000);
    }
    // When not loaded, the server has already said why (window/showMessage).
  } catch (error) {
    void vscode.window.showErrorMessage(`perfpilot: cannot load the profile: ${describe(error)}`);
  }
}

let lastCommand = "";

async function profileCommand(): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage("perfpilot: profiling runs the workspace's code; trust the workspace first.");
    return;
  }
  const command = await vscode.window.showInputBox({
    title: "perfpilot: Profile a Command",
    prompt: "A command to run under the profiler, in the workspace folder (e.g. python main.py --small)",
    value: lastCommand || "python ",
    ignoreFocusOut: true,
  });
  if (!command || !command.trim()) return;
  lastCommand = command;
  try {
    // The server reports progress (cancellable) while the program runs.
    const result = await execute<ProfileRunResult>(PROFILE_RUN, [command]);
    if (result?.ok && result.profile) {
      status.loaded([result.profile]);
      await refreshHot();
      void vscode.window.showInformationMessage(
        `perfpilot: profiled \`${command}\` in ${(result.seconds ?? 0).toFixed(1)} s`,
      );
    }
  } catch (error) {
    void vscode.window.showErrorMessage(`perfpilot: profiling failed: ${describe(error)}`);
  }
}

async function clearProfiles(): Promise<void> {
  try {
    await execute(CLEAR_PROFILES);
    status.clear();
    await refreshHot();
    heat.refreshAll();
  } catch (error) {
    void vscode.window.showErrorMessage(`perfpilot: ${describe(error)}`);
  }
}

/** Optimize with AI: the server's perfpilot.optimize for a hot function or the cursor. */
async function optimizeWithAI(target?: HotFunctionItem | HotFunction | vscode.Uri): Promise<void> {
  let args: unknown[];
  const entry = target instanceof HotFunctionItem ? target.entry : (target as HotFunction | undefined);
  if (entry && typeof entry === "object" && "qualname" in entry) {
    args = [entry.uri, entry.range.start];
  } else {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== "python") {
      void vscode.window.showWarningMessage("perfpilot: put the cursor in a Python function to optimize it.");
      return;
    }
    const position = editor.selection.active;
    args = [editor.document.uri.toString(), { line: position.line, character: position.character }];
  }
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "perfpilot: optimizing with AI…", cancellable: false },
      () => execute(OPTIMIZE, args),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`perfpilot: Optimize with AI failed: ${describe(error)}`);
  }
}

/** Verify the fixes of the function at the cursor on its recorded calls (runs the user's code). */
async function verifyFixes(): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage("perfpilot: verification runs the workspace's code; trust the workspace first.");
    return;
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "python") {
    void vscode.window.showWarningMessage("perfpilot: put the cursor in a Python function to verify its fixes.");
    return;
  }
  const position = editor.selection.active;
  try {
    // The server reports progress (cancellable) while it replays the recorded calls.
    await execute(VERIFY, [editor.document.uri.toString(), { line: position.line, character: position.character }]);
  } catch (error) {
    void vscode.window.showErrorMessage(`perfpilot: verify failed: ${describe(error)}`);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("perfpilot");
  status = new ProfileStatus(root);
  hot = new HotFunctionsProvider(async () =>
    client && client.isRunning() ? ((await execute<HotFunction[]>(HOT_FUNCTIONS)) ?? []) : [],
  );
  heat = new LineHeat(() => client);
  const view = vscode.window.createTreeView("perfpilot.hotFunctions", { treeDataProvider: hot, showCollapseAll: false });

  const profileWatcher = vscode.workspace.createFileSystemWatcher("**/.perfpilot/profiles/**");
  const onProfileFiles = () => {
    status.render();
    // The server reloads on its own; give it a moment, then ask for the new ranking.
    setTimeout(() => void refreshHot(), 1500);
  };
  let diagnosticsTimer: NodeJS.Timeout | undefined;

  context.subscriptions.push(
    output,
    status,
    heat,
    view,
    profileWatcher,
    profileWatcher.onDidCreate(onProfileFiles),
    profileWatcher.onDidChange(onProfileFiles),
    profileWatcher.onDidDelete(onProfileFiles),
    vscode.commands.registerCommand("perfpilot.pickProfile", pickProfile),
    vscode.commands.registerCommand("perfpilot.profileCommand", profileCommand),
    vscode.commands.registerCommand("perfpilot.clear", clearProfiles),
    vscode.commands.registerCommand("perfpilot.showHotFunctions", async () => {
      await vscode.commands.executeCommand("perfpilot.hotFunctions.focus");
      await refreshHot();
    }),
    vscode.commands.registerCommand("perfpilot.refreshHotFunctions", refreshHot),
    vscode.commands.registerCommand("perfpilot.openHotFunction", openHotFunction),
    vscode.commands.registerCommand("perfpilot.optimizeWithAI", optimizeWithAI),
    vscode.commands.registerCommand("perfpilot.verifyFixes", verifyFixes),
    vscode.commands.registerCommand("perfpilot.toggleLineHeat", () => {
      const on = heat.toggle();
      void vscode.window.setStatusBarMessage(`perfpilot: line heat ${on ? "on" : "off"}`, 3000);
    }),
    vscode.commands.registerCommand("perfpilot.restartServer", async () => {
      const old = client;
      client = undefined;
      if (old) {
        try {
          await (old.needsStop() ? old.stop() : old.dispose());
        } catch (error) {
          output.appendLine(`stopping the old client: ${describe(error)}`);
        }
      }
      await startClient(context);
    }),
    // perfpilot found in the workspace's own .venv runs only once the workspace is trusted.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void vscode.commands.executeCommand("perfpilot.restartServer")),
    vscode.workspace.onDidChangeConfiguration((event) => {
      heat.onConfigurationChanged(event);
      if (event.affectsConfiguration("perfpilot.serverCommand")) {
        void vscode.commands.executeCommand("perfpilot.restartServer");
      } else if (affectsServer(event) && client?.isRunning()) {
        void client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { perfpilot: serverSettings(workspaceFolder()?.uri) },
        });
        setTimeout(() => void refreshHot(), 1000);
      }
    }),
    // perfpilot's diagnostics change when a profile loads or a document is re-analysed:
    // re-tint those documents and refresh the ranking.
    vscode.languages.onDidChangeDiagnostics((event) => {
      for (const uri of event.uris) heat.schedule(uri);
      clearTimeout(diagnosticsTimer);
      diagnosticsTimer = setTimeout(() => void refreshHot(), 500);
    }),
    vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => void heat.refresh(e))),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  if (client?.needsStop()) {
    await client.stop();
  }
}
