-- flowc: `.flow` files are the `flow` filetype (approval workflows checked by `flowc`).
-- Copy to ~/.config/nvim/ftdetect/flow.lua, or add editors/nvim to 'runtimepath'.
if vim.fn.has('nvim-0.8') == 1 then
  vim.filetype.add({ extension = { flow = 'flow' } })
else
  -- Neovim 0.7: filetype.lua is opt-in there, so use a plain autocommand.
  vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
    pattern = '*.flow',
    command = 'setfiletype flow',
  })
end
