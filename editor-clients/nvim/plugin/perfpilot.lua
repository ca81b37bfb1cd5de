-- perfpilot user commands; the language server itself starts after require("perfpilot").setup{}.
if vim.g.loaded_perfpilot then
  return
end
vim.g.loaded_perfpilot = true

local function perfpilot()
  return require("perfpilot")
end

vim.api.nvim_create_user_command("PerfpilotLoad", function(args)
  perfpilot().load(args.args)
end, { nargs = 1, complete = "file", desc = "perfpilot: load a profile file" })

vim.api.nvim_create_user_command("PerfpilotProfile", function(args)
  perfpilot().profile(args.args)
end, { nargs = "+", complete = "shellcmd", desc = "perfpilot: profile a command and load it" })

vim.api.nvim_create_user_command("PerfpilotHot", function()
  perfpilot().hot()
end, { nargs = 0, desc = "perfpilot: hot functions in the quickfix list" })

vim.api.nvim_create_user_command("PerfpilotClear", function()
  perfpilot().clear()
end, { nargs = 0, desc = "perfpilot: forget the loaded profiles" })

vim.api.nvim_create_user_command("PerfpilotVerify", function()
  perfpilot().verify()
end, { nargs = 0, desc = "perfpilot: verify the fixes of the function under the cursor" })
