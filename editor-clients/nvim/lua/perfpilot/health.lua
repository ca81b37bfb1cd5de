-- :checkhealth perfpilot
local M = {}

local health = vim.health

local function version_ok()
  if vim.fn.has("nvim-0.10") == 1 then
    local v = vim.version()
    health.ok(("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch))
    if vim.fn.has("nvim-0.11") == 1 then
      health.ok("using vim.lsp.config / vim.lsp.enable")
    else
      health.ok("using vim.lsp.start (Neovim 0.10)")
    end
  else
    health.error("perfpilot needs Neovim >= 0.10")
  end
end

--- The root the plugin uses: a running client's, else the file checkhealth was called from
--- (its buffer, not the health buffer nor the current directory), else the current directory.
local function project_root(perfpilot, opts)
  local clients = vim.lsp.get_clients({ name = perfpilot.name })
  if clients[1] and clients[1].root_dir then
    return clients[1].root_dir
  end
  local markers = (opts and opts.root_markers) or { "pyproject.toml", "setup.cfg", "setup.py", ".git" }
  for _, bufnr in ipairs({ vim.fn.bufnr("#"), vim.api.nvim_get_current_buf() }) do
    local name = bufnr > 0 and vim.api.nvim_buf_get_name(bufnr) or ""
    if name ~= "" and vim.bo[bufnr].buftype == "" then
      return perfpilot.find_root(name, markers)
    end
  end
  return perfpilot.find_root(vim.fn.getcwd(), markers)
end

local function server_ok(perfpilot)
  local opts = perfpilot.options
  if not opts then
    health.warn("setup() has not been called", { 'add require("perfpilot").setup({}) to your config' })
  end
  local root = project_root(perfpilot, opts)
  local argv
  if opts and opts.cmd then
    if type(opts.cmd) == "function" then
      health.ok("cmd is a function (not checked)")
      return root
    end
    argv = opts.cmd
    health.info("cmd from setup(): " .. table.concat(argv, " "))
  else
    local searched
    argv, searched = perfpilot.find_server(root)
    if not argv then
      health.error("`perfpilot` not found (searched " .. table.concat(searched, ", ") .. ")", {
        "pip install perfpilot (in the project's virtualenv, or with pipx)",
        'or set cmd: require("perfpilot").setup({ cmd = { "/path/to/perfpilot", "serve" } })',
      })
      return root
    end
    health.ok("server: " .. table.concat(argv, " ") .. " (project root " .. root .. ")")
  end
  if vim.fn.executable(argv[1]) ~= 1 then
    health.error(argv[1] .. " is not executable")
    return root
  end
  -- `perfpilot --version` for the usual command; a custom cmd is only checked for existence.
  if vim.fs.basename(argv[1]) == "perfpilot" then
    local done = vim.system({ argv[1], "--version" }, { text = true }):wait(30000)
    if done.code == 124 and done.signal ~= 0 then
      -- vim.system's timeout: a loaded machine, not a broken server.
      health.warn("`perfpilot --version` took more than 30 s: " .. vim.trim(done.stdout or ""))
    elseif done.code == 0 then
      health.ok("perfpilot --version: " .. vim.trim(done.stdout or ""))
    else
      health.error(("`perfpilot --version` failed (exit %s, signal %s): %s"):format(
        tostring(done.code),
        tostring(done.signal),
        vim.trim((done.stderr or "") .. (done.stdout or ""))
      ))
    end
  end
  return root
end

local function clients_ok(perfpilot, root)
  local clients = vim.lsp.get_clients({ name = perfpilot.name })
  if #clients == 0 then
    health.info("no perfpilot client is running (open a Python file in the project)")
  end
  for _, client in ipairs(clients) do
    health.ok(("client %d attached, root %s"):format(client.id, client.root_dir or "?"))
  end
  local profiles = vim.fn.glob(root .. "/.perfpilot/profiles/*", false, true)
  if #profiles == 0 then
    health.info("no profiles in " .. root .. "/.perfpilot/profiles", {
      "run :PerfpilotProfile python your_program.py, or `perfpilot profile -- python your_program.py`",
      "or :PerfpilotLoad path/to/profile",
    })
  else
    health.ok(("%d profile file(s) in %s/.perfpilot/profiles"):format(#profiles, root))
  end
end

function M.check()
  health.start("perfpilot")
  version_ok()
  local perfpilot = require("perfpilot")
  local root = server_ok(perfpilot)
  clients_ok(perfpilot, root)
end

return M
