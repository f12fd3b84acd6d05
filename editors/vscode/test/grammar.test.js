// Tokenizes .flow text with the extension's TextMate grammar (through vscode-textmate and the
// same Oniguruma build VS Code uses) and checks the scopes of the constructs that matter.
// Run: npm test (after npm install).

'use strict';

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const extensionRoot = path.join(__dirname, '..');
const repoRoot = path.join(extensionRoot, '..', '..');
const grammarPath = path.join(extensionRoot, 'syntaxes', 'flow.tmLanguage.json');

async function loadGrammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.flow') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
    },
  });
  const grammar = await registry.loadGrammar('source.flow');
  assert.ok(grammar, 'the grammar loads');
  return grammar;
}

/** Every line of `text` as a list of { text, scopes } tokens. */
function tokenize(grammar, text) {
  let stack = vsctm.INITIAL;
  const lines = text.split(/\r?\n/).map((line) => {
    const result = grammar.tokenizeLine(line, stack);
    stack = result.ruleStack;
    return {
      line,
      tokens: result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), start: t.startIndex, end: t.endIndex, scopes: t.scopes })),
    };
  });
  // How many rules are still open after the last line (1 = only the grammar's root).
  lines.finalDepth = stack.depth;
  return lines;
}

let failures = 0;
let passes = 0;

function describeLine(line) {
  return line.tokens.map((t) => `    ${JSON.stringify(t.text)}  ${t.scopes.slice(1).join(' ')}`).join('\n');
}

/**
 * Asserts that every token covering the `occurrence`-th `needle` in the first line containing
 * `lineNeedle` (default: `needle`) carries a scope starting with `scope` (or, with `not`, none does).
 */
function expectScope(lines, needle, scope, options = {}) {
  const lineNeedle = options.line ?? needle;
  const label = `${JSON.stringify(needle)} in ${JSON.stringify(lineNeedle)} ${options.not ? 'is not' : 'is'} ${scope}`;
  const line = lines.find((l) => l.line.includes(lineNeedle));
  if (!line) {
    failures += 1;
    console.error(`FAIL ${label}: no line contains ${JSON.stringify(lineNeedle)}`);
    return;
  }
  let at = -1;
  for (let i = 0; i <= (options.occurrence ?? 0); i += 1) {
    at = line.line.indexOf(needle, at + 1);
  }
  if (at < 0) {
    failures += 1;
    console.error(`FAIL ${label}: occurrence not found`);
    return;
  }
  const covering = line.tokens.filter((t) => t.start < at + needle.length && t.end > at);
  const has = (t) => t.scopes.some((s) => s === scope || s.startsWith(scope + '.'));
  const ok = options.not ? !covering.some(has) : covering.length > 0 && covering.every(has);
  if (ok) {
    passes += 1;
  } else {
    failures += 1;
    console.error(`FAIL ${label}\n${describeLine(line)}`);
  }
}

const HAND_WRITTEN = String.raw`use std::money
/// A doc comment on a constant.
const 上限 = 12.50
/* a block comment
   over two lines */
fn 含税(金额: money, 税率?: decimal) -> money = round(金额 * (1 + 税率), 2)
form 测试单 "测试" {
  date: date "日期"
  发票: attachment "发票" multiple
  说明: textarea "说明" html
  类别: select "类别" { 甲 "甲类" default; 乙 "乙类" folder "/docs/乙" }
  validate 合计 > 0 and not is_empty(说明) "金额 {不插值} 必须\q大于零"
}
workflow 测试 {
  form 测试单
  title "审批\t{申请人.name}的单子 {{字面}} \u{4E2D}"
  remind sms, email
  node 开始 "开始": create {
    operators sequential { creator.manager where security >= 10 }
    editable 类别
    exit 提交 -> 结束 when 类别 in ["甲", "乙"] { 说明 = "x" + "y"; 加急 = true }
  }
  node 结束: archive
}`;

async function main() {
  const grammar = await loadGrammar();

  // --- examples/expense/expense.flow ---------------------------------------------------------
  const expense = tokenize(grammar, fs.readFileSync(path.join(repoRoot, 'examples', 'expense', 'expense.flow'), 'utf8'));
  expectScope(expense, 'workflow', 'keyword.other.workflow.flow', { line: 'workflow 费用报销' });
  expectScope(expense, '费用报销', 'entity.name.type.workflow.flow', { line: 'workflow 费用报销' });
  expectScope(expense, 'form', 'keyword.other.form.flow', { line: 'form 报销单 "费用报销单"' });
  expectScope(expense, '报销单', 'entity.name.type.form.flow', { line: 'form 报销单 "费用报销单"' });
  expectScope(expense, '"费用报销单"', 'string.quoted.double.flow', { line: 'form 报销单 "费用报销单"' });
  // title interpolation
  const title = 'title "{申请人.name}';
  expectScope(expense, 'title', 'keyword.other.title.flow', { line: title });
  expectScope(expense, '{', 'punctuation.section.interpolation.begin.flow', { line: title });
  expectScope(expense, '申请人', 'meta.interpolation.flow', { line: title });
  expectScope(expense, '申请人', 'variable.other.flow', { line: title });
  expectScope(expense, 'name', 'variable.other.property.flow', { line: title });
  expectScope(expense, '的费用报销', 'string.quoted.double.interpolated.flow', { line: title });
  expectScope(expense, '的费用报销', 'meta.interpolation.flow', { line: title, not: true });
  expectScope(expense, 'thousands', 'support.function.builtin.flow', { line: title });
  // comments
  expectScope(expense, '// Expense claim', 'comment.line.double-slash.flow');
  expectScope(expense, '/// Above this amount', 'comment.line.documentation.flow');
  expectScope(expense, '// 行字段规则', 'comment.line.double-slash.flow');
  // fields and types
  expectScope(expense, '单价', 'entity.name.variable.field.flow', { line: '单价: money' });
  expectScope(expense, 'money', 'support.type.flow', { line: '单价: money' });
  expectScope(expense, 'text', 'support.type.flow', { line: '摘要: text(100)' });
  expectScope(expense, '100', 'constant.numeric.integer.flow', { line: '摘要: text(100)' });
  expectScope(expense, 'money_upper', 'support.type.flow', { line: '大写: money_upper' });
  expectScope(expense, 'multiple', 'storage.modifier.flag.flow', { line: '发票: attachment' });
  expectScope(expense, 'default', 'keyword.other.option.flow', { line: '差旅 "差旅费" default' });
  expectScope(expense, 'creator', 'variable.language.flow', { line: '申请人: employee "报销人" = creator' });
  expectScope(expense, '=', 'keyword.operator.assignment.flow', { line: '申请人: employee "报销人" = creator' });
  // built-in functions
  expectScope(expense, 'sum', 'support.function.builtin.flow', { line: '合计: money "报销金额" = sum(' });
  expectScope(expense, 'today', 'support.function.builtin.flow', { line: 'validate 日期 <= today()' });
  expectScope(expense, 'role', 'support.function.builtin.flow', { line: 'role("会计", 部门)' });
  // numbers, constants and operators
  expectScope(expense, '10000', 'constant.numeric.integer.flow', { line: 'const 大额标准 = 10000' });
  expectScope(expense, '大额标准', 'entity.name.constant.flow', { line: 'const 大额标准 = 10000' });
  expectScope(expense, '<=', 'keyword.operator.comparison.flow', { line: 'validate 日期 <= today()' });
  expectScope(expense, '*', 'keyword.operator.arithmetic.flow', { line: '金额: money "金额" = 数量 * 单价' });
  expectScope(expense, 'or', 'keyword.operator.word.flow', { line: 'validate 类别 != "招待" or not' });
  expectScope(expense, 'not', 'keyword.operator.word.flow', { line: 'validate 类别 != "招待" or not' });
  expectScope(expense, 'and', 'keyword.operator.word.flow', { line: 'exit 招待 -> 总经理审批 when' });
  // nodes and exits
  expectScope(expense, 'node', 'keyword.other.node.flow', { line: 'node 填写申请' });
  expectScope(expense, '填写申请', 'entity.name.function.node.flow', { line: 'node 填写申请' });
  expectScope(expense, '"填写报销单"', 'string.quoted.double.flow', { line: 'node 填写申请' });
  expectScope(expense, 'create', 'keyword.other.node-kind.flow', { line: 'node 填写申请' });
  expectScope(expense, 'archive', 'keyword.other.node-kind.flow', { line: 'node 归档' });
  expectScope(expense, 'exit', 'keyword.control.exit.flow', { line: 'exit 提交 -> 部门审批' });
  expectScope(expense, '提交', 'entity.name.label.exit.flow', { line: 'exit 提交 -> 部门审批' });
  expectScope(expense, '->', 'keyword.operator.arrow.flow', { line: 'exit 提交 -> 部门审批' });
  expectScope(expense, '部门审批', 'variable.other.node.flow', { line: 'exit 提交 -> 部门审批' });
  expectScope(expense, 'return', 'keyword.control.return.flow', { line: 'return 退回 -> 填写申请' });
  expectScope(expense, 'when', 'keyword.control.condition.flow', { line: 'exit 大额 -> 总经理审批 when' });
  expectScope(expense, 'operators', 'keyword.other.operators.flow', { line: 'operators all {' });
  expectScope(expense, 'all', 'keyword.other.modifier.flow', { line: 'operators all {' });
  expectScope(expense, 'batch', 'keyword.other.batch.flow', { line: 'batch 1 {' });
  expectScope(expense, 'where', 'keyword.control.condition.flow', { line: 'everyone where security' });
  expectScope(expense, 'everyone', 'variable.language.flow', { line: 'everyone where security' });
  expectScope(expense, 'editable', 'keyword.other.field-setting.flow', { line: 'editable 日期, 类别' });
  expectScope(expense, 'required', 'keyword.other.field-setting.flow', { line: 'required 日期, 类别' });
  expectScope(expense, 'hidden', 'keyword.other.field-setting.flow', { line: 'hidden 财务意见' });
  expectScope(expense, 'category', 'keyword.other.setting.flow', { line: 'category "费用相关"' });
  expectScope(expense, 'remind', 'keyword.other.remind.flow', { line: 'remind sms, email' });
  expectScope(expense, 'after', 'keyword.other.after.flow', { line: 'after {' });
  expectScope(expense, 'if', 'keyword.control.conditional.flow', { line: 'if 加急 {' });
  expectScope(expense, 'true', 'constant.language.boolean.flow', { line: '已付款 = true' });
  expectScope(expense, 'null', 'constant.language.null.flow', { line: '项目.manager when 项目 != null' });

  // --- hand-written lines ----------------------------------------------------------------------
  const hand = tokenize(grammar, HAND_WRITTEN);
  expectScope(hand, 'use', 'keyword.other.use.flow', { line: 'use std::money' });
  expectScope(hand, 'std', 'entity.name.namespace.flow', { line: 'use std::money' });
  expectScope(hand, 'money', 'entity.name.type.module.flow', { line: 'use std::money' });
  expectScope(hand, '12.50', 'constant.numeric.decimal.flow');
  expectScope(hand, '/// A doc comment', 'comment.line.documentation.flow');
  expectScope(hand, 'over two lines */', 'comment.block.flow');
  expectScope(hand, '含税', 'entity.name.function.flow', { line: 'fn 含税' });
  expectScope(hand, '金额', 'variable.parameter.flow', { line: 'fn 含税' });
  expectScope(hand, '?', 'keyword.operator.optional.flow', { line: 'fn 含税' });
  expectScope(hand, 'decimal', 'support.type.flow', { line: 'fn 含税' });
  expectScope(hand, '->', 'keyword.operator.arrow.flow', { line: 'fn 含税' });
  expectScope(hand, 'money', 'support.type.flow', { line: 'fn 含税', occurrence: 1 });
  expectScope(hand, 'round', 'support.function.builtin.flow', { line: 'fn 含税' });
  expectScope(hand, 'date', 'entity.name.variable.field.flow', { line: 'date: date "日期"' });
  expectScope(hand, 'date', 'support.type.flow', { line: 'date: date "日期"', occurrence: 1 });
  expectScope(hand, 'html', 'storage.modifier.flag.flow', { line: '说明: textarea' });
  expectScope(hand, 'default', 'keyword.other.option.flow', { line: '类别: select' });
  expectScope(hand, 'folder', 'keyword.other.option.flow', { line: '类别: select' });
  expectScope(hand, 'is_empty', 'support.function.builtin.flow', { line: 'validate 合计' });
  expectScope(hand, '{不插值}', 'meta.interpolation.flow', { line: 'validate 合计', not: true });
  expectScope(hand, '\\q', 'invalid.illegal.escape.flow', { line: 'validate 合计' });
  const t = 'title "审批';
  expectScope(hand, '\\t', 'constant.character.escape.flow', { line: t });
  expectScope(hand, '申请人', 'meta.interpolation.flow', { line: t });
  expectScope(hand, '.', 'punctuation.accessor.flow', { line: t });
  expectScope(hand, '}', 'punctuation.section.interpolation.end.flow', { line: t });
  expectScope(hand, '{{', 'constant.character.escape.brace.flow', { line: t });
  expectScope(hand, '字面', 'meta.interpolation.flow', { line: t, not: true });
  expectScope(hand, '\\u{4E2D}', 'constant.character.escape.flow', { line: t });
  expectScope(hand, '"', 'punctuation.definition.string.end.flow', { line: t, occurrence: 1 });
  expectScope(hand, 'sms', 'constant.other.remind-channel.flow', { line: 'remind sms' });
  expectScope(hand, 'sequential', 'keyword.other.modifier.flow', { line: 'operators sequential' });
  expectScope(hand, 'manager', 'variable.other.property.flow', { line: 'operators sequential' });
  expectScope(hand, '>=', 'keyword.operator.comparison.flow', { line: 'operators sequential' });
  expectScope(hand, 'in', 'keyword.operator.word.flow', { line: 'exit 提交' });
  expectScope(hand, '[', 'punctuation.section.brackets.begin.flow', { line: 'exit 提交' });
  expectScope(hand, '结束', 'variable.other.node.flow', { line: 'exit 提交' });
  expectScope(hand, ';', 'punctuation.terminator.statement.flow', { line: 'exit 提交' });
  expectScope(hand, '结束', 'entity.name.function.node.flow', { line: 'node 结束: archive' });

  // --- every example and the standard library: nothing is scoped invalid -------------------
  const files = [];
  for (const dir of fs.readdirSync(path.join(repoRoot, 'examples'))) {
    const full = path.join(repoRoot, 'examples', dir);
    if (fs.statSync(full).isDirectory()) {
      for (const f of fs.readdirSync(full)) if (f.endsWith('.flow')) files.push(path.join(full, f));
    }
  }
  for (const f of fs.readdirSync(path.join(repoRoot, 'stdlib'))) if (f.endsWith('.flow')) files.push(path.join(repoRoot, 'stdlib', f));
  for (const file of files) {
    const lines = tokenize(grammar, fs.readFileSync(file, 'utf8'));
    const bad = [];
    lines.forEach((l, i) => {
      for (const tok of l.tokens) {
        if (tok.scopes.some((s) => s.startsWith('invalid'))) bad.push(`${i + 1}: ${JSON.stringify(tok.text)} ${tok.scopes.join(' ')}`);
      }
    });
    if (bad.length === 0) {
      passes += 1;
    } else {
      failures += 1;
      console.error(`FAIL ${path.relative(repoRoot, file)} has invalid tokens:\n  ${bad.join('\n  ')}`);
    }
    // After the last line no rule is left open (every comment, string and region closed).
    if (lines.finalDepth === 1) {
      passes += 1;
    } else {
      failures += 1;
      console.error(`FAIL ${path.relative(repoRoot, file)} leaves ${lines.finalDepth - 1} rule(s) open at the end`);
    }
  }

  console.log(`${passes} passed, ${failures} failed (${files.length} files scanned for invalid scopes)`);
  if (failures > 0) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
