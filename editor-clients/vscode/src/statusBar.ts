// The status-bar item: which profile is shown and how old it is.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";

export function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** The newest file in <root>/.perfpilot/profiles (what the server discovers by default). */
export function newestProfile(root: string): string | undefined {
  const dir = path.join(root, ".perfpilot", "profiles");
  let best: { file: string; mtime: number } | undefined;
  try {
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      const stat = fs.statSync(file);
      if (stat.isFile() && (!best || stat.mtimeMs > best.mtime)) {
        best = { file, mtime: stat.mtimeMs };
      }
    }
  } catch {
    return undefined;
  }
  return best?.file;
}

export class ProfileStatus implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem("perfpilot.profile", vscode.StatusBarAlignment.Left, 50);
  /** Profiles the user loaded or produced through perfpilot; none: discovery. */
  private explicit: string[] | undefined;
  private cleared = false;
  private hotCount = 0;
  private state: "starting" | "running" | "failed" = "starting";
  private failure = "";
  private readonly timer = setInterval(() => this.render(), 30_000);

  constructor(private readonly root: () => string | undefined) {
    this.item.name = "perfpilot profile";
    this.render();
    this.item.show();
  }

  loaded(paths: string[]): void {
    this.explicit = paths;
    this.cleared = false;
    this.render();
  }

  clear(): void {
    this.cleared = true;
    this.explicit = undefined;
    this.render();
  }

  setHotCount(count: number): void {
    this.hotCount = count;
    this.render();
  }

  setState(state: "starting" | "running" | "failed", failure = ""): void {
    this.state = state;
    this.failure = failure;
    this.render();
  }

  /** The profile file shown now, if known. */
  current(): string | undefined {
    if (this.cleared) return undefined;
    if (this.explicit && this.explicit.length > 0) return this.explicit[this.explicit.length - 1];
    const root = this.root();
    return root ? newestProfile(root) : undefined;
  }

  render(): void {
    const item = this.item;
    if (this.state === "failed") {
      item.text = "$(error) perfpilot";
      item.tooltip = `perfpilot: the language server is not running. ${this.failure}`;
      item.command = "perfpilot.restartServer";
      item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
      return;
    }
    item.backgroundColor = undefined;
    if (this.state === "starting") {
      item.text = "$(loading~spin) perfpilot";
      item.tooltip = "perfpilot: starting the language server";
      item.command = undefined;
      return;
    }
    const file = this.current();
    if (!file) {
      item.text = "$(flame) perfpilot: no profile";
      item.tooltip = "perfpilot: no profile loaded — click to load one";
      item.command = "perfpilot.pickProfile";
      return;
    }
    let when = "";
    try {
      when = age(Date.now() - fs.statSync(file).mtimeMs);
    } catch {
      when = "missing";
    }
    item.text = `$(flame) ${path.basename(file)} · ${when}`;
    const tooltip = new vscode.MarkdownString(
      `**perfpilot** — profile \`${file}\` (${when})\n\n${this.hotCount} hot function(s). Click to show them.`,
    );
    item.tooltip = tooltip;
    item.command = "perfpilot.showHotFunctions";
  }

  dispose(): void {
    clearInterval(this.timer);
    this.item.dispose();
  }
}
