// Line heat: a background tint on hot lines, scaled by the line's share of the profile (the
// hottest line of the file gets the strongest tint). The shares come from the server's inlay
// hints, which exist only where the profile has line data (py-spy, austin, pprof; not cProfile).
import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";
import { InlayHintRequest, InlayHint } from "vscode-languageclient";

const BUCKETS = 8;

export interface LineShare {
  line: number; // 0-based
  percent: number;
}

/** perfpilot's hints, as line shares: `data.percent` when present, else the `12.3%` label. */
export function lineShares(hints: InlayHint[] | null | undefined): LineShare[] {
  const shares: LineShare[] = [];
  for (const hint of hints ?? []) {
    const tooltip = typeof hint.tooltip === "string" ? hint.tooltip : hint.tooltip?.value ?? "";
    const data = hint.data as { percent?: unknown } | undefined;
    if (!tooltip.startsWith("perfpilot") && typeof data?.percent !== "number") {
      continue;
    }
    let percent = typeof data?.percent === "number" ? data.percent : NaN;
    if (Number.isNaN(percent)) {
      const label = typeof hint.label === "string" ? hint.label : hint.label.map((p) => p.value).join("");
      const match = /(\d+(?:\.\d+)?)\s*%/.exec(label);
      percent = match ? Number(match[1]) : NaN;
    }
    if (!Number.isNaN(percent)) {
      shares.push({ line: hint.position.line, percent });
    }
  }
  return shares;
}

function rgba(hex: string, alpha: number): string {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim()) ?? ["", "ff", "45", "00"];
  const [r, g, b] = [match[1], match[2], match[3]].map((h) => parseInt(h, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
}

export class LineHeat implements vscode.Disposable {
  private decorations: vscode.TextEditorDecorationType[] = [];
  private enabled: boolean;
  private pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.enabled = vscode.workspace.getConfiguration("perfpilot").get<boolean>("lineHeat.enabled", true);
    this.makeDecorations();
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  toggle(): boolean {
    this.enabled = !this.enabled;
    this.refreshAll();
    return this.enabled;
  }

  onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (event.affectsConfiguration("perfpilot.lineHeat")) {
      const config = vscode.workspace.getConfiguration("perfpilot");
      this.enabled = config.get<boolean>("lineHeat.enabled", true);
      this.clearAll();
      this.makeDecorations();
      this.refreshAll();
    }
  }

  private makeDecorations(): void {
    this.decorations.forEach((d) => d.dispose());
    const color = vscode.workspace.getConfiguration("perfpilot").get<string>("lineHeat.color", "#ff4500");
    this.decorations = Array.from({ length: BUCKETS }, (_, i) => {
      const strength = (i + 1) / BUCKETS;
      return vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: rgba(color, 0.06 + 0.34 * strength),
        overviewRulerColor: strength > 0.5 ? rgba(color, 0.8) : undefined,
        overviewRulerLane: vscode.OverviewRulerLane.Right,
      });
    });
  }

  /** Re-tint one document's editors soon (debounced: diagnostics arrive in bursts). */
  schedule(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        for (const editor of vscode.window.visibleTextEditors) {
          if (editor.document.uri.toString() === key) {
            void this.refresh(editor);
          }
        }
      }, 200),
    );
  }

  refreshAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      void this.refresh(editor);
    }
  }

  clearAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      this.decorations.forEach((d) => editor.setDecorations(d, []));
    }
  }

  async refresh(editor: vscode.TextEditor): Promise<void> {
    const client = this.client();
    if (editor.document.languageId !== "python") {
      return;
    }
    if (!this.enabled || !client || !client.isRunning()) {
      this.decorations.forEach((d) => editor.setDecorations(d, []));
      return;
    }
    const document = editor.document;
    const end = document.lineAt(document.lineCount - 1).range.end;
    let hints: InlayHint[] | null = null;
    try {
      hints = await client.sendRequest(InlayHintRequest.type, {
        textDocument: client.code2ProtocolConverter.asTextDocumentIdentifier(document),
        range: { start: { line: 0, character: 0 }, end: { line: end.line, character: end.character } },
      });
    } catch {
      return; // the document changed under the request; the next publish retints
    }
    const shares = lineShares(hints);
    const top = Math.max(0, ...shares.map((s) => s.percent));
    const buckets: vscode.DecorationOptions[][] = this.decorations.map(() => []);
    for (const share of shares) {
      if (share.line >= document.lineCount || top <= 0) {
        continue;
      }
      const index = Math.min(BUCKETS - 1, Math.floor((share.percent / top) * BUCKETS - 1e-9));
      buckets[Math.max(0, index)].push({
        range: document.lineAt(share.line).range,
        hoverMessage: `perfpilot: ${share.percent.toFixed(1)}% of the profile on this line`,
      });
    }
    this.decorations.forEach((d, i) => editor.setDecorations(d, buckets[i]));
  }

  dispose(): void {
    this.pending.forEach((t) => clearTimeout(t));
    this.decorations.forEach((d) => d.dispose());
  }
}
