// Drives a real VS Code (code-server, with the perfpilot .vsix installed) in Debian's chromium
// through playwright-core, the way a person works: open the file, look at the squiggles and the
// Problems view, go to the fix opportunity, open the quick-fix menu, pick perfpilot's fix, save.
// Prints one JSON object with what it saw; test_vscode.py makes the assertions.
//
// Environment: E2E_URL (code-server, folder opened), E2E_FILE (workspace-relative file to open),
// E2E_FIX_CODE / E2E_FIX_TITLE (the quick fix to apply), E2E_SCREENSHOTS (a folder),
// E2E_CHROMIUM (browser binary), E2E_TIMEOUT_MS, E2E_WORKSPACE, E2E_UNSAFE_FILE /
// E2E_UNSAFE_LINE / E2E_UNSAFE_COLUMN / E2E_UNSAFE_TITLE (an unsafe fix, at a hot function's
// name: hovered, then applied through the refactor preview), E2E_PYSPY_PROFILE (a py-spy profile
// copied into .perfpilot/profiles for line heat), E2E_PROFILES_DIR, E2E_PROFILE_COMMAND (typed
// into "Profile a Command"), E2E_MODE ("untrusted": only open E2E_FILE in Restricted Mode).
// playwright-core is found through NODE_PATH.
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

async function openFile(page, file) {
  await page.keyboard.press("Control+P");
  const quickOpen = page.locator(".quick-input-widget input");
  await quickOpen.waitFor({ state: "visible", timeout });
  await quickOpen.fill(file);
  await page
    .locator(".quick-input-list .monaco-list-row", { hasText: path.basename(file) })
    .first()
    .waitFor({ timeout });
  await page.keyboard.press("Enter");
  await page.locator(".tabs-container .tab.active", { hasText: path.basename(file) }).first().waitFor({ timeout });
}

async function gotoPosition(page, line, column) {
  await page.keyboard.press("Control+G");
  const goto = page.locator(".quick-input-widget input");
  await goto.waitFor({ state: "visible", timeout });
  await goto.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
}

/** Walk the open quick-fix menu down to the action whose title starts with `title`; Enter. */
async function pickQuickFix(page, title) {
  const menu = page.locator(".action-widget").first();
  await menu.waitFor({ state: "visible", timeout });
  const items = menu.locator(".monaco-list-row.action");
  await items.first().waitFor({ timeout });
  const texts = await items.allInnerTexts();
  const focused = menu.locator(".monaco-list-row.action.focused");
  for (let i = 0; i <= texts.length; i++) {
    const text = (await focused.count()) ? await focused.first().innerText() : "";
    if (text.trim().startsWith(title)) break;
    if (i === texts.length) throw new Error(`no quick fix titled ${title}`);
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Enter");
  return texts;
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

    if (env.E2E_MODE === "untrusted") {
      // Restricted Mode: open a Python file, as a user would, and give the extension time.
      await openFile(page, env.E2E_FILE);
      await page.waitForTimeout(8000);
      await screenshot(page, "0-restricted-mode");
      step("untrusted");
      return;
    }

    // First the server cannot start (a broken perfpilot.serverCommand): a clear message says so.
    const toast = page.locator(".notification-toast", { hasText: "perfpilot: the language server could not start" });
    await toast.first().waitFor({ timeout });
    out.start_failure = await toast.first().innerText();
    await screenshot(page, "0-server-cannot-start");
    // Its "Open Settings" shows the server setting (not an empty tab).
    await toast.first().locator(".monaco-button", { hasText: "Open Settings" }).click();
    const setting = page.locator(".settings-editor .setting-item-title", { hasText: "Server Command" });
    await setting.first().waitFor({ timeout });
    out.settings_titles = await page.locator(".settings-editor .setting-item-title").allInnerTexts();
    await screenshot(page, "0b-open-settings");
    // The user fixes it there: the setting's gear, "Reset Setting" (VS Code writes the file).
    const item = page.locator(".settings-editor .setting-item-contents", { hasText: "Server Command" }).first();
    const reset = page.locator(".monaco-menu .action-label", { hasText: "Reset Setting" }).first();
    for (let attempt = 0; attempt < 5 && !(await reset.isVisible()); attempt++) {
      await item.hover();
      await page.waitForTimeout(300);
      await item.locator(".setting-toolbar-container .action-label").first().click({ timeout: 5000 }).catch(() => {});
      await reset.waitFor({ state: "visible", timeout: 3000 }).catch(() => {});
    }
    // By keyboard: the menu can keep moving under the pointer while it animates in.
    for (let i = 0; i < 10; i++) {
      const focused = page.locator(".monaco-menu .action-item.focused");
      if ((await focused.count()) && (await focused.first().innerText()).includes("Reset Setting")) break;
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
    await page.waitForTimeout(500);
    // Settings open as a modal in recent VS Code: Escape leaves it (the search box, then it).
    for (let i = 0; i < 3 && (await page.locator(".settings-editor").isVisible()); i++) {
      await page.keyboard.press("Escape");
      await page.waitForTimeout(300);
    }
    // With the setting gone, the extension restarts the server on its own and finds it.
    await runCommand(page, "Notifications: Clear All Notifications");
    await runCommand(page, "View: Close All Editors");
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
    const editor = page.locator(".editor-instance .monaco-editor").first();

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

    // Hover a hot function's name: the server's evidence.
    await openFile(page, env.E2E_UNSAFE_FILE);
    await gotoPosition(page, env.E2E_UNSAFE_LINE, Number(env.E2E_UNSAFE_COLUMN) + 2);
    await editor.locator(".squiggly-info").first().waitFor({ state: "attached", timeout });
    // The server's part of the hover (the diagnostics' messages come first).
    const hover = page.locator(".monaco-hover", { hasText: "by own time" });
    for (let attempt = 0; attempt < 5 && !(await hover.count()); attempt++) {
      await page.keyboard.press("Control+K");
      await page.keyboard.press("Control+I");
      await page.waitForTimeout(1000);
    }
    await hover.first().waitFor({ state: "visible", timeout });
    out.hover = await hover.first().innerText();
    await screenshot(page, "4-hover");
    await page.keyboard.press("Escape");
    step("hover");

    // An unsafe fix: the refactor preview shows the change; nothing changes until Apply.
    const before = fs.readFileSync(path.join(env.E2E_WORKSPACE, env.E2E_UNSAFE_FILE), "utf8");
    await page.keyboard.press("Control+.");
    await pickQuickFix(page, env.E2E_UNSAFE_TITLE);
    const preview = page.locator(".bulk-edit-panel");
    await preview.locator(".monaco-tl-contents").first().waitFor({ timeout });
    await page.waitForTimeout(500);
    out.refactor_preview = await preview.locator(".monaco-tl-contents").allInnerTexts();
    out.unchanged_during_preview =
      fs.readFileSync(path.join(env.E2E_WORKSPACE, env.E2E_UNSAFE_FILE), "utf8") === before &&
      !(await page.locator(".tabs-container .tab.dirty").count());
    await screenshot(page, "5-unsafe-fix-preview");
    // Edits that need confirmation start unticked: the user ticks the file's change, then Apply.
    await preview.locator(".edit-checkbox").first().click();
    await page.waitForTimeout(300);
    await screenshot(page, "5b-unsafe-fix-ticked");
    await preview.locator(".buttons .monaco-button", { hasText: "Apply" }).first().click();
    await page.locator(".tabs-container .tab.dirty").first().waitFor({ state: "attached", timeout }).catch(() => {});
    await page.keyboard.press("Control+S");
    await page.locator(".tabs-container .tab.dirty").first().waitFor({ state: "detached", timeout });
    step("unsafe-fix");

    // Line heat: a py-spy profile (line data) lands in .perfpilot/profiles; hot lines get tinted.
    const heat = editor.locator('.view-overlays [class*="ced-"]');
    out.line_heat_before = await heat.count();
    fs.copyFileSync(env.E2E_PYSPY_PROFILE, path.join(env.E2E_PROFILES_DIR, "zz-py-spy.speedscope.json"));
    await heat.first().waitFor({ state: "attached", timeout });
    out.line_heat = await heat.count();
    await screenshot(page, "6-line-heat");
    step("line-heat");

    // Profile a Command: the program runs under the profiler and its profile is shown.
    await runCommand(page, "perfpilot: Profile a Command");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible", timeout });
    await input.fill(env.E2E_PROFILE_COMMAND);
    await page.keyboard.press("Enter");
    const profiled = page.locator(".notification-toast", { hasText: "perfpilot: profiled" });
    await profiled.first().waitFor({ timeout: timeout * 2 });
    out.profiled = await profiled.first().innerText();
    await screenshot(page, "7-profile-a-command");
    step("profile-command");
  } catch (error) {
    out.error = String(error && error.stack ? error.stack : error);
    await screenshot(page, "failure").catch(() => {});
  } finally {
    await browser.close();
    process.stdout.write(JSON.stringify(out));
  }
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ ...out, error: String(error) }));
  process.exit(1);
});
