-- Drives a real headless Neovim through the perfpilot plugin, as a person would, and writes what
-- it saw to $PERFPILOT_OUT (JSON). The Python test (test_nvim.py) makes the assertions.
--
-- Environment: PERFPILOT_PLUGIN (editor-clients/nvim), PERFPILOT_ROOT (a profiled copy of the
-- example), PERFPILOT_CMD (JSON argv of the server, or empty for the plugin's own discovery),
-- PERFPILOT_LSP_START (1: take the vim.lsp.start path of Neovim 0.10), PERFPILOT_OUT, PERFPILOT_PROFILE_CMD
-- (a command line for :PerfpilotProfile), PERFPILOT_FIX_FILE / PERFPILOT_FIX_CODE /
-- PERFPILOT_FIX_TITLE (which quick fix to apply; empty to skip), PERFPILOT_TIMEOUT_MS,
-- PERFPILOT_DEFAULT_SETUP (1: plain `setup()`, what a new user writes), PERFPILOT_STOP_AFTER
-- ("health": stop after :checkhealth), PERFPILOT_UNSAFE_CODE / PERFPILOT_UNSAFE_TITLE (an
-- unsafe fix to apply through its diff review; the driver answers "Apply"),
-- PERFPILOT_REGRESSION_TITLE (a PP201 code action to run; the document it opens is recorded).

local env = vim.env
vim.opt.runtimepath:prepend(env.PERFPILOT_PLUGIN)
vim.cmd.runtime("plugin/perfpilot.lua")
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. "F"

local timeout = tonumber(env.PERFPILOT_TIMEOUT_MS or "60000")
local root = env.PERFPILOT_ROOT
local out = { steps = {}, messages = {} }
local started = vim.uv.hrtime() / 1e9

-- Keep every notification (showMessage, the plugin's own) for the report.
local notify = vim.notify
vim.notify = function(message, level, opts)
  table.insert(out.messages, { message = message, level = level })
  return notify(message, level, opts)
end

-- A headless Neovim must never wait for a person: a menu with more than one entry is a failure
-- (the filter below should leave exactly perfpilot's action), recorded rather than hung on.
vim.ui.select = function(items, opts, on_choice)
  local prompt = opts and opts.prompt or ""
  if vim.startswith(prompt, "perfpilot: apply this unsafe fix?") then
    -- The review of an unsafe fix: record the diff shown beside the question, then apply.
    local review = { prompt = prompt, items = items }
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      local buf = vim.api.nvim_win_get_buf(win)
      if vim.bo[buf].filetype == "diff" then
        review.diff = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
      end
    end
    out.review = review
    on_choice("Apply", 1)
    return
  end
  local titles = {}
  for _, item in ipairs(items) do
    local format = opts and opts.format_item
    table.insert(titles, format and format(item) or vim.inspect(item))
  end
  out.ui_select = titles
  on_choice(nil, nil)
end

local function step(name)
  table.insert(out.steps, name)
  io.stderr:write(("[%.1fs] %s\n"):format(vim.uv.hrtime() / 1e9 - started, name))
end

local function finish(code)
  local file = assert(io.open(env.PERFPILOT_OUT, "w"))
  file:write(vim.json.encode(out))
  file:close()
  vim.cmd(code == 0 and "qall!" or ("cquit " .. code))
end

local function wait_for(what, predicate, ms)
  local ok = vim.wait(ms or timeout, predicate, 50)
  if not ok then
    error("timed out waiting for " .. what, 0)
  end
end

local function perfpilot_diagnostics(bufnr)
  local items = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == "perfpilot" then
      table.insert(items, {
        lnum = d.lnum,
        col = d.col,
        end_col = d.end_col,
        code = d.code,
        message = d.message,
        severity = d.severity,
      })
    end
  end
  table.sort(items, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and tostring(a.code) < tostring(b.code))
  end)
  return items
end

local function lines(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

local function has_code(bufnr, code)
  for _, d in ipairs(perfpilot_diagnostics(bufnr)) do
    if d.code == code then
      return true
    end
  end
  return false
end

local function run()
  local perfpilot = require("perfpilot")
  if env.PERFPILOT_LSP_START == "1" then
    -- The Neovim 0.10 path (vim.lsp.start from a FileType autocommand) on this Neovim.
    vim.lsp.enable = nil
  end
  if env.PERFPILOT_DEFAULT_SETUP == "1" then
    perfpilot.setup() -- the README's first step: no settings, the server found by the plugin
  else
    perfpilot.setup({
      -- Empty: the plugin finds `perfpilot` itself (PATH, $VIRTUAL_ENV, <root>/.venv).
      cmd = (env.PERFPILOT_CMD or "") ~= "" and vim.json.decode(env.PERFPILOT_CMD) or nil,
      settings = { threshold = 2, debounce = 50 },
    })
  end
  out.used_lsp_enable = vim.lsp.enable ~= nil

  -- 1. Open a hot file: the server starts, loads .perfpilot/profiles and publishes.
  local fix_file = env.PERFPILOT_FIX_FILE ~= "" and env.PERFPILOT_FIX_FILE or nil
  local file = root .. "/" .. (fix_file or "loganalyzer/enrich.py")
  vim.cmd.edit(vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  step("opened")
  wait_for("a perfpilot client", function()
    return perfpilot.client(bufnr) ~= nil
  end)
  local client = perfpilot.client(bufnr)
  out.client = { name = client.name, root_dir = client.root_dir }
  out.client_cmd = type(client.config.cmd) == "table" and client.config.cmd or "function"

  -- 1b. A regression's code action that carries a server command (PERFPILOT_REGRESSION_TITLE):
  --     picked through vim.lsp.buf.code_action on the PP201 diagnostic; the server opens its
  --     Markdown report with window/showDocument.
  local regression_title = env.PERFPILOT_REGRESSION_TITLE or ""
  if regression_title ~= "" then
    local target
    wait_for("a PP201 diagnostic", function()
      for _, d in ipairs(vim.diagnostic.get(bufnr)) do
        if d.source == "perfpilot" and d.code == "PP201" then
          target = d
          return true
        end
      end
      return false
    end)
    out.regression = { lnum = target.lnum, col = target.col, message = target.message }
    vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
    vim.lsp.buf.code_action({
      apply = true,
      context = { only = { "quickfix" }, diagnostics = { target.user_data.lsp } },
      filter = function(action)
        return vim.startswith(action.title, regression_title)
      end,
    })
    wait_for("the root-cause document", function()
      return vim.api.nvim_buf_get_name(0):match("%.md$") ~= nil
    end)
    out.shown = { name = vim.api.nvim_buf_get_name(0), lines = lines(0) }
    step("root_cause_shown")
    return
  end
  wait_for("PP001 diagnostics", function()
    return has_code(bufnr, "PP001")
  end)
  -- A fix opportunity (PP1xx) follows in the server's second publish.
  if env.PERFPILOT_FIX_CODE and env.PERFPILOT_FIX_CODE ~= "" then
    wait_for(env.PERFPILOT_FIX_CODE .. " diagnostics", function()
      return has_code(bufnr, env.PERFPILOT_FIX_CODE)
    end)
  end
  out.file = file
  out.diagnostics = perfpilot_diagnostics(bufnr)
  step("diagnostics")

  -- 2. Code lenses (refreshed by the plugin on attach and by the server's refresh requests).
  wait_for("code lenses", function()
    for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
      if lens.command and lens.command.title:match("^perfpilot") then
        return true
      end
    end
    return false
  end)
  out.codelenses = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    table.insert(out.codelenses, { line = lens.range.start.line, title = lens.command.title })
  end
  step("codelens")

  -- 3. :PerfpilotHot fills the quickfix list from perfpilot.hotFunctions.
  vim.fn.setqflist({}, "r", { title = "before" })
  vim.cmd("PerfpilotHot")
  wait_for("the hot-functions quickfix list", function()
    return vim.fn.getqflist({ title = 0 }).title == "perfpilot: hot functions"
  end)
  out.quickfix = {}
  for _, item in ipairs(vim.fn.getqflist()) do
    table.insert(out.quickfix, {
      filename = vim.api.nvim_buf_get_name(item.bufnr),
      lnum = item.lnum,
      col = item.col,
      text = item.text,
    })
  end
  out.quickfix_window = vim.fn.getqflist({ winid = 0 }).winid ~= 0
  vim.cmd("cclose")
  vim.api.nvim_set_current_buf(bufnr)
  step("quickfix")

  -- 4. :checkhealth perfpilot
  vim.cmd("checkhealth perfpilot")
  out.health = lines(vim.api.nvim_get_current_buf())
  vim.cmd("bwipeout!")
  vim.api.nvim_set_current_buf(bufnr)
  step("health")
  if env.PERFPILOT_STOP_AFTER == "health" then
    return
  end

  -- 5. Code actions at each perfpilot diagnostic, as `vim.lsp.buf.code_action` would ask.
  out.code_actions = {}
  out.code_action_provider = client.server_capabilities.codeActionProvider ~= nil
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == "perfpilot" and out.code_action_provider then
      local params = {
        textDocument = { uri = vim.uri_from_bufnr(bufnr) },
        range = {
          start = { line = d.lnum, character = d.col },
          ["end"] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
        },
        context = { diagnostics = { d.user_data.lsp }, triggerKind = 1 },
      }
      local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, timeout)
      for _, response in pairs(responses or {}) do
        for _, action in ipairs(response.result or {}) do
          table.insert(out.code_actions, {
            at = d.lnum,
            code = d.code,
            title = action.title,
            kind = action.kind,
            has_edit = action.edit ~= nil,
            has_command = action.command ~= nil,
          })
        end
      end
    end
  end
  step("code_actions")

  -- 6. Apply a quick fix the way a user does: vim.lsp.buf.code_action with the cursor on the
  --    diagnostic, picking perfpilot's action for the wanted code (resolve happens inside).
  local fix_code = env.PERFPILOT_FIX_CODE ~= "" and env.PERFPILOT_FIX_CODE or nil
  if fix_code then
    -- PP1xx come in the server's second publish, after PP001 (skills run in the background).
    local target
    local function find_target()
      for _, d in ipairs(vim.diagnostic.get(bufnr)) do
        if d.source == "perfpilot" and d.code == fix_code then
          target = d
          return true
        end
      end
      return false
    end
    if not vim.wait(timeout, find_target, 50) then
      error("no " .. fix_code .. " diagnostic in " .. file, 0)
    end
    out.before = lines(bufnr)
    local tick = vim.api.nvim_buf_get_changedtick(bufnr)
    vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
    -- The action's title is the finding's fix title (`perfpilot (PP105): Precompile ...`), not
    -- the "Ignore for this line" action that sits beside it.
    local wanted = env.PERFPILOT_FIX_TITLE
    vim.lsp.buf.code_action({
      apply = true,
      context = { only = { "quickfix" }, diagnostics = { target.user_data.lsp } },
      filter = function(action)
        return vim.startswith(action.title, wanted)
      end,
    })
    wait_for("the quick fix to edit the buffer", function()
      return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
    end)
    -- The server re-analyses the edited document (debounced) and republishes.
    wait_for("the fixed finding to disappear", function()
      return not has_code(bufnr, fix_code)
    end)
    out.after = lines(bufnr)
    out.diagnostics_after_fix = perfpilot_diagnostics(bufnr)
    vim.cmd("write")
    step("fix_applied")
  end

  -- 6b. An unsafe fix: its diff is shown and confirmed before the buffer changes.
  local unsafe_code = env.PERFPILOT_UNSAFE_CODE ~= "" and env.PERFPILOT_UNSAFE_CODE or nil
  if unsafe_code then
    local target
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.source == "perfpilot" and d.code == unsafe_code then
        target = d
        break
      end
    end
    if not target then
      error("no " .. unsafe_code .. " diagnostic in " .. file, 0)
    end
    out.unsafe_before = lines(bufnr)
    local tick = vim.api.nvim_buf_get_changedtick(bufnr)
    vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
    local wanted = env.PERFPILOT_UNSAFE_TITLE
    vim.lsp.buf.code_action({
      apply = true,
      context = { only = { "quickfix" }, diagnostics = { target.user_data.lsp } },
      filter = function(action)
        return vim.startswith(action.title, wanted)
      end,
    })
    wait_for("the reviewed unsafe fix to edit the buffer", function()
      return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
    end)
    out.unsafe_after = lines(bufnr)
    out.windows_after_review = #vim.api.nvim_list_wins()
    step("unsafe_fix_applied")
    return
  end

  -- 7. :PerfpilotClear removes the annotations; :PerfpilotLoad brings them back.
  vim.cmd("PerfpilotClear")
  wait_for("diagnostics to clear", function()
    return #perfpilot_diagnostics(bufnr) == 0
  end)
  step("cleared")
  local profiles = vim.fn.glob(root .. "/.perfpilot/profiles/*", false, true)
  out.loaded_profile = profiles[1]
  vim.cmd("PerfpilotLoad " .. vim.fn.fnameescape(profiles[1]))
  wait_for("diagnostics after :PerfpilotLoad", function()
    return has_code(bufnr, "PP001")
  end)
  out.diagnostics_after_load = perfpilot_diagnostics(bufnr)
  step("loaded")

  -- 8. :PerfpilotProfile runs a program under the profiler and loads the result.
  local before = #vim.fn.glob(root .. "/.perfpilot/profiles/*", false, true)
  local done
  perfpilot.profile(env.PERFPILOT_PROFILE_CMD, function(err, result)
    done = { err = err, result = result }
  end)
  wait_for(":PerfpilotProfile", function()
    return done ~= nil
  end)
  out.profile_result = done.result
  out.profiles_after = #vim.fn.glob(root .. "/.perfpilot/profiles/*", false, true) - before
  -- The new profile is the one shown now: the ranking comes from it (a shorter run, so the
  -- file open here need not be hot in it).
  local ranking
  perfpilot.execute("perfpilot.hotFunctions", {}, function(_, result)
    ranking = result or {}
  end)
  wait_for("the ranking after :PerfpilotProfile", function()
    return ranking ~= nil
  end)
  out.hot_after_profile = #ranking
  step("profiled")
end

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    vim.schedule(function()
      local ok, err = xpcall(run, debug.traceback)
      if not ok then
        out.error = tostring(err)
        finish(3)
      else
        finish(0)
      end
    end)
  end,
})
