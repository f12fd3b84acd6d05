-- flowc: settings for `flow` buffers, and the flowc language server (Neovim >= 0.8).
-- Copy to ~/.config/nvim/ftplugin/flow.lua, or add editors/nvim to 'runtimepath'.
--
-- Options (set them before the first .flow buffer opens):
--   vim.g.flowc_lsp = false                   -- don't start the server here (e.g. you use nvim-lspconfig)
--   vim.g.flowc_cmd = { '/path/to/flowc', 'lsp' }  -- another flowc executable (default: flowc on PATH)

if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = 1

vim.bo.commentstring = '// %s'
vim.bo.comments = 's1:/*,mb:*,ex:*/,:///,://'
vim.bo.expandtab = true
vim.bo.shiftwidth = 2
vim.bo.softtabstop = 2
vim.bo.suffixesadd = '.flow'
vim.b.undo_ftplugin = 'setlocal commentstring< comments< expandtab< shiftwidth< softtabstop< suffixesadd<'

if vim.fn.has('nvim-0.8') == 0 or vim.g.flowc_lsp == false then
  return
end

local cmd = vim.g.flowc_cmd or { 'flowc', 'lsp' }
if vim.fn.executable(cmd[1]) == 0 then
  vim.notify_once(
    ('flowc: %q not found, so there is no language server for .flow files. '
      .. 'Run `cargo install --path crates/cli` in the flowc repository, or set vim.g.flowc_cmd.'):format(cmd[1]),
    vim.log.levels.WARN
  )
  return
end

-- The project root: the nearest directory above the file that holds .git (else the cwd).
local bufname = vim.api.nvim_buf_get_name(0)
local start = bufname ~= '' and vim.fs.dirname(bufname) or vim.fn.getcwd()
local git = vim.fs.find({ '.git' }, { upward = true, path = start })[1]

vim.lsp.start({
  name = 'flowc',
  cmd = cmd,
  root_dir = git and vim.fs.dirname(git) or vim.fn.getcwd(),
})
