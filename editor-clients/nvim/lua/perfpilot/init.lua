-- perfpilot for Neovim: starts `perfpilot serve` for Python buffers and adds a few commands.
--
--   require("perfpilot").setup({
--     cmd = nil,            -- default: `perfpilot serve` from PATH, $VIRTUAL_ENV or <root>/.venv
--                           -- (the workspace's only once trusted, :h vim.secure.trust)
--     settings = {},        -- the server's `perfpilot` section: profiles, threshold, unsafeFixes, llm
--     root_markers = { "pyproject.toml", "setup.cfg", "setup.py", ".git" }, -- nearest wins
--     filetypes = { "python" },
--     codelens = true,      -- show and refresh the server's code lenses
--     inlay_hints = false,  -- per-line shares at the end of hot lines
--   })

local M = {}

M.name = "perfpilot"

local defaults = {
  cmd = nil,
  settings = {},
  -- perfpilot's one rule for the project root (tools/workspace_root.py): the nearest directory
  -- holding any of these, as the CLI and the server find it.
  root_markers = { "pyproject.toml", "setup.cfg", "setup.py", ".git" },
  filetypes = { "python" },
  codelens = true,
  inlay_hints = false,
  on_attach = nil,
}

--- The options in force (after setup).
M.options = nil

local INSTALL_HINT = "install it in the project's environment (`pip install perfpilot`) "
  .. "or pass `cmd` to require('perfpilot').setup{}"

local has_011 = vim.fn.has("nvim-0.11") == 1

local function notify(message, level)
  vim.notify("perfpilot: " .. message, level or vim.log.levels.INFO)
end

--- A program inside the workspace came with the folder (a cloned repository can ship
--- `.venv/bin/perfpilot`): run it only once the user trusts that file. vim.secure asks once
--- and remembers the answer per file content, as for 'exrc' (:h vim.secure.read).
local function trusted(path)
  if not (vim.secure and vim.secure.read) then
    return false
  end
  local ok, content = pcall(vim.secure.read, path)
  return ok and content ~= nil
end

--- Where `perfpilot` may live for a workspace: PATH, the active virtualenv, the root's venv
--- (that one only when trusted). Returns the argv to start the server, or nil and the list of
--- places that were searched.
function M.find_server(root)
  local searched = {}
  local exe = vim.fn.exepath("perfpilot")
  if exe ~= "" then
    return { exe, "serve" }, searched
  end
  table.insert(searched, "PATH")
  local candidates = {}
  if vim.env.VIRTUAL_ENV and vim.env.VIRTUAL_ENV ~= "" then
    table.insert(candidates, { vim.env.VIRTUAL_ENV .. "/bin/perfpilot", false })
  end
  if root then
    table.insert(candidates, { root .. "/.venv/bin/perfpilot", true })
    table.insert(candidates, { root .. "/venv/bin/perfpilot", true })
  end
  for _, candidate in ipairs(candidates) do
    local path, in_workspace = candidate[1], candidate[2]
    if vim.fn.executable(path) == 1 then
      if not in_workspace or trusted(path) then
        return { path, "serve" }, searched
      end
      table.insert(searched, path .. " (not trusted: see :h vim.secure.trust)")
    else
      table.insert(searched, path)
    end
  end
  return nil, searched
end

--- The project root of a file: the nearest directory at or above it holding any marker (not
--- vim.fs.root's marker-by-marker order), below the home directory, as perfpilot's CLI decides.
function M.find_root(path, markers)
  local start = vim.fs.normalize(vim.fn.fnamemodify(path, ":p"))
  if vim.fn.isdirectory(start) == 0 then
    start = vim.fs.dirname(start)
  end
  local home = vim.fs.normalize(vim.fn.expand("~"))
  local dir = start
  while dir do
    if dir == home and start ~= home then
      break -- a dotfiles repository in ~ must not swallow every project below it
    end
    for _, marker in ipairs(markers) do
      if vim.uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fs.dirname(dir)
    dir = parent ~= dir and parent or nil
  end
  return start
end

local function root_of(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  return M.find_root(name ~= "" and name or vim.fn.getcwd(), markers)
end

--- The `perfpilot` settings as JSON wants them: an empty Lua table is an object, not `[]`.
local function settings_object(settings)
  if settings == nil or vim.tbl_isempty(settings) then
    return vim.empty_dict()
  end
  local copy = vim.deepcopy(settings)
  if type(copy.llm) == "table" and vim.tbl_isempty(copy.llm) then
    copy.llm = vim.empty_dict()
  end
  return copy
end

local function server_cmd(opts, root)
  if opts.cmd then
    return opts.cmd
  end
  local argv, searched = M.find_server(root)
  if not argv then
    notify(
      "cannot start the language server: `perfpilot` was not found (searched "
        .. table.concat(searched, ", ")
        .. "); "
        .. INSTALL_HINT,
      vim.log.levels.ERROR
    )
  end
  return argv
end

local function on_exit(code, signal)
  if code ~= 0 and signal == 0 then
    vim.schedule(function()
      notify(
        ("the language server exited with status %d; see :LspLog and :checkhealth perfpilot"):format(
          code
        ),
        vim.log.levels.ERROR
      )
    end)
  end
end

--- workspace/codeLens/refresh: the server asks after a profile (re)load; some Neovim versions
--- have no handler of their own for it.
local function codelens_refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client and M.options and M.options.codelens then
    for bufnr in pairs(client.attached_buffers or {}) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      end
    end
  end
  return vim.NIL
end

--- Everything the client needs besides `cmd` and `root_dir`.
local function client_config(opts)
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  local handlers = {}
  if opts.codelens then
    capabilities = vim.tbl_deep_extend("force", capabilities, {
      workspace = { codeLens = { refreshSupport = true } },
    })
    handlers["workspace/codeLens/refresh"] = codelens_refresh
  end
  return {
    name = M.name,
    filetypes = opts.filetypes,
    capabilities = capabilities,
    handlers = handlers,
    -- Sent at initialize, and answered again whenever the server pulls `perfpilot`.
    init_options = { perfpilot = settings_object(opts.settings) },
    settings = { perfpilot = settings_object(opts.settings) },
    on_exit = on_exit,
  }
end

local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function supports(client, method, bufnr)
  if has_011 then
    return client:supports_method(method, bufnr)
  end
  return client.supports_method(method, { bufnr = bufnr })
end

local function attach_features(client, bufnr, opts)
  if opts.codelens and supports(client, "textDocument/codeLens", bufnr) then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
    local group = vim.api.nvim_create_augroup("perfpilot_codelens_" .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "BufWritePost" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      end,
    })
  end
  if opts.inlay_hints and vim.lsp.inlay_hint then
    if supports(client, "textDocument/inlayHint", bufnr) then
      vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
    end
  end
  if opts.on_attach then
    opts.on_attach(client, bufnr)
  end
end

--- Show an unsafe fix's diff in a split and apply it only when the user picks "Apply".
local function confirm_diff(preview, client)
  vim.cmd("botright new")
  local win = vim.api.nvim_get_current_win()
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(preview.diff or "", "\n", { trimempty = true }))
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "diff"
  pcall(vim.api.nvim_buf_set_name, buf, "perfpilot://unsafe-fix.diff")
  vim.cmd("redraw")
  vim.ui.select({ "Apply", "Cancel" }, {
    prompt = ("perfpilot: apply this unsafe fix? %s"):format(preview.title or ""),
  }, function(choice)
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
    end
    if choice == "Apply" then
      vim.lsp.util.apply_workspace_edit(preview.edit, client.offset_encoding or "utf-16")
    else
      notify("unsafe fix not applied")
    end
  end)
end

--- The client side of `perfpilot.reviewFix`, the command of an unsafe fix's code action: the
--- diff first (from perfpilot.fixPreview), then a confirm. Safe fixes are applied in one step.
function M.review_fix(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  request(client, "workspace/executeCommand", {
    command = "perfpilot.fixPreview",
    arguments = command.arguments or {},
  }, function(err, preview)
    if err or type(preview) ~= "table" then
      notify("cannot preview the fix: " .. (err and err.message or "no answer"), vim.log.levels.ERROR)
      return
    end
    vim.schedule(function()
      confirm_diff(preview, client)
    end)
  end, ctx.bufnr)
end

--- Configure and enable the perfpilot language server.
function M.setup(user)
  local opts = vim.tbl_deep_extend("force", defaults, user or {})
  M.options = opts
  vim.lsp.commands["perfpilot.reviewFix"] = M.review_fix
  local group = vim.api.nvim_create_augroup("perfpilot", { clear = true })

  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == M.name then
        attach_features(client, args.buf, opts)
      end
    end,
  })

  if has_011 and vim.lsp.config and vim.lsp.enable then
    local config = client_config(opts)
    config.root_dir = function(bufnr, on_dir)
      on_dir(root_of(bufnr, opts.root_markers))
    end
    if opts.cmd then
      config.cmd = opts.cmd
    else
      -- Resolved when a buffer starts the server, so the workspace's own venv is found.
      config.cmd = function(dispatchers, client)
        local root = client and client.root_dir or vim.fn.getcwd()
        local argv = server_cmd(opts, root)
        if not argv then
          argv = { "perfpilot", "serve" } -- fails visibly; the message above says why
        end
        return vim.lsp.rpc.start(argv, dispatchers, { cwd = root })
      end
    end
    vim.lsp.config(M.name, config)
    vim.lsp.enable(M.name)
  else
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = opts.filetypes,
      callback = function(args)
        if vim.bo[args.buf].buftype ~= "" then
          return
        end
        local root = root_of(args.buf, opts.root_markers)
        local argv = server_cmd(opts, root)
        if not argv then
          return
        end
        local config = client_config(opts)
        config.cmd = argv
        config.root_dir = root
        vim.lsp.start(config, { bufnr = args.buf })
      end,
    })
  end
end

-- Commands -------------------------------------------------------------------------------

--- The running perfpilot client for a buffer (or any buffer).
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if #clients == 0 and bufnr then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end


--- Run a `perfpilot.*` workspace command; `callback(err, result)` runs on the main loop.
function M.execute(command, arguments, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify("no perfpilot language server is running (open a Python file)", vim.log.levels.WARN)
    return false
  end
  request(client, "workspace/executeCommand", {
    command = command,
    arguments = arguments or {},
  }, function(err, result)
    if err then
      notify(("%s failed: %s"):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    if callback then
      callback(err, result)
    end
  end, bufnr)
  return true
end

--- :PerfpilotLoad {file}
function M.load(file, callback)
  local path = vim.fn.fnamemodify(vim.fn.expand(file), ":p")
  return M.execute("perfpilot.loadProfile", { path }, function(err, result)
    if not err and type(result) == "table" and result.loaded then
      notify("loaded " .. vim.fn.fnamemodify(path, ":~:."))
    end
    if callback then
      callback(err, result)
    end
  end)
end

--- :PerfpilotProfile {cmd}: run the command under the profiler, then show its profile.
function M.profile(command_line, callback)
  notify("profiling `" .. command_line .. "`…")
  return M.execute("perfpilot.profileRun", { command_line }, function(err, result)
    if not err and type(result) == "table" and result.ok then
      notify(("profiled `%s` in %.1f s"):format(command_line, result.seconds or 0))
    end
    if callback then
      callback(err, result)
    end
  end)
end

--- :PerfpilotVerify: verify the fixes of the function under the cursor on its recorded calls
--- (runs the project's code: only when asked; see `perfpilot capture`).
function M.verify(callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local cursor = vim.api.nvim_win_get_cursor(0)
  local uri = vim.uri_from_bufnr(bufnr)
  notify("verifying fixes on recorded calls…")
  return M.execute("perfpilot.verify", { uri, { line = cursor[1] - 1, character = cursor[2] } },
    function(err, result)
      if not err and type(result) == "table" and result.results then
        for _, entry in ipairs(result.results) do
          notify(("%s: %s"):format(entry.title, entry.summary))
        end
      end
      if callback then
        callback(err, result)
      end
    end)
end

--- :PerfpilotClear
function M.clear(callback)
  return M.execute("perfpilot.clearProfiles", {}, callback)
end

local function percent(value)
  return type(value) == "number" and ("%.1f%%"):format(value) or "?"
end

--- `1 call`, `12,345 calls`, as the server words them.
function M.calls_text(calls)
  local digits = tostring(math.floor(calls))
  local grouped = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return grouped .. (calls == 1 and " call" or " calls")
end

--- The ranked hot functions as quickfix items.
function M.quickfix_items(entries)
  local items = {}
  for _, entry in ipairs(entries or {}) do
    local start = entry.range and entry.range.start or { line = 0, character = 0 }
    local calls = type(entry.calls) == "number" and (" · " .. M.calls_text(entry.calls)) or ""
    table.insert(items, {
      filename = entry.path or vim.uri_to_fname(entry.uri),
      lnum = start.line + 1,
      col = start.character + 1,
      type = "I",
      text = ("#%d %s: %s own · %s total%s"):format(
        entry.rank or #items + 1,
        entry.qualname or "?",
        percent(entry.ownPercent),
        percent(entry.totalPercent),
        calls
      ),
    })
  end
  return items
end

--- :PerfpilotHot: the ranked hot functions in the quickfix list.
function M.hot(callback)
  return M.execute("perfpilot.hotFunctions", {}, function(err, result)
    if not err then
      local items = M.quickfix_items(result)
      vim.fn.setqflist({}, " ", { title = "perfpilot: hot functions", items = items })
      if #items == 0 then
        notify("no hot functions: load a profile (:PerfpilotLoad) or run one (:PerfpilotProfile)")
      else
        vim.cmd("botright copen")
      end
    end
    if callback then
      callback(err, result)
    end
  end)
end

return M
