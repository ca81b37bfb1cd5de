// The "Hot Functions" view: perfpilot.hotFunctions, ranked, click to jump.
import * as path from "path";
import * as vscode from "vscode";
import { callsText, HotFunction } from "./protocol";

export class HotFunctionItem extends vscode.TreeItem {
  constructor(readonly entry: HotFunction) {
    super(entry.qualname, vscode.TreeItemCollapsibleState.None);
    const known = entry.calls !== null && entry.calls !== undefined;
    const calls = known ? ` · ${callsText(entry.calls as number)}` : "";
    // Shown next to the label, with the file name, like the Problems view.
    this.description = `${entry.ownPercent.toFixed(1)}% own · ${entry.totalPercent.toFixed(1)}% total${calls}  ${path.basename(entry.path)}`;
    const relative = vscode.workspace.asRelativePath(entry.path);
    this.tooltip = new vscode.MarkdownString(
      [
        `**#${entry.rank} \`${entry.qualname}\`** — ${relative}:${entry.range.start.line + 1}`,
        "",
        // One line, like the lens and the hover: a four-column table is cramped in a tooltip.
        [
          `**${entry.totalPercent.toFixed(1)}%** total`,
          `**${entry.selfPercent.toFixed(1)}%** self`,
          `**${entry.libraryPercent.toFixed(1)}%** in libraries`,
          known ? callsText(entry.calls as number) : "calls unknown",
        ].join(" · "),
      ].join("\n"),
    );
    this.iconPath = new vscode.ThemeIcon("flame");
    this.contextValue = "hotFunction";
    this.resourceUri = vscode.Uri.file(entry.path);
    this.label = { label: `${entry.rank}. ${entry.qualname}`, highlights: [] };
    this.command = { command: "perfpilot.openHotFunction", title: "Go to Hot Function", arguments: [entry] };
    this.id = `${entry.rank}:${entry.path}:${entry.qualname}`;
  }
}

export class HotFunctionsProvider implements vscode.TreeDataProvider<HotFunctionItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private entries: HotFunction[] = [];

  constructor(private readonly fetch: () => Promise<HotFunction[]>) {}

  get current(): readonly HotFunction[] {
    return this.entries;
  }

  async refresh(): Promise<HotFunction[]> {
    this.entries = await this.fetch();
    this.changed.fire();
    return this.entries;
  }

  getTreeItem(item: HotFunctionItem): vscode.TreeItem {
    return item;
  }

  getChildren(item?: HotFunctionItem): HotFunctionItem[] {
    return item ? [] : this.entries.map((entry) => new HotFunctionItem(entry));
  }
}

/** Open a hot function's file with its name selected. */
export async function openHotFunction(entry: HotFunction): Promise<void> {
  const uri = entry.uri ? vscode.Uri.parse(entry.uri) : vscode.Uri.file(entry.path);
  const { start, end } = entry.range;
  const selection = new vscode.Range(start.line, start.character, end.line, end.character);
  await vscode.window.showTextDocument(uri, { selection, preview: false });
}
