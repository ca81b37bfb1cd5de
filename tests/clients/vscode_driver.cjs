// Drives a real VS Code (code-server, with the perfpilot .vsix installed) in Debian's chromium
// through playwright-core, the way a person works: open the file, look at the squiggles and the
// Problems view, go to the fix opportunity, open the quick-fix menu, pick perfpilot's fix, save.
// Prints one JSON object with what it saw; test_vscode.py makes the assertions.
//
// Environment: E2E_URL (code-server, folder opened), E2E_FILE (workspace-relative file to open),
// E2E_FIX_CODE / E2E_FIX_TITLE (the quick fix to apply), E2E_SCREENSHOTS (a folder),
// E2E_CHROMIUM (browser binary), E2E_TIMEOUT_MS, E2E_USER_SETTINGS / E2E_SETTINGS_FIXED (the
// user settings file and the content that fixes the server command). playwright-core is found through NODE_PATH.
const { chromium } = require("playwright-core");
const fs = require("fs");
const path = require("path");

const env = process.env;
const timeout = Number(env.E2E_TIMEOUT_MS || 60000);
const out = { steps: [], console: [] };
const started = Date.now();

function step(name) {
  out.steps.push(name);
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${name}\n`);
}

async function screenshot(page, name) {
  const file = path.join(env.E2E_SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  (out.screenshots ||= []).push(file);
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor({ timeout });
  await page.keyboard.press("Enter");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env.E2E_CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.setDefaultTimeout(timeout);
  page.on("console", (message) => {
    if (message.type() === "error") out.console.push(message.text().slice(0, 300));
  });
  try {
    await page.goto(env.E2E_URL);
    await page.locator(".monaco-workbench").waitFor({ timeout });
    await page.locator(".statusbar").waitFor({ timeout });
    step("workbench");

    // First the server cannot start (a broken perfpilot.serverCommand): a clear message says so.
    const toast = page.locator(".notification-toast", { hasText: "perfpilot: the language server could not start" });
    await toast.first().waitFor({ timeout });
    out.start_failure = await toast.first().innerText();
    await screenshot(page, "0-server-cannot-start");
    // The user fixes the setting (here: removes it, so the workspace's .venv is found); the
    // extension restarts the server on its own.
    fs.writeFileSync(env.E2E_USER_SETTINGS, env.E2E_SETTINGS_FIXED);
    await runCommand(page, "Notifications: Clear All Notifications");
    step("server-fixed");

    // Open the file with Quick Open, as a person would.
    await page.locator(".monaco-workbench").click({ position: { x: 800, y: 500 } }).catch(() => {});
    await page.keyboard.press("Control+P");
    const quickOpen = page.locator(".quick-input-widget input");
    await quickOpen.waitFor({ state: "visible", timeout });
    await quickOpen.fill(env.E2E_FILE);
    await page
      .locator(".quick-input-list .monaco-list-row", { hasText: path.basename(env.E2E_FILE) })
      .first()
      .waitFor({ timeout });
    await page.keyboard.press("Enter");
    const tab = page.locator(".tabs-container .tab", { hasText: path.basename(env.E2E_FILE) });
    await tab.first().waitFor({ timeout });
    step("opened");

    // The Problems view lists perfpilot's findings.
    await page.keyboard.press("Control+Shift+M");
    const rows = page.locator(".markers-panel .monaco-list-row");
    await rows.filter({ hasText: env.E2E_FIX_CODE }).first().waitFor({ timeout });
    await page.waitForTimeout(500);
    // Each entry as shown (message, `perfpilot(PP105)`, `[Ln 62, Col 13]`).
    out.problems = await rows.evaluateAll((nodes) => nodes.map((n) => n.innerText.replace(/\s+/g, " ")));
    await screenshot(page, "1-problems");
    step("problems");

    // Go to the fix opportunity at the position the Problems view gives.
    const fixRow = out.problems.find((label) => label.includes(env.E2E_FIX_CODE)) || "";
    const at = /\[Ln (\d+), Col (\d+)\]/.exec(fixRow);
    if (!at) throw new Error(`no position in the Problems entry: ${fixRow}`);
    const [line, column] = [at[1], at[2]];
    out.fix_position = { line: Number(line), column: Number(column) };
    await page.keyboard.press("Control+G");
    const goto = page.locator(".quick-input-widget input");
    await goto.waitFor({ state: "visible", timeout });
    await goto.fill(`:${line}:${column}`);
    await page.keyboard.press("Enter");
    await page.waitForTimeout(300);

    // The squiggles there: PP001 (information) on the hot function's name, and the fix
    // opportunity (warning); the code lens above the function.
    const editor = page.locator(".editor-instance .monaco-editor").first();
    await editor.locator(".squiggly-info").first().waitFor({ state: "attached", timeout });
    await editor.locator(".squiggly-warning").first().waitFor({ state: "attached", timeout });
    out.squiggles = {
      info: await editor.locator(".squiggly-info").count(),
      warning: await editor.locator(".squiggly-warning").count(),
    };
    await editor.locator(".codelens-decoration").first().waitFor({ state: "attached", timeout });
    out.codelenses = await editor.locator(".codelens-decoration").allInnerTexts();
    step("squiggles");

    // The quick-fix menu (Ctrl+.) offers perfpilot's fix: pick it.
    await page.keyboard.press("Control+.");
    const menu = page.locator(".action-widget").first();
    await menu.waitFor({ state: "visible", timeout });
    const items = menu.locator(".monaco-list-row.action");
    await items.first().waitFor({ timeout });
    out.quick_fixes = await items.allInnerTexts();
    await screenshot(page, "2-quick-fix-menu");
    // Arrow down to perfpilot's fix and press Enter, as on a keyboard.
    const focused = menu.locator(".monaco-list-row.action.focused");
    for (let i = 0; i <= out.quick_fixes.length; i++) {
      const text = (await focused.count()) ? await focused.first().innerText() : "";
      if (text.trim().startsWith(env.E2E_FIX_TITLE)) break;
      if (i === out.quick_fixes.length) throw new Error(`no quick fix titled ${env.E2E_FIX_TITLE}`);
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
    step("quick-fix");

    // The edit lands in the editor and the finding leaves the Problems view. (VS Code saves
    // files that a quick fix's workspace edit changed, files.refactoring.autoSave; Ctrl+S
    // covers an editor that does not.)
    await rows.filter({ hasText: env.E2E_FIX_CODE }).first().waitFor({ state: "detached", timeout });
    await page.keyboard.press("Control+S");
    await page.locator(".tabs-container .tab.dirty").first().waitFor({ state: "detached", timeout });
    out.problems_after = await rows.evaluateAll((nodes) => nodes.map((n) => n.innerText.replace(/\s+/g, " ")));
    step("saved");

    // The Hot Functions view and the status bar.
    await runCommand(page, "perfpilot: Show Hot Functions");
    const hot = page.locator('.pane-body .monaco-list-row[aria-level="1"]', { hasText: "own" });
    await hot.first().waitFor({ timeout });
    out.hot_functions = await hot.allInnerTexts();
    out.status = await page.locator(".statusbar-item", { hasText: ".prof" }).allInnerTexts();
    await screenshot(page, "3-hot-functions");
    step("hot-functions");
  } catch (error) {
    out.error = String(error && error.stack ? error.stack : error);
    await screenshot(page, "failure").catch(() => {});
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ ...out, error: String(error) }));
  process.exit(1);
});
