-- Smoke test of the flowc language server in a real Neovim client (Neovim >= 0.10).
--
-- Run it through run.sh, which makes a scratch copy of examples/expense and starts Neovim as
--   FLOWC_SMOKE_FILE=/tmp/x/expense.flow nvim --headless -u NONE \
--     -c 'set rtp^=editors/nvim' -c 'filetype plugin on' -c 'let g:flowc_cmd = [...]' \
--     -c 'luafile editors/nvim/test/smoke.lua'
-- It plays a user's session on that file through this folder's ftplugin and Neovim's own LSP
-- client: open, break and quick-fix, hover, definition, references, completion, rename,
-- formatting, semantic tokens, folding, outline, then a half-written file. Every step prints
-- what it saw; a failed expectation prints `FAIL` and the script exits Neovim with status 1.
-- FLOWC_SMOKE_VERBOSE=1 also prints the raw answers.

local file = assert(os.getenv('FLOWC_SMOKE_FILE'), 'set FLOWC_SMOKE_FILE to a scratch copy of examples/expense/expense.flow')
local verbose = os.getenv('FLOWC_SMOKE_VERBOSE') == '1'
local TIMEOUT = 5000

local failures = 0
local function say(...)
  local parts = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) == 'string' and v or vim.inspect(v)
  end
  io.stdout:write(table.concat(parts, ' ') .. '\n')
end
local function raw(label, value)
  if verbose then
    say('    ' .. label .. ':', value)
  end
end
local function step(name)
  say('\n== ' .. name)
end
local function expect(ok, what, detail)
  if ok then
    say('  ok   ' .. what)
  else
    failures = failures + 1
    say('  FAIL ' .. what .. (detail ~= nil and ('\n       got: ' .. (type(detail) == 'string' and detail or vim.inspect(detail))) or ''))
  end
  return ok
end
-- A remark on something debatable: printed, never a failure.
local function note(ok, what, detail)
  if not ok then
    say('  note ' .. what .. (detail ~= nil and (': ' .. (type(detail) == 'string' and detail or vim.inspect(detail))) or ''))
  end
end

local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients

-- Byte index <-> UTF-16 index on one line (vim.str_utfindex changed its signature in 0.11).
local function utf16_of_byte(line, byte)
  local ok, idx = pcall(vim.str_utfindex, line, 'utf-16', byte, false)
  if ok and type(idx) == 'number' then
    return idx
  end
  local _, u16 = vim.str_utfindex(line, byte)
  return u16
end
local function byte_of_utf16(line, u16)
  local ok, idx = pcall(vim.str_byteindex, line, 'utf-16', u16, false)
  if ok and type(idx) == 'number' then
    return idx
  end
  return vim.str_byteindex(line, u16, true)
end

local buf, client

local function lines()
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end
-- The 0-based line and byte column of the n-th line containing `text` (plain), plus `offset` bytes.
local function find(text, n, offset)
  n = n or 1
  for i, l in ipairs(lines()) do
    local c = l:find(text, 1, true)
    if c then
      n = n - 1
      if n == 0 then
        return i - 1, c - 1 + (offset or 0)
      end
    end
  end
  error('text not found in buffer: ' .. text)
end
local function pos(line, byte)
  local l = lines()[line + 1]
  return { line = line, character = utf16_of_byte(l, byte) }
end
-- The buffer text an LSP range covers (single line ranges only; else the first line's tail).
local function range_text(range)
  local l = lines()[range.start.line + 1] or ''
  local s = byte_of_utf16(l, range.start.character)
  if range['end'].line ~= range.start.line then
    return l:sub(s + 1) .. '…'
  end
  local e = byte_of_utf16(l, range['end'].character)
  return l:sub(s + 1, e)
end
local function doc()
  return { uri = vim.uri_from_bufnr(buf) }
end
local function request(method, params)
  local answers, err = vim.lsp.buf_request_sync(buf, method, params, TIMEOUT)
  if not answers then
    return nil, err or 'no answer'
  end
  local a = answers[client.id]
  if not a then
    return nil, 'no answer from flowc'
  end
  if a.error or a.err then
    return nil, a.error or a.err
  end
  return a.result
end
local function at(method, line, byte, extra)
  local params = { textDocument = doc(), position = pos(line, byte) }
  for k, v in pairs(extra or {}) do
    params[k] = v
  end
  return request(method, params)
end

-- Count the server's publishDiagnostics so a step can wait for the answer to its edit.
local published = 0
local orig_publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
  published = published + 1
  return orig_publish(err, result, ctx, config)
end
local function wait_diagnostics(since)
  local ok = vim.wait(TIMEOUT, function()
    return published > since
  end, 20)
  vim.wait(50) -- let vim.diagnostic settle
  return ok
end
local function diags()
  local ds = vim.diagnostic.get(buf)
  table.sort(ds, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  return ds
end
local function show_diags(ds)
  for _, d in ipairs(ds) do
    say(('  diag %d:%d-%d:%d %s [%s] %s'):format(d.lnum, d.col, d.end_lnum, d.end_col,
      vim.diagnostic.severity[d.severity], tostring(d.code), d.message:gsub('\n', ' / ')))
  end
end
-- Replace line `lnum` (0-based) and wait for the server's diagnostics.
local function set_line(lnum, text)
  local before = published
  vim.api.nvim_buf_set_lines(buf, lnum, lnum + 1, false, { text })
  return wait_diagnostics(before)
end
local function labels(result)
  local items = result and (result.items or result) or {}
  local out = {}
  for _, it in ipairs(items) do
    out[#out + 1] = it.label
  end
  return out
end
local function has_all(list, wanted)
  local set = {}
  for _, v in ipairs(list) do
    set[v] = true
  end
  local missing = {}
  for _, w in ipairs(wanted) do
    if not set[w] then
      missing[#missing + 1] = w
    end
  end
  return #missing == 0, missing
end
local function has_none(list, unwanted)
  local set = {}
  for _, v in ipairs(list) do
    set[v] = true
  end
  local present = {}
  for _, w in ipairs(unwanted) do
    if set[w] then
      present[#present + 1] = w
    end
  end
  return #present == 0, present
end
local function hover_text(result)
  if not result or not result.contents then
    return nil
  end
  local c = result.contents
  return type(c) == 'string' and c or c.value or vim.inspect(c)
end
local function alive()
  return client and not client:is_stopped() and #get_clients({ bufnr = buf, name = 'flowc' }) == 1
end

local function main()
  ---------------------------------------------------------------------------------------------
  step('open ' .. file)
  vim.cmd.edit(vim.fn.fnameescape(file))
  buf = vim.api.nvim_get_current_buf()
  expect(vim.bo[buf].filetype == 'flow', 'filetype is flow', vim.bo[buf].filetype)
  expect(vim.bo[buf].commentstring == '// %s', 'commentstring from the ftplugin', vim.bo[buf].commentstring)
  local attached = vim.wait(TIMEOUT, function()
    return #get_clients({ bufnr = buf, name = 'flowc' }) > 0
  end, 20)
  if not expect(attached, 'flowc client attached') then
    return
  end
  client = get_clients({ bufnr = buf, name = 'flowc' })[1]
  say('  server', client.server_info or '?', 'offset encoding', client.offset_encoding, 'root', client.config.root_dir)
  expect(client.offset_encoding == 'utf-16', 'positions in UTF-16', client.offset_encoding)
  wait_diagnostics(0)
  local ds = diags()
  show_diags(ds)
  expect(#ds == 0, 'the example has no diagnostics', #ds)

  ---------------------------------------------------------------------------------------------
  step('break an exit target: `exit 同意 -> 财务审核` becomes `-> 财务审`')
  local l_exit = find('exit 同意 -> 财务审核')
  local original = lines()[l_exit + 1]
  set_line(l_exit, (original:gsub('财务审核', '财务审')))
  ds = diags()
  show_diags(ds)
  local d = ds[1]
  local target_col = select(2, find('-> 财务审', 1, 3))
  expect(#ds == 1, 'exactly one diagnostic (no cascade)', #ds)
  if d then
    expect(d.code == 'E0105', 'code E0105', d.code)
    expect(d.severity == vim.diagnostic.severity.ERROR, 'severity error', d.severity)
    expect(d.lnum == l_exit and d.col == target_col, ('at the target, line %d byte %d'):format(l_exit, target_col), { d.lnum, d.col })
    expect(d.end_col == target_col + #'财务审', 'ends after the target (bytes ' .. target_col + #'财务审' .. ')', d.end_col)
    expect(d.message:find('财务审核', 1, true) ~= nil, 'message suggests 财务审核', d.message)
    local lsp_d = d.user_data and d.user_data.lsp or {}
    raw('lsp diagnostic', lsp_d)
    expect(lsp_d.codeDescription and lsp_d.codeDescription.href ~= nil, 'code has a docs link', lsp_d.codeDescription)

    step('quick fix for it (textDocument/codeAction)')
    local actions, err = request('textDocument/codeAction', {
      textDocument = doc(),
      range = lsp_d.range,
      context = { diagnostics = { lsp_d }, only = { 'quickfix' } },
    })
    raw('codeAction', actions or err)
    local titles = {}
    for _, a in ipairs(actions or {}) do
      titles[#titles + 1] = a.title .. ' (' .. tostring(a.kind) .. (a.isPreferred and ', preferred' or '') .. ')'
    end
    say('  actions', titles)
    local fix = actions and actions[1]
    if expect(fix and fix.edit, 'a quick fix with an edit') then
      local before = published
      vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
      wait_diagnostics(before)
      expect(lines()[l_exit + 1] == original, 'the line reads as before', lines()[l_exit + 1])
      ds = diags()
      show_diags(ds)
      expect(#ds == 0, 'the diagnostic clears', #ds)
    end
  end

  ---------------------------------------------------------------------------------------------
  step('misspell a field in a formula: `= 合计 - 预支` becomes `= 合记 - 预支`')
  local l_due = find('应付: money')
  original = lines()[l_due + 1]
  set_line(l_due, (original:gsub('= 合计', '= 合记')))
  ds = diags()
  show_diags(ds)
  d = ds[1]
  local bad_col = select(2, find('= 合记', 1, 2))
  expect(#ds == 1, 'exactly one diagnostic', #ds)
  if d then
    expect(d.code == 'E0501', 'code E0501', d.code)
    expect(d.lnum == l_due and d.col == bad_col and d.end_col == bad_col + #'合记', 'underlines 合记 exactly', { d.lnum, d.col, d.end_col })
    local lsp_d = d.user_data and d.user_data.lsp or {}
    local actions = request('textDocument/codeAction', {
      textDocument = doc(),
      range = lsp_d.range,
      context = { diagnostics = { lsp_d } },
    })
    local titles = vim.tbl_map(function(a)
      return a.title
    end, actions or {})
    say('  actions', titles)
    local fix
    for _, a in ipairs(actions or {}) do
      if a.title:find('合计', 1, true) and a.edit then
        fix = fix or a
      end
    end
    if expect(fix, 'a quick fix to 合计') then
      local before = published
      vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
      wait_diagnostics(before)
      expect(lines()[l_due + 1] == original, 'the line reads as before', lines()[l_due + 1])
      ds = diags()
      expect(#ds == 0, 'the diagnostic clears', #ds)
    end
  end

  ---------------------------------------------------------------------------------------------
  step('hover')
  local hovers = {
    { 'a field (合计 in its declaration)', 'find', '合计: money', 1, 0, '合计', 'field of form' },
    { 'a field used after Chinese text on the line (合计 in `应付 … = 合计 - 预支`)', 'find', '= 合计 - 预支', 1, 2, '合计', 'field of form' },
    { 'a node (exit target 财务审核)', 'find', '-> 财务审核', 1, 3, '财务审核', 'node' },
    { 'a built-in (sum)', 'find', 'sum(明细.金额)', 1, 0, 'sum', 'fn sum' },
    { 'a member (.manager of 申请人)', 'find', '申请人.manager', 1, #'申请人.', 'manager', 'employee.manager' },
    { 'a member (.manager of 项目)', 'find', '项目.manager', 1, #'项目.', 'manager', 'project.manager' },
    { 'a const with a doc comment (大额标准)', 'find', '> 大额标准', 1, 2, '大额标准', 'Above this amount' },
    { 'a detail column (明细.金额)', 'find', 'sum(明细.金额)', 1, #'sum(明细.', '金额', 'column of detail', 'in form' },
    { 'the form name (form 报销单 in the workflow)', 'find', 'form 报销单', 2, 5, '报销单', '费用报销单' },
    { 'a select option in a comparison ("招待")', 'find', '类别 == "招待"', 1, #'类别 == "', '"招待"', nil, '业务招待费' },
    { 'a node operator (财务审核.operator)', 'find', '财务审核.operator', 1, #'财务审核.', 'operator', 'operator' },
  }
  for _, h in ipairs(hovers) do
    local l, c = find(h[3], h[4], h[5])
    local r, err = at('textDocument/hover', l, c)
    local text = hover_text(r)
    say(('  hover %s @%d:%d (utf16 %d)'):format(h[1], l, c, pos(l, c).character))
    say('    ' .. (text and text:gsub('\n', '\n    ') or ('<no hover> ' .. vim.inspect(err))))
    if h[7] then
      expect(text and text:find(h[7], 1, true), 'hover mentions ' .. h[7], text or err)
    end
    if h[8] then
      note(text and text:find(h[8], 1, true), 'hover does not mention ' .. h[8])
    end
    if text and text:find('nobody edits it', 1, true) then
      expect(not text:find('editable at', 1, true), 'a computed field\'s hover does not also say it is editable somewhere',
        text:match('editable at[^\n]*'))
    end
    if r and r.range then
      expect(range_text(r.range) == h[6], 'hover range covers ' .. h[6], range_text(r.range))
    end
  end

  ---------------------------------------------------------------------------------------------
  step('go to definition from an exit target (`exit 付款完成 -> 归档`)')
  do
    local l, c = find('-> 归档', 1, 3)
    local r, err = at('textDocument/definition', l, c)
    raw('definition', r or err)
    local loc = r and (r[1] or r)
    local decl = find('node 归档')
    if expect(loc and (loc.range or loc.targetRange), 'a location', err) then
      local range = loc.targetSelectionRange or loc.range
      say('  ->', (loc.uri or loc.targetUri), range.start.line, range.start.character, range_text(range))
      expect(range.start.line == decl and range_text(range) == '归档', 'the node name in `node 归档`', { range.start.line, range_text(range) })
    end
    -- and from a field used in a formula, to the field
    l, c = find('sum(明细.金额)', 1, #'sum(明细.')
    r, err = at('textDocument/definition', l, c)
    loc = r and (r[1] or r)
    local col_decl = find('金额: money "金额"')
    if expect(loc, 'definition of 明细.金额', err) then
      local range = loc.targetSelectionRange or loc.range
      say('  ->', range.start.line, range.start.character, range_text(range))
      expect(range.start.line == col_decl and range_text(range) == '金额', 'the column 金额 in the detail table', { range.start.line, range_text(range) })
    end
  end

  ---------------------------------------------------------------------------------------------
  step('references of the field 合计')
  do
    local l, c = find('合计: money')
    local r, err = at('textDocument/references', l, c, { context = { includeDeclaration = true } })
    raw('references', r or err)
    local got = {}
    for _, loc in ipairs(r or {}) do
      got[#got + 1] = ('%d:%d %s'):format(loc.range.start.line, loc.range.start.character, range_text(loc.range))
    end
    say('  ' .. #got .. ' references:', got)
    -- Every use of 合计 as a name: count them from the text (not inside strings, not part of
    -- a longer name like 附件合计, not in comments).
    local want = 0
    for _, line in ipairs(lines()) do
      local code = line:gsub('//.*$', ''):gsub('"[^"]*"', function(s)
        return s:find('{', 1, true) and s or '""' -- keep title interpolations
      end)
      for pre in code:gmatch('()合计') do
        local before = code:sub(1, pre - 1)
        local prev = vim.fn.strcharpart(before, vim.fn.strchars(before) - 1)
        if not prev:match('[%w_]') and vim.fn.char2nr(prev) < 0x80 then
          want = want + 1
        end
      end
    end
    expect(#got == want, 'as many references as uses of 合计 in the text (' .. want .. ')', #got)
    local wrong = vim.tbl_filter(function(g)
      return not g:match(' 合计$')
    end, got)
    expect(#wrong == 0, 'every reference range covers exactly 合计', wrong)
  end

  ---------------------------------------------------------------------------------------------
  step('completion')
  local function complete_at(desc, lnum, text, byte, wanted, unwanted)
    local before = published
    vim.api.nvim_buf_set_lines(buf, lnum, lnum, false, { text })
    wait_diagnostics(before)
    local r, err = at('textDocument/completion', lnum, byte or #text)
    local ls = labels(r)
    say(('  %s: %q @%d:%d -> %d items'):format(desc, text, lnum, byte or #text, #ls))
    say('    ' .. table.concat(ls, ' '))
    if not r then
      expect(false, desc .. ': an answer', err)
    end
    local ok, missing = has_all(ls, wanted)
    expect(ok, desc .. ': offers ' .. table.concat(wanted, ' '), missing)
    if unwanted then
      local ok2, present = has_none(ls, unwanted)
      expect(ok2, desc .. ': does not offer ' .. table.concat(unwanted, ' '), present)
    end
    before = published
    vim.api.nvim_buf_set_lines(buf, lnum, lnum + 1, false, {})
    wait_diagnostics(before)
    return r
  end
  do
    local nodes = { '填写申请', '部门审批', '财务审核', '总经理审批', '出纳付款', '归档' }
    -- in the workflow
    local l = find('exit 付款完成 -> 归档')
    local r = complete_at('after `-> ` (a new exit of 出纳付款)', l + 1, '    exit 测试 -> ', nil,
      { '填写申请', '部门审批', '财务审核', '总经理审批', '归档' }, { 'sum', '合计' })
    note(has_all(labels(r), { '出纳付款' }), 'the node\'s own name is not offered after `-> `, though a self-exit checks fine and `-> 出` offers it')
    complete_at('after `-> 归`', l + 1, '    exit 测试 -> 归', nil, nodes)
    local lw = find('exit 大额 -> 总经理审批')
    complete_at('after `when 类别 == `', lw, '    exit 测试 -> 归档 when 类别 == ', nil, { '"差旅"', '"办公"', '"招待"', '"培训"', '"其他"' })
    -- Inside the string the options replace the typed quote (a textEdit), so the labels keep their quotes.
    complete_at('inside the string of `when 类别 == "`', lw, '    exit 测试 -> 归档 when 类别 == "', nil, { '"差旅"', '"办公"', '"招待"' })
    complete_at('after `when 申请人.`', lw, '    exit 测试 -> 归档 when 申请人.', nil,
      { 'id', 'name', 'manager', 'department', 'subcompany', 'security', 'roles', 'subordinates' }, { 'head', '合计' })
    complete_at('after `when ` (a condition starts)', lw, '    exit 测试 -> 归档 when ', nil, { '合计', '类别', '大额标准' }, { 'operators', 'editable' })
    complete_at('after `when 合` (typing a field name)', lw, '    exit 测试 -> 归档 when 合', nil, { '合计', '大额标准' }, { 'operators', 'editable' })
    local la = find('付款日期 = today()')
    complete_at('in an action, after `财务意见 = `', la, '      财务意见 = ', nil, { '财务意见', '合计', 'today' })
    local lt = find('title "{申请人.name}')
    local title = lines()[lt + 1]
    vim.api.nvim_buf_set_lines(buf, lt, lt + 1, false, {})
    complete_at('in a title interpolation, after `{申请人.`', lt, '  title "{申请人.', nil, { 'name', 'manager' })
    vim.api.nvim_buf_set_lines(buf, lt, lt, false, { title })
    local lo = find('operators { role("总经理") }')
    complete_at('in an operators block, after `申请人.`', lo, '    operators { 申请人.', nil, { 'manager', 'department' })
    complete_at('after `editable `', lo, '    editable ', nil, { '财务意见', '明细' })
    complete_at('after `财务审核.`', lo, '    operators { 财务审核.', nil, { 'operator' })
    complete_at('node kind after `node X: `', lo, '  node 新节点: ', nil, { 'create', 'approve', 'realize', 'archive' })
    -- in the form
    l = find('validate 合计 > 0')
    -- `if` stays: `if … then … else …` is an expression.
    complete_at('form: after `validate `', l, '  validate ', nil, { '合计', '类别', 'sum', 'today' }, { 'script', 'operators' })
    complete_at('form: after `validate 合`', l, '  validate 合', nil, { '合计', '大额标准' }, { 'script' })
    complete_at('form: after `validate 申请人.`', l, '  validate 申请人.', nil,
      { 'id', 'name', 'manager', 'department', 'subcompany', 'security', 'roles', 'subordinates' }, { 'head', '合计' })
    complete_at('form: after `validate 部门.`', l, '  validate 部门.', nil, { 'id', 'name', 'head', 'parent', 'subcompany', 'members' }, { 'manager' })
    complete_at('form: after `validate 类别 == `', l, '  validate 类别 == ', nil, { '"差旅"', '"办公"', '"招待"', '"培训"', '"其他"' })
    complete_at('form: after `validate sum(明细.`', l, '  validate sum(明细.', nil, { '费用日期', '摘要', '数量', '单价', '金额', '张数' }, { '合计' })
    local lm = find('应付: money "应付金额"')
    complete_at('form: in a main formula, after `= 合计 - `', lm + 1, '  欠款: money = 合计 - ', nil, { '预支', '合计' })
    local lr = find('张数: int "附件张数"')
    complete_at('form: inside a detail row formula, after `= 数量 * `', lr, '    小计: money = 数量 * ', nil, { '数量', '单价' }, { 'sum' })
    complete_at('form: after a field\'s `:`', lr, '    备注: ', nil,
      { 'text', 'int', 'float', 'money', 'money_upper', 'textarea', 'employee', 'date', 'check', 'select', 'attachment' },
      { '合计', 'decimal', 'bool', 'number' }) -- the checker rejects these as field types (E0501)
  end

  ---------------------------------------------------------------------------------------------
  step('rename the node 财务审核 to 财务复核')
  do
    local l, c = find('node 财务审核', 1, #'node ')
    local prep, perr = at('textDocument/prepareRename', l, c)
    raw('prepareRename', prep or perr)
    local prange = prep and (prep.range or (prep.start and prep))
    expect(prange and range_text(prange) == '财务审核', 'prepareRename covers 财务审核', prep or perr)
    local r, err = at('textDocument/rename', l, c, { newName = '财务复核' })
    raw('rename', r or err)
    local edits = {}
    if r then
      for uri, es in pairs(r.changes or {}) do
        for _, e in ipairs(es) do
          edits[#edits + 1] = { uri = uri, edit = e }
        end
      end
      for _, dc in ipairs(r.documentChanges or {}) do
        for _, e in ipairs(dc.edits or {}) do
          edits[#edits + 1] = { uri = dc.textDocument.uri, edit = e }
        end
      end
    end
    local shown = {}
    for _, e in ipairs(edits) do
      shown[#shown + 1] = ('%d:%d-%d %q -> %q'):format(e.edit.range.start.line, e.edit.range.start.character,
        e.edit.range['end'].character, range_text(e.edit.range), e.edit.newText)
    end
    say('  ' .. #edits .. ' edits:', shown)
    -- node 财务审核, exit 同意 -> 财务审核, return 退回财务 -> 财务审核, 财务审核.operator; not the label "财务审核"
    expect(#edits == 4, '4 edits (declaration, two targets, 财务审核.operator)', #edits)
    local bad = vim.tbl_filter(function(s)
      return not s:find('"财务审核" -> "财务复核"', 1, true)
    end, shown)
    expect(#bad == 0, 'every edit replaces exactly 财务审核', bad)
    if r then
      local before = published
      vim.lsp.util.apply_workspace_edit(r, client.offset_encoding)
      wait_diagnostics(before)
      local text = table.concat(lines(), '\n')
      expect(text:find('node 财务复核 "财务审核": approve', 1, true) ~= nil, 'the label string is kept', nil)
      expect(#diags() == 0, 'no diagnostics after the rename', diags())
      vim.cmd('silent undo')
      wait_diagnostics(before)
    end
    -- invalid new names, and a name that is taken
    l, c = find('合计: money')
    local _, kerr = at('textDocument/rename', l, c, { newName = 'node' })
    expect(kerr ~= nil, 'renaming to a keyword is refused', kerr)
    local taken, terr = at('textDocument/rename', l, c, { newName = '预支' })
    local n_taken = 0
    for _, es in pairs(taken and taken.changes or {}) do
      n_taken = n_taken + #es
    end
    say('  rename 合计 -> 预支 (another field of the form):', terr or (n_taken .. ' edits'))
    expect(terr ~= nil, 'renaming a field to the name of another field is refused', n_taken .. ' edits')
    -- renaming something that is not a name
    l, c = find('"费用报销单"', 1, 3)
    prep, perr = at('textDocument/prepareRename', l, c)
    say('  prepareRename inside a string:', prep or perr)
    expect(prep == nil or prep == vim.NIL, 'refused inside a string', prep)
  end

  ---------------------------------------------------------------------------------------------
  step('formatting')
  do
    local opts = { tabSize = 2, insertSpaces = true }
    local r, err = request('textDocument/formatting', { textDocument = doc(), options = opts })
    raw('formatting', r or err)
    expect(r ~= nil and #r == 0, 'the example is already formatted (no edits)', r or err)
    local l = find('editable 付款方式')
    local before = published
    vim.api.nvim_buf_set_lines(buf, l, l + 1, false, { 'editable    付款方式' })
    wait_diagnostics(before)
    r, err = request('textDocument/formatting', { textDocument = doc(), options = opts })
    say('  after unindenting a line:', r and #r or err, 'edits')
    raw('formatting', r or err)
    if expect(r and #r > 0, 'formatting proposes edits', r or err) then
      before = published
      vim.lsp.util.apply_text_edits(r, buf, client.offset_encoding)
      wait_diagnostics(before)
      expect(lines()[l + 1] == '    editable 付款方式', 'the line is re-indented', lines()[l + 1])
    end
  end

  ---------------------------------------------------------------------------------------------
  step('semantic tokens, folding ranges, document symbols')
  do
    local r, err = request('textDocument/semanticTokens/full', { textDocument = doc() })
    local data = r and r.data or {}
    say('  semantic tokens:', #data / 5)
    expect(#data > 0 and #data % 5 == 0, 'semantic tokens', err)
    -- decode and check every token's range lies inside its line and starts on a name/keyword
    local legend = client.server_capabilities.semanticTokensProvider.legend
    local line, col, bad, sample = 0, 0, {}, {}
    for i = 1, #data, 5 do
      if data[i] > 0 then
        col = 0
      end
      line = line + data[i]
      col = col + data[i + 1]
      local len, typ = data[i + 2], legend.tokenTypes[data[i + 3] + 1]
      local text = range_text({ start = { line = line, character = col }, ['end'] = { line = line, character = col + len } })
      local full = lines()[line + 1] or ''
      if #sample < 12 and text:find('[\128-\255]') then
        sample[#sample + 1] = typ .. ':' .. text
      end
      if text == '' or utf16_of_byte(full, #full) < col + len then
        bad[#bad + 1] = ('%d:%d+%d %s'):format(line, col, len, typ)
      end
    end
    say('  some tokens on Chinese names:', sample)
    expect(#bad == 0, 'every token lies inside its line', bad)
    -- the token at `node 财务审核` is a whole name
    local l = find('node 财务审核')
    local found
    line, col = 0, 0
    for i = 1, #data, 5 do
      if data[i] > 0 then
        col = 0
      end
      line = line + data[i]
      col = col + data[i + 1]
      if line == l and col == pos(l, #'  node ').character then
        found = range_text({ start = { line = line, character = col }, ['end'] = { line = line, character = col + data[i + 2] } })
      end
    end
    expect(found == '财务审核', 'a token covers exactly the node name 财务审核', found)

    r, err = request('textDocument/foldingRange', { textDocument = doc() })
    say('  folding ranges:', r and #r or err)
    expect(r and #r >= 10, 'folding ranges for the form, select, detail, workflow and nodes', r and #r or err)
    local l_form = find('form 报销单 "费用报销单"')
    local l_wf = find('workflow 费用报销')
    local starts = {}
    for _, f in ipairs(r or {}) do
      starts[f.startLine] = f.endLine
    end
    expect(starts[l_form] ~= nil, 'a fold starts at the form', vim.tbl_keys(starts))
    expect(starts[l_wf] == #lines() - 1 or starts[l_wf] == #lines() - 2, 'the workflow folds to (just before) its closing brace', starts[l_wf])

    r, err = request('textDocument/documentSymbol', { textDocument = doc() })
    local outline = {}
    local function walk(syms, depth)
      for _, s in ipairs(syms or {}) do
        outline[#outline + 1] = ('%s%s [%s]%s'):format(string.rep('  ', depth), s.name, vim.lsp.protocol.SymbolKind[s.kind] or s.kind,
          s.detail and (' ' .. s.detail) or '')
        walk(s.children, depth + 1)
      end
    end
    walk(r, 0)
    say('  outline:\n    ' .. table.concat(outline, '\n    '))
    local flat = table.concat(outline, '\n')
    for _, name in ipairs({ '大额标准', '报销单', '明细', '合计', '费用报销', '财务审核', '归档' }) do
      expect(flat:find(name, 1, true), 'outline has ' .. name, nil)
    end
    -- selection ranges point at the names
    local bad_sel = {}
    local function check_sel(syms)
      for _, s in ipairs(syms or {}) do
        local t = range_text(s.selectionRange)
        if t ~= s.name and not t:find(s.name, 1, true) then
          bad_sel[#bad_sel + 1] = s.name .. ' -> ' .. t
        end
        check_sel(s.children)
      end
    end
    check_sel(r)
    expect(#bad_sel == 0, 'every symbol\'s selectionRange covers its name', bad_sel)
  end

  ---------------------------------------------------------------------------------------------
  step('a half-written file: drop the closing braces of a node and type garbage')
  do
    local l_node = find('node 总经理审批')
    local l_end = l_node
    while lines()[l_end + 1] ~= '  }' do
      l_end = l_end + 1
    end
    local before = published
    vim.api.nvim_buf_set_lines(buf, l_end, l_end + 1, false, { '    exit 同意 -> ', '    ))) 合计 ==== "未闭合 {{ ->' })
    wait_diagnostics(before)
    ds = diags()
    say('  ' .. #ds .. ' diagnostics; first ones:')
    show_diags(vim.list_slice(ds, 1, 5))
    expect(#ds > 0, 'syntax errors are reported', #ds)
    expect(alive(), 'the client is still attached', nil)
    local l, c = find('合计: money')
    local r, err = at('textDocument/hover', l, c)
    expect(r and hover_text(r), 'hover still answers on a field', err)
    l = find('exit 同意 -> ', 2)
    r, err = at('textDocument/completion', l, #lines()[l + 1])
    say('  completion after the dangling `-> `:', labels(r))
    expect(r ~= nil, 'completion still answers', err)
    r, err = request('textDocument/documentSymbol', { textDocument = doc() })
    expect(r ~= nil, 'document symbols still answer', err)
    r, err = request('textDocument/semanticTokens/full', { textDocument = doc() })
    expect(r ~= nil, 'semantic tokens still answer', err)
    r, err = request('textDocument/foldingRange', { textDocument = doc() })
    expect(r ~= nil, 'folding still answers', err)
    r, err = request('textDocument/formatting', { textDocument = doc(), options = { tabSize = 2, insertSpaces = true } })
    expect(r ~= nil, 'formatting still answers', err)
    -- type more garbage, one character at a time, then delete half the file
    local g = find('))) 合计')
    local typed = ''
    for ch in vim.gsplit('node x: { "\\u{zz} /* @@ ->', '') do
      typed = typed .. ch
      vim.api.nvim_buf_set_lines(buf, g + 1, g + 2, false, { typed })
      if g + 1 >= #lines() then
        break
      end
    end
    before = published
    vim.api.nvim_buf_set_lines(buf, find('node 财务审核'), -1, false, { '  node 半: approve { exit a -> ' })
    wait_diagnostics(before)
    expect(alive(), 'the client is still attached after typing garbage', nil)
    l = #lines() - 1
    r, err = at('textDocument/completion', l, #lines()[l + 1])
    say('  completion at the end of the truncated file:', labels(r))
    expect(r ~= nil, 'completion answers at the end of a truncated file', err)
    expect(has_all(labels(r), { '填写申请', '部门审批' }), 'and offers the nodes declared above', labels(r))
    l, c = find('合计: money')
    r, err = at('textDocument/hover', l, c)
    expect(r and hover_text(r), 'hover still answers', err)
    -- an empty buffer
    before = published
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
    wait_diagnostics(before)
    r, err = at('textDocument/completion', 0, 0)
    expect(r ~= nil, 'completion answers in an empty file', err)
    expect(alive(), 'the client is still attached at the end', nil)
  end
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  failures = failures + 1
  say('FAIL the script itself failed: ' .. tostring(err))
end
say(('\n%s: %d failed expectation%s'):format(failures == 0 and 'PASS' or 'FAIL', failures, failures == 1 and '' or 's'))
io.stdout:flush()
if buf then
  vim.bo[buf].modified = false
end
vim.cmd(failures == 0 and 'qall!' or 'cquit! 1')
