//! Generators of large, realistic inputs for the `check` benchmark.
//!
//! Library-independent on purpose (std only): the bench includes it with
//! `mod generate;` and the test suite with `#[path]`, so the same text that
//! is measured is also asserted to check clean (tests/suite/generated.rs).
//!
//! * [`flow`] writes one `.flow` file: constants, a helper `fn`, one form with
//!   `fields` fields of every kind (int, money, float, text(N), textarea,
//!   select with options, date, datetime, employee, department, check,
//!   attachment, computed fields, money_upper), detail tables with row rules
//!   (`金额 = 数量 * 单价`) and column rules (`合计 = sum(明细.金额)`), validate
//!   rules; and one workflow with `nodes` nodes: one create node,
//!   approve/realize nodes chained by exits with `when` conditions, returns
//!   on approve nodes, batches, `where`, `role("…")`, editable/required/hidden
//!   lists, before/after blocks with assignments and `if`, and an archive
//!   node. Every non-computed field is editable at some node, so the file
//!   checks with no diagnostic at all.
//! * [`toml`] writes a TOML document of the same structure (a table per
//!   field, an array of tables per node with its exits) grown to a given
//!   byte size, for the `toml` crate baseline.
//! * [`unknown_names`] and [`never_filled`] write files full of mistakes,
//!   one diagnostic a line, for the speed of did-you-mean and of the
//!   renderers (and of the language server on a broken file).
#![allow(dead_code)]

use std::fmt::Write as _;

/// How big a generated file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Nodes of the workflow, create and archive included (at least 3).
    pub nodes: usize,
    /// Fields of the form, detail columns and computed fields included.
    pub fields: usize,
}

impl Size {
    /// Scale 1 is the workload: 2,000 nodes and 10,000 fields.
    pub fn scale(scale: f64) -> Size {
        let nodes = ((2000.0 * scale).round() as usize).max(3);
        let fields = ((10000.0 * scale).round() as usize).max(40);
        Size { nodes, fields }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Money,
    Float,
    Text,
    Textarea,
    Select,
    Date,
    DateTime,
    Employee,
    Department,
    Check,
    Attachment,
    Detail,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    /// Has a formula (or a default option): never listed as editable.
    computed: bool,
}

/// What the workflow draws on: the form's fields by kind.
#[derive(Debug, Default)]
struct Pools {
    /// Every field a person fills in (editable somewhere), detail tables included.
    fillable: Vec<String>,
    ints: Vec<String>,
    moneys: Vec<String>,
    texts: Vec<String>,
    selects: Vec<String>,
    dates: Vec<String>,
    employees: Vec<String>,
    departments: Vec<String>,
    checks: Vec<String>,
    totals: Vec<String>,
}

fn pick(pool: &[String], at: usize) -> &str {
    if pool.is_empty() {
        return "";
    }
    pool.get(at % pool.len()).map(String::as_str).unwrap_or("")
}

macro_rules! w {
    ($out:expr) => {{
        $out.push('\n');
    }};
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

const SELECT_OPTIONS: [(&str, &str); 4] =
    [("选项甲", "甲类"), ("选项乙", "乙类"), ("选项丙", "丙类"), ("选项丁", "丁类")];
const ROLES: [&str; 8] = ["部门经理", "会计", "财务经理", "出纳", "人事专员", "法务", "总经理", "采购专员"];

/// Writes the form and returns the pools the workflow draws on.
fn form(out: &mut String, size: Size) -> Pools {
    let mut pools = Pools::default();
    let mut fields: Vec<Field> = Vec::with_capacity(size.fields);
    w!(out, "/// 综合申请单：{} 个字段，按组排列，每组含各类字段、计算字段，每五组一张明细表。", size.fields);
    w!(out, "form 综合申请单 \"综合申请单\" {{");
    let mut count = 0usize;
    let mut group = 0usize;
    let mut table = 0usize;
    while count < size.fields {
        let base = group * 20;
        // One group: 20 fields of every kind, some computed from the group's inputs.
        w!(out, "  // 第{group}组");
        for slot in 0..20 {
            if count >= size.fields {
                break;
            }
            let n = base + slot;
            let name = format!("字段{n}");
            let (kind, computed) = match slot {
                0 => {
                    w!(out, "  {name}: int \"数量{n}\"");
                    (Kind::Int, false)
                }
                1 => {
                    w!(out, "  {name}: money \"金额{n}\"");
                    (Kind::Money, false)
                }
                2 => {
                    w!(out, "  {name}: text(50) \"说明{n}\"");
                    (Kind::Text, false)
                }
                3 => {
                    w!(out, "  {name}: select \"类别{n}\" {{");
                    for (index, (key, label)) in SELECT_OPTIONS.iter().take(3).enumerate() {
                        let default = if index == 0 { " default" } else { "" };
                        w!(out, "    {key} \"{label}\"{default}");
                    }
                    w!(out, "  }}");
                    (Kind::Select, true)
                }
                4 => {
                    w!(out, "  {name}: date \"日期{n}\"");
                    (Kind::Date, false)
                }
                5 => {
                    w!(out, "  {name}: employee \"经办人{n}\"");
                    (Kind::Employee, false)
                }
                6 => {
                    w!(out, "  {name}: department \"部门{n}\"");
                    (Kind::Department, false)
                }
                7 => {
                    w!(out, "  {name}: check \"是否确认{n}\"");
                    (Kind::Check, false)
                }
                8 => {
                    w!(out, "  {name}: textarea \"意见{n}\" html");
                    (Kind::Textarea, false)
                }
                9 => {
                    w!(out, "  {name}: money \"预算{n}\"");
                    (Kind::Money, false)
                }
                10 => {
                    w!(out, "  {name}: float(2) \"比例{n}\"");
                    (Kind::Float, false)
                }
                11 => {
                    w!(out, "  {name}: int \"天数{n}\"");
                    (Kind::Int, false)
                }
                12 => {
                    w!(out, "  {name}: select \"等级{n}\" {{");
                    for (key, label) in SELECT_OPTIONS {
                        w!(out, "    {key} \"{label}\"");
                    }
                    w!(out, "  }}");
                    (Kind::Select, false)
                }
                13 => {
                    w!(out, "  {name}: money \"小计{n}\" = 含税(字段{} + 字段{}, 0.06)", base + 1, base + 9);
                    (Kind::Money, true)
                }
                14 => {
                    w!(out, "  {name}: int \"总天数{n}\" = 字段{} + 字段{} * 2", base, base + 11);
                    (Kind::Int, true)
                }
                15 => {
                    w!(out, "  {name}: text(20) \"编号{n}\"");
                    (Kind::Text, false)
                }
                16 => {
                    w!(out, "  {name}: datetime \"时间{n}\"");
                    (Kind::DateTime, false)
                }
                17 => {
                    w!(out, "  {name}: money_upper \"小计大写{n}\" = 字段{}", base + 13);
                    (Kind::Money, true)
                }
                18 => {
                    w!(out, "  {name}: attachment \"附件{n}\" multiple");
                    (Kind::Attachment, false)
                }
                _ => {
                    w!(out, "  {name}: employee \"填表人{n}\" = creator");
                    (Kind::Employee, true)
                }
            };
            fields.push(Field { name, kind, computed });
            count += 1;
        }
        if count + 7 <= size.fields && group % 5 == 4 {
            // A detail table: 5 columns (one a row rule), 2 column rules.
            let k = table;
            w!(out, "  detail 明细{k} \"费用明细{k}\" {{");
            w!(out, "    摘要{k}: text(100) \"费用项目\"");
            w!(out, "    发生日期{k}: date \"发生日期\"");
            w!(out, "    数量{k}: int \"数量\"");
            w!(out, "    单价{k}: money \"单价\"");
            w!(out, "    金额{k}: money \"金额\" = 数量{k} * 单价{k}          // 行字段规则");
            w!(out, "  }}");
            w!(out, "  合计{k}: money \"明细合计{k}\" = sum(明细{k}.金额{k})      // 列字段规则");
            w!(out, "  件数{k}: int \"明细件数{k}\" = sum(明细{k}.数量{k})");
            w!(out, "  validate 合计{k} >= 0 \"明细{k}的合计不能为负\"");
            // Fields filled at different nodes: a rule must pass while they are still empty, or
            // no request gets past the first node that checks it (the route analysis says so).
            w!(
                out,
                "  validate 字段{a} == null or 字段{b} == null or 字段{a} <= 字段{b} or 字段{c} \"金额{a} 超出预算时须确认\"",
                a = base + 1,
                b = base + 9,
                c = base + 7,
            );
            fields.push(Field { name: format!("明细{k}"), kind: Kind::Detail, computed: false });
            fields.push(Field { name: format!("合计{k}"), kind: Kind::Money, computed: true });
            count += 7;
            table += 1;
        }
        if group.is_multiple_of(3) && count >= base + 20 {
            w!(
                out,
                "  validate (字段{a} == null or 字段{a} >= 0) and (字段{b} == null or 字段{b} <= 365) \"第{group}组的数量和天数超出范围\"",
                a = base,
                b = base + 11
            );
        }
        group += 1;
    }
    w!(out, "  validate 字段0 >= 0 \"数量不能为负\"");
    w!(out, "}}");
    w!(out);

    for field in &fields {
        let name = field.name.clone();
        if !field.computed {
            pools.fillable.push(name.clone());
        }
        match field.kind {
            Kind::Int if !field.computed => pools.ints.push(name),
            Kind::Money if field.computed => pools.totals.push(name),
            Kind::Money => pools.moneys.push(name),
            Kind::Text => pools.texts.push(name),
            Kind::Select => pools.selects.push(name),
            Kind::Date => pools.dates.push(name),
            Kind::Employee => pools.employees.push(name),
            Kind::Department => pools.departments.push(name),
            Kind::Check => pools.checks.push(name),
            _ => {}
        }
    }
    pools
}

/// A `.flow` file of the given size; checks clean.
pub fn flow(size: Size) -> String {
    let nodes = size.nodes.max(3);
    let mut out = String::with_capacity(nodes * 1400 + size.fields * 60);
    w!(out, "// 生成的基准测试流程：{} 个节点，{} 个字段。", nodes, size.fields);
    w!(out);
    w!(out, "/// 超过此金额需加急处理。");
    w!(out, "const 大额标准 = 50000");
    w!(out, "const 小额标准 = 1000");
    w!(out, "/// 含税金额，四舍五入到分。");
    w!(out, "fn 含税(金额: money, 税率: float) -> money = round(金额 * (1 + 税率), 2)");
    w!(out);
    let pools = form(&mut out, size);

    let archive = nodes - 1;
    let name_of = |index: usize| -> String {
        if index >= archive {
            "归档".to_string()
        } else {
            format!("节点{index}")
        }
    };
    // Every fillable field is editable at exactly one of the non-archive nodes.
    let chunk = pools.fillable.len().div_ceil(archive).max(1);
    let editable = |index: usize| -> &[String] {
        let start = (index * chunk).min(pools.fillable.len());
        let end = ((index + 1) * chunk).min(pools.fillable.len());
        pools.fillable.get(start..end).unwrap_or(&[])
    };

    w!(out, "/// 综合审批流程：逐级审批，大额加急跳级，审批节点可退回。");
    w!(out, "workflow 综合审批 \"综合审批流程\" {{");
    w!(out, "  category \"综合管理\"");
    w!(out, "  form 综合申请单");
    w!(
        out,
        "  title \"{{{}.name}}的综合申请 {{{}}} ¥{{thousands({}, 2)}}\"",
        pick(&pools.employees, 0),
        pick(&pools.dates, 0),
        pick(&pools.moneys, 0)
    );
    w!(out, "  remind sms, email");
    w!(out);

    // The create node.
    w!(out, "  node 节点0 \"填写申请\": create {{");
    w!(out, "    operators {{ everyone where security >= 10 }}");
    write_settings(&mut out, editable(0));
    w!(out, "    exit 提交 -> {}", name_of(1));
    w!(out, "  }}");
    w!(out);

    for j in 1..archive {
        let int = pick(&pools.ints, j);
        let int2 = pick(&pools.ints, j + 7);
        let money = pick(&pools.moneys, j);
        let money2 = pick(&pools.moneys, j + 3);
        let text = pick(&pools.texts, j);
        let select = pick(&pools.selects, j);
        let date = pick(&pools.dates, j);
        let employee = pick(&pools.employees, j);
        let department = pick(&pools.departments, j);
        let check = pick(&pools.checks, j);
        let check2 = pick(&pools.checks, j + 5);
        let total = pick(&pools.totals, j);
        let realize = j % 3 == 2;
        let (kind, label) = if realize { ("realize", "办理") } else { ("approve", "审批") };

        w!(out, "  /// 第{j}步：{}。", if realize { "经办人办理并登记" } else { "按金额和类别逐级审批" });
        w!(out, "  node 节点{j} \"第{j}步{label}\": {kind} {{");
        if realize {
            w!(out, "    operators all {{");
            w!(out, "      role(\"{}\")", pick_role(j));
            w!(out, "      {}.operator", name_of(j - 1));
            w!(out, "    }}");
        } else {
            match j % 4 {
                0 | 1 => {
                    w!(out, "    operators {{");
                    w!(out, "      batch 1 {{ {employee}.manager when {money} > 小额标准 }}");
                    w!(out, "      batch 2 {{ {department}.head }}");
                    w!(out, "      batch 3 {{ role(\"{}\", {department}) where security >= 20 }}", pick_role(j));
                    w!(out, "    }}");
                }
                _ => {
                    w!(out, "    operators sequential {{");
                    w!(out, "      role(\"{}\") when {int} >= 10", pick_role(j));
                    w!(out, "      creator.manager where security >= 30, employee(\"E{:04}\")", j % 10000);
                    w!(out, "    }}");
                }
            }
        }
        let mine = editable(j);
        write_settings(&mut out, mine);
        if let Some(next) = editable(j + 1).first() {
            w!(out, "    hidden {next}");
        }
        if j % 2 == 0 {
            w!(out, "    before {{ {int2} = {int2} + 1 }}");
        }
        w!(out, "    after {{");
        w!(out, "      {text} = \"第{j}步已处理\"");
        w!(out, "      if {check} and {money} > 100 {{");
        w!(out, "        {money2} = round({money} * 1.1, 2)");
        w!(out, "      }} else {{");
        w!(out, "        {money2} = {money}");
        w!(out, "      }}");
        w!(out, "    }}");
        if j + 2 <= archive {
            w!(out, "    exit 加急 -> {} when {total} > 大额标准 and {select} == \"选项甲\"", name_of(j + 2));
        }
        if j % 2 == 1 {
            w!(out, "    exit 特批 -> {} when {check2} or {date} <= today() {{ {check2} = true }}", name_of(j + 1));
        }
        w!(out, "    exit 同意 -> {}", name_of(j + 1));
        if !realize {
            w!(out, "    return 补充 -> {} when {text} == \"\"", name_of(j - 1));
            w!(out, "    return 退回 -> 节点0");
        }
        w!(out, "  }}");
        w!(out);
    }
    w!(out, "  node 归档 \"归档\": archive");
    w!(out, "}}");
    out
}

fn pick_role(j: usize) -> &'static str {
    ROLES.get(j % ROLES.len()).copied().unwrap_or("会计")
}

fn write_settings(out: &mut String, fields: &[String]) {
    if fields.is_empty() {
        return;
    }
    w!(out, "    editable {}", fields.join(", "));
    let required: Vec<&str> = fields.iter().take(2).map(String::as_str).collect();
    w!(out, "    required {}", required.join(", "));
}

/// A TOML document describing a form and workflow like [`flow`]'s, grown to
/// at least `bytes` bytes: a table per field, an array of tables per node
/// with nested exit tables.
pub fn toml(size: Size, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 4096);
    w!(out, "# 生成的基准测试配置");
    w!(out, "title = \"综合审批流程\"");
    w!(out, "category = \"综合管理\"");
    w!(out, "remind = [\"sms\", \"email\"]");
    w!(out);
    let kinds = ["int", "money", "text", "select", "date", "employee", "department", "check", "textarea", "float"];
    for n in 0..size.fields {
        let kind = kinds.get(n % kinds.len()).copied().unwrap_or("text");
        w!(out, "[form.\"字段{n}\"]");
        w!(out, "type = \"{kind}\"");
        w!(out, "label = \"字段说明{n}\"");
        match kind {
            "select" => w!(out, "options = [{{ key = \"选项甲\", label = \"甲类\", default = true }}, {{ key = \"选项乙\", label = \"乙类\" }}]"),
            "text" => w!(out, "max = 50"),
            "money" if n % 3 == 0 => w!(out, "formula = \"字段{} + 字段{} * 2\"", n.saturating_sub(1), n.saturating_sub(9)),
            _ => {}
        }
        w!(out);
    }
    // Nodes until the document is as large as asked (node numbers wrap
    // around the requested size so names stay realistic).
    let mut j = 0usize;
    while out.len() < bytes {
        let f = j * 5;
        w!(out, "[[workflow.node]]");
        w!(out, "name = \"节点{j}\"");
        w!(out, "label = \"第{j}步审批\"");
        w!(out, "kind = \"{}\"", if j % 3 == 2 { "realize" } else { "approve" });
        w!(
            out,
            "operators = {{ mode = \"any\", batches = [[\"字段{}.manager\"], [\"role('部门经理', 字段{})\"]] }}",
            f + 5,
            f + 6
        );
        w!(
            out,
            "editable = [\"字段{}\", \"字段{}\", \"字段{}\", \"字段{}\", \"字段{}\"]",
            f,
            f + 1,
            f + 2,
            f + 3,
            f + 4
        );
        w!(out, "required = [\"字段{}\", \"字段{}\"]", f, f + 1);
        w!(out, "before = [\"字段{} = 字段{} + 1\"]", f + 11, f + 11);
        w!(out, "after = [\"字段{} = '第{j}步已处理'\", \"if 字段{} and 字段{} > 100 {{ 字段{} = round(字段{} * 1.1, 2) }}\"]", f + 2, f + 7, f + 1, f + 9, f + 1);
        w!(out);
        w!(out, "[[workflow.node.exit]]");
        w!(out, "name = \"加急\"");
        w!(out, "target = \"节点{}\"", j + 2);
        w!(out, "when = \"字段{} > 50000 and 字段{} == '选项甲'\"", f + 13, f + 3);
        w!(out);
        w!(out, "[[workflow.node.exit]]");
        w!(out, "name = \"同意\"");
        w!(out, "target = \"节点{}\"", j + 1);
        w!(out);
        w!(out, "[[workflow.node.return]]");
        w!(out, "name = \"退回\"");
        w!(out, "target = \"节点0\"");
        w!(out);
        j += 1;
    }
    out
}

/// A form of `count` computed fields, each reading a misspelled name
/// (`字段7: int "字段7" = 字断7 + 1`): `count` E0501 diagnostics, each with a
/// did-you-mean among `count` field names, on `count + 2` lines.
pub fn unknown_names(count: usize) -> String {
    let mut out = String::with_capacity(count * 48);
    w!(out, "form 表 \"表\" {{");
    for n in 0..count {
        w!(out, "  字段{n}: int \"字段{n}\" = 字断{n} + 1");
    }
    w!(out, "}}");
    out
}

/// A form of `count` fields that no node fills, and a workflow on it:
/// `count` W0305 warnings, one a line.
pub fn never_filled(count: usize) -> String {
    let mut out = String::with_capacity(count * 32 + 400);
    w!(out, "form 表 \"表\" {{");
    w!(out, "  申请人: employee \"申请人\" = creator");
    for n in 0..count {
        w!(out, "  字段{n}: int \"字段{n}\"");
    }
    w!(out, "}}");
    w!(out);
    w!(out, "workflow 流程 \"流程\" {{");
    w!(out, "  form 表");
    w!(out, "  node 填写: create {{");
    w!(out, "    operators {{ everyone }}");
    w!(out, "    exit 提交 -> 审批");
    w!(out, "  }}");
    w!(out, "  node 审批: approve {{");
    w!(out, "    operators {{ 申请人.manager }}");
    w!(out, "    exit 同意 -> 归档");
    w!(out, "  }}");
    w!(out, "  node 归档: archive");
    w!(out, "}}");
    out
}
