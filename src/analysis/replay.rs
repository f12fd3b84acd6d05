//! From a solution to a request the runtime runs: the trace (what the
//! creator filled in, what each operator set, on which day), detail rows
//! built to have the aggregates the solution asks for, a directory in which
//! every operator line finds someone (so that only the form decides the
//! route), and the replay itself through `Runtime::create`/`apply`. A
//! finding carries a counterexample only when the replay ends exactly as
//! the analysis said.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::exec::{Act, Sym};
use super::model::{Agg, Class, Key, Model};
use super::solve::{Model as Solution, Val};
use crate::check::types::FieldKind;
use crate::ir::{ExprKind, Program};
use crate::org::{
    Asset, Contact, Customer, Department, Directory, DirectoryFile, Document, Employee, MeetingRoom, MemoryDirectory,
    Project, RoleGrant, Subcompany,
};
use crate::runtime::compiled::Compiled;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::{Action, ActionKind, FormInput, NewRequest, Request, Runtime, Step};
use crate::runtime::values::dates::{Date, DateTime};
use crate::runtime::values::eval::Env;
use crate::runtime::values::field_values::to_json;
use crate::runtime::values::formulas::{blank, recompute};
use crate::runtime::values::value::{FormData, Value};

/// How to build a request that shows a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// The day the actions happen (`--now`).
    pub now: String,
    /// Who creates the request, when it matters (`--org` findings); else
    /// anyone allowed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// What the creator fills in.
    pub form: Map<String, Json>,
    /// Each action after creating, in order; the last is the one the finding is about.
    pub steps: Vec<TraceStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStep {
    pub node: String,
    /// `submit` or `reject`.
    pub action: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub set: Map<String, Json>,
}

/// Builds the trace of a solution; `None` when a step cannot be written
/// as what a person enters (detail rows the aggregates cannot be met with).
pub fn build_trace(model: &Model<'_>, sym: &Sym, solution: &Solution, today: Option<u32>) -> Option<Trace> {
    let mut form = Map::new();
    let mut steps = Vec::new();
    if sym.steps().iter().any(|step| step.scripted) {
        return None;
    }
    for (position, step) in sym.steps().iter().enumerate() {
        let values = step_values(model, &step.fresh, solution, step.node)?;
        if position == 0 && step.act == Act::Create {
            form = values;
            continue;
        }
        let node = model.workflow.nodes.get(step.node)?;
        steps.push(TraceStep {
            node: node.name.clone(),
            action: if step.act == Act::Reject { "reject".into() } else { "submit".into() },
            set: values,
        });
    }
    let day = today
        .and_then(|var| match solution.get(var) {
            Some(Val::Num(day)) => i32::try_from(day).ok(),
            _ => None,
        })
        .map(Date)
        .or_else(|| Date::from_ymd(2026, 1, 1))?;
    Some(Trace { now: format!("{day}T09:00:00+08:00"), creator: None, form, steps })
}

/// The values people write at one step: the fields the solution fixes,
/// and the detail tables whose rows or aggregates it fixes.
fn step_values(model: &Model<'_>, fresh: &[(Key, u32)], solution: &Solution, node: usize) -> Option<Map<String, Json>> {
    let mut out = Map::new();
    let mut tables: Vec<(usize, Vec<(Key, Val)>)> = Vec::new();
    for (key, var) in fresh {
        let Some(val) = solution.get(*var) else { continue };
        match key {
            Key::Field(field) => {
                let Some(target) = model.form.fields.get(*field) else { continue };
                if target.formula.is_some() {
                    continue;
                }
                out.insert(target.name.clone(), json_of(model, *field, *var, val)?);
            }
            Key::Rows(table) => push_target(&mut tables, *table, key.clone(), val),
            Key::Agg(_, column) => {
                if let Some(table) = model.table_of(*column) {
                    push_target(&mut tables, table, key.clone(), val);
                }
            }
            Key::Unknown(_) | Key::Today => {}
        }
    }
    for (table, targets) in tables {
        let detail = model.form.details.get(table)?;
        let ir_node = model.workflow.nodes.get(node)?;
        let whole = ir_node.editable_tables.contains(&table);
        let rows = realize_rows(model, table, &targets)?;
        let rows: Vec<Json> = rows
            .into_iter()
            .map(|row| {
                let mut object = Map::new();
                for (column, value) in row {
                    if !whole && !ir_node.editable.contains(&column) {
                        continue;
                    }
                    if let Some(field) = model.form.fields.get(column) {
                        object.insert(field.name.clone(), to_json(field, &value));
                    }
                }
                Json::Object(object)
            })
            .collect();
        out.insert(detail.name.clone(), Json::Array(rows));
    }
    Some(out)
}

fn push_target(tables: &mut Vec<(usize, Vec<(Key, Val)>)>, table: usize, key: Key, val: Val) {
    match tables.iter_mut().find(|entry| entry.0 == table) {
        Some(entry) => entry.1.push((key, val)),
        None => tables.push((table, vec![(key, val)])),
    }
}

/// A value as a person enters it in JSON.
pub fn json_of(model: &Model<'_>, field: usize, var: u32, val: Val) -> Option<Json> {
    let target = model.form.fields.get(field)?;
    Some(match val {
        Val::Null => Json::Null,
        Val::Num(number) => {
            if target.kind == FieldKind::Date {
                Json::String(Date(i32::try_from(number).ok()?).to_string())
            } else {
                let scale = model.info(var)?.sort.scale();
                let decimal = Decimal::try_from_i128_with_scale(number, scale).ok()?;
                to_json(target, &Value::Number(decimal))
            }
        }
        Val::Class(class) => {
            let class = model.info(var)?.classes.get(class as usize)?.clone();
            let value = model.representative(field, &class);
            match value {
                Value::Ref(_, id) => Json::String(id),
                Value::List(items) => Json::Array(
                    items
                        .into_iter()
                        .map(|item| match item {
                            Value::Ref(_, id) => Json::String(id),
                            other => Json::String(other.to_string()),
                        })
                        .collect(),
                ),
                other => to_json(target, &other),
            }
        }
    })
}

/// A value for an analyst: `5000.00`, `false`, `招待`, `empty`.
pub fn display_of(model: &Model<'_>, var: u32, val: Val) -> String {
    let Some(info) = model.info(var) else { return "?".into() };
    match (val, &info.key) {
        (Val::Null, _) => "empty".into(),
        (Val::Num(number), Key::Field(field)) if model.kind(*field) == Some(&FieldKind::Date) => {
            i32::try_from(number).map(|day| Date(day).to_string()).unwrap_or_else(|_| number.to_string())
        }
        (Val::Num(number), Key::Today) => {
            i32::try_from(number).map(|day| Date(day).to_string()).unwrap_or_else(|_| number.to_string())
        }
        (Val::Num(number), _) => {
            let scale = info.sort.scale();
            match Decimal::try_from_i128_with_scale(number, scale) {
                Ok(decimal) => {
                    let mut shown = decimal;
                    if scale <= 4 {
                        shown.rescale(scale);
                        shown.to_string()
                    } else {
                        shown.normalize().to_string()
                    }
                }
                Err(_) => number.to_string(),
            }
        }
        (Val::Class(class), key) => match info.classes.get(class as usize) {
            Some(Class::Bool(flag)) => flag.to_string(),
            Some(Class::Null) => "empty".into(),
            Some(Class::EmptyText) => "\"\"".into(),
            Some(Class::Blank) => "\" \" (only spaces)".into(),
            Some(Class::Lit(text)) => text.clone(),
            Some(Class::Other) => match key {
                Key::Field(field) => match model.representative(*field, &Class::Other) {
                    Value::Text(text) => format!("\"{text}\""),
                    Value::Ref(kind, _) => format!("any {}", kind.noun()),
                    Value::List(_) => "not empty".into(),
                    other => other.to_string(),
                },
                _ => "something else".into(),
            },
            None => "?".into(),
        },
    }
}

/// Detail rows with the row count and aggregates asked for: every input
/// cell gets a plain value, the first row makes up the sums, and a row rule
/// is met through the one input it depends on linearly. Checked by
/// recomputing the table as the runtime does.
fn realize_rows(model: &Model<'_>, table: usize, targets: &[(Key, Val)]) -> Option<Vec<Vec<(usize, Value)>>> {
    let detail = model.form.details.get(table)?;
    let scaled = |key: &Key, number: i128| -> Option<Decimal> {
        let var = model.canonical_of(key)?;
        Decimal::try_from_i128_with_scale(number, model.info(var)?.sort.scale()).ok()
    };
    let mut rows_wanted: Option<usize> = None;
    let mut sums: Vec<(usize, Decimal)> = Vec::new();
    for (key, val) in targets {
        match (key, val) {
            (Key::Rows(_), Val::Num(count)) => rows_wanted = usize::try_from(*count).ok(),
            (Key::Agg(Agg::Sum, column), Val::Num(total)) => sums.push((*column, scaled(key, *total)?)),
            _ => {}
        }
    }
    let rows = rows_wanted.unwrap_or(if sums.iter().any(|(_, total)| !total.is_zero()) { 1 } else { 0 });
    if rows > 1000 {
        return None;
    }
    let inputs: Vec<usize> = detail.columns.iter().copied().filter(|column| !model.is_computed(*column)).collect();
    let mut cells: Vec<Vec<(usize, Value)>> =
        (0..rows).map(|_| inputs.iter().map(|&column| (column, default_cell(model, column))).collect()).collect();
    if rows == 0 {
        return sums.iter().all(|(_, total)| total.is_zero()).then_some(cells);
    }
    let set = |cells: &mut Vec<Vec<(usize, Value)>>, row: usize, column: usize, value: Value| {
        if let Some(cell) = cells.get_mut(row).and_then(|row| row.iter_mut().find(|cell| cell.0 == column)) {
            cell.1 = value;
        }
    };
    let targeted: Vec<usize> = sums.iter().map(|(column, _)| *column).collect();
    // Sums of input columns: the first row makes up the difference.
    for (column, total) in &sums {
        if model.is_computed(*column) {
            continue;
        }
        let others = Decimal::from(rows.saturating_sub(1)).checked_mul(default_number(model, *column))?;
        set(&mut cells, 0, *column, Value::Number(total.checked_sub(others)?));
    }
    // Sums of computed columns: solve the first row's value for an input it depends on linearly.
    for (column, total) in &sums {
        if !model.is_computed(*column) {
            continue;
        }
        let others = computed_sum(model, table, &cells, *column, 1)?;
        let wanted = total.checked_sub(others)?;
        let mut met = false;
        for &input in &inputs {
            if targeted.contains(&input) || !is_number_column(model, input) {
                continue;
            }
            set(&mut cells, 0, input, Value::Number(Decimal::ZERO));
            let at_zero = computed_cell(model, table, &cells, *column)?;
            set(&mut cells, 0, input, Value::Number(Decimal::ONE));
            let at_one = computed_cell(model, table, &cells, *column)?;
            let slope = at_one.checked_sub(at_zero)?;
            if slope.is_zero() {
                set(&mut cells, 0, input, Value::Number(default_number(model, input)));
                continue;
            }
            let value = wanted.checked_sub(at_zero)?.checked_div(slope)?;
            let scale = model.kind(input).and_then(super::model::numeric_scale).unwrap_or(0);
            if value.normalize().scale() > scale {
                set(&mut cells, 0, input, Value::Number(default_number(model, input)));
                continue;
            }
            set(&mut cells, 0, input, Value::Number(value.normalize()));
            met = true;
            break;
        }
        if !met {
            return None;
        }
    }
    Some(cells)
}

fn is_number_column(model: &Model<'_>, column: usize) -> bool {
    model.kind(column).and_then(super::model::numeric_scale).is_some()
}

fn default_number(model: &Model<'_>, column: usize) -> Decimal {
    let _ = (model, column);
    Decimal::ONE
}

/// A plain, non-empty value for an input cell (required columns are met).
fn default_cell(model: &Model<'_>, column: usize) -> Value {
    let Some(field) = model.form.fields.get(column) else { return Value::Null };
    match &field.kind {
        kind if super::model::numeric_scale(kind).is_some() => Value::Number(default_number(model, column)),
        FieldKind::Date => Date::from_ymd(2026, 1, 1).map_or(Value::Null, Value::Date),
        FieldKind::Check => Value::Bool(false),
        FieldKind::Select => field
            .options
            .iter()
            .find(|option| option.default)
            .or_else(|| field.options.first())
            .map_or(Value::Null, |option| Value::Text(option.key.clone())),
        FieldKind::Text(_) | FieldKind::Textarea => Value::Text("明细".into()),
        _ => model.representative(column, &Class::Other),
    }
}

/// The sum over rows `from..` of a computed column, as the runtime computes it.
fn computed_sum(
    model: &Model<'_>,
    table: usize,
    cells: &[Vec<(usize, Value)>],
    column: usize,
    from: usize,
) -> Option<Decimal> {
    let data = recomputed(model, table, cells)?;
    let (_, position) = model.layout.column_of(column)?;
    let mut total = Decimal::ZERO;
    for row in data.tables.get(table)?.iter().skip(from) {
        if let Some(Value::Number(number)) = row.get(position) {
            total = total.checked_add(*number)?;
        }
    }
    Some(total)
}

/// The first row's value of a computed column.
fn computed_cell(model: &Model<'_>, table: usize, cells: &[Vec<(usize, Value)>], column: usize) -> Option<Decimal> {
    let data = recomputed(model, table, cells)?;
    let (_, position) = model.layout.column_of(column)?;
    match data.tables.get(table)?.first()?.get(position)? {
        Value::Number(number) => Some(*number),
        Value::Null => Some(Decimal::ZERO),
        _ => None,
    }
}

fn recomputed(model: &Model<'_>, table: usize, cells: &[Vec<(usize, Value)>]) -> Option<FormData> {
    let mut data = blank(model.form);
    let detail = model.form.details.get(table)?;
    let rows: Vec<Vec<Value>> = cells
        .iter()
        .map(|row| {
            detail
                .columns
                .iter()
                .map(|column| row.iter().find(|cell| cell.0 == *column).map_or(Value::Null, |cell| cell.1.clone()))
                .collect()
        })
        .collect();
    if let Some(slot) = data.tables.get_mut(table) {
        *slot = rows;
    }
    let directory = MemoryDirectory::from_records(DirectoryFile::default()).ok()?;
    let env = Env {
        program: model.program,
        form: model.form,
        layout: &model.layout,
        data: &FormData::default(),
        row: None,
        row_cells: None,
        directory: &directory,
        creator: "",
        now: DateTime::parse("2026-01-01T09:00:00+08:00")?,
        node_operators: &[],
        person: None,
    };
    recompute(env, &mut data).ok()?;
    Some(data)
}

/// A directory in which every operator line of the program finds someone:
/// each role the program names is held by everyone, every department,
/// employee and other record it names by id exists, everyone has a manager
/// (but the top), every department a head, and security is high. With it,
/// a replay is routed by the form alone.
pub fn universal_directory(program: &Program) -> Option<MemoryDirectory> {
    MemoryDirectory::from_records(universal_records(program)).ok()
}

/// As [`universal_directory`], but each role the program names is held by
/// one person of its own (`E-R1`, `E-R2` …, in the order the roles are
/// named), so that lines naming other roles name other people: what
/// `flowc diff` runs operator changes against.
pub fn distinguishing_directory(program: &Program) -> Option<MemoryDirectory> {
    let mut records = universal_records(program);
    let mut roles: Vec<crate::org::RoleGrant> = Vec::new();
    for employee in &mut records.employees {
        for grant in std::mem::take(&mut employee.roles) {
            if !roles.iter().any(|known| known.role == grant.role) {
                roles.push(grant);
            }
        }
    }
    for (index, grant) in roles.into_iter().enumerate() {
        records.employees.push(Employee {
            id: format!("E-R{}", index + 1),
            name: format!("{}{}", grant.role, index + 1),
            department: "D1".into(),
            manager: Some("E2".into()),
            security: 100,
            roles: vec![grant],
        });
    }
    MemoryDirectory::from_records(records).ok()
}

fn universal_records(program: &Program) -> DirectoryFile {
    let mut roles: Vec<String> = Vec::new();
    let mut ids: [Vec<String>; 8] = Default::default();
    let note = |list: &mut Vec<String>, id: &str| {
        if !id.is_empty() && !list.iter().any(|known| known == id) {
            list.push(id.to_owned());
        }
    };
    let mut visit = |expr: &crate::ir::Expr| {
        expr.walk(&mut |part| {
            if let ExprKind::CallBuiltin(name, arguments) = &part.kind {
                let Some(ExprKind::Text(text)) = arguments.first().map(|argument| &argument.kind) else { return };
                let slot = match name.as_str() {
                    "role" => {
                        if !roles.contains(text) {
                            roles.push(text.clone());
                        }
                        return;
                    }
                    "employee" => 0,
                    "department" => 1,
                    "subcompany" => 2,
                    _ => return,
                };
                if let Some(list) = ids.get_mut(slot) {
                    note(list, text);
                }
            }
        });
    };
    for workflow in &program.workflows {
        for node in &workflow.nodes {
            for batch in &node.batches {
                for line in &batch.lines {
                    visit(&line.people);
                    if let Some(condition) = &line.condition {
                        visit(condition);
                    }
                }
            }
            for exit in node.exits.iter().chain(&node.returns) {
                if let Some(condition) = &exit.condition {
                    visit(condition);
                }
            }
        }
    }
    for function in &program.functions {
        visit(&function.body);
    }
    for constant in &program.constants {
        visit(&constant.value);
    }
    let mut records = DirectoryFile::default();
    let [employees, departments, subcompanies, ..] = &mut ids;
    for fixed in ["S1", "S2"] {
        note(subcompanies, fixed);
    }
    for fixed in ["D1", "D2"] {
        note(departments, fixed);
    }
    for fixed in ["E1", "E2", "E3"] {
        note(employees, fixed);
    }
    for id in subcompanies.iter() {
        records.subcompanies.push(Subcompany { id: id.clone(), name: format!("分部{id}") });
    }
    for id in departments.iter() {
        records.departments.push(Department {
            id: id.clone(),
            name: format!("部门{id}"),
            subcompany: "S1".into(),
            parent: if id == "D1" { None } else { Some("D1".into()) },
            head: Some("E2".into()),
        });
    }
    let grants: Vec<RoleGrant> = roles.iter().map(|role| RoleGrant { role: role.clone(), scope: None }).collect();
    let mut people: Vec<String> = employees.clone();
    // One member in each department, so `department("X")` is someone.
    for id in departments.iter() {
        let member = format!("E-{id}");
        if !people.contains(&member) {
            people.push(member);
        }
    }
    for id in &people {
        let department = id.strip_prefix("E-").unwrap_or("D1").to_owned();
        let manager = match id.as_str() {
            "E3" => None,
            "E2" => Some("E3".to_owned()),
            _ => Some("E2".to_owned()),
        };
        records.employees.push(Employee {
            id: id.clone(),
            name: format!("员工{id}"),
            department,
            manager,
            security: 100,
            roles: grants.clone(),
        });
    }
    for id in ["DOC1", "DOC2"] {
        records.documents.push(Document { id: id.into(), name: format!("文档{id}"), owner: "E2".into() });
    }
    for id in ["P1", "P2"] {
        records.projects.push(Project {
            id: id.into(),
            name: format!("项目{id}"),
            manager: "E2".into(),
            members: vec!["E1".into(), "E2".into()],
        });
    }
    for id in ["A1", "A2"] {
        records.assets.push(Asset {
            id: id.into(),
            name: format!("资产{id}"),
            admin: "E2".into(),
            department: "D1".into(),
        });
    }
    for id in ["C1", "C2"] {
        records.customers.push(Customer {
            id: id.into(),
            name: format!("客户{id}"),
            manager: "E2".into(),
            contacts: vec![Contact { name: "联系人".into(), manager: "E2".into() }],
        });
    }
    for id in ["R1", "R2"] {
        records.meeting_rooms.push(MeetingRoom { id: id.into(), name: format!("会议室{id}"), admin: "E2".into() });
    }
    records
}

/// How a replay ended.
#[derive(Debug)]
pub struct Replayed {
    /// The request just before the last action.
    pub before_last: Request,
    /// The node the last action was taken at.
    pub last_node: String,
    /// The request after the last action, when it went through.
    pub after_last: Option<Request>,
    /// The last action: what it did, or why it was refused.
    pub last: Result<Step, RuntimeError>,
}

/// Runs a trace: creates the request (trying each person the directory has
/// as creator), then each step by the node's pending operators — all of
/// them in turn where the node needs everyone — the first carrying `set`.
pub fn replay(
    compiled: &Compiled,
    directory: &dyn Directory,
    workflow: usize,
    trace: &Trace,
    creators: &[String],
) -> Option<Replayed> {
    let runtime = Runtime::new(compiled, directory);
    let now = DateTime::parse(&trace.now)?;
    let program_workflow = compiled.program.workflows.get(workflow)?;
    let mut request = None;
    for creator in creators {
        let new = NewRequest {
            workflow: None,
            creator: creator.clone(),
            form: FormInput::Fields(trace.form.clone()),
            sequence: None,
            started_by: None,
        };
        if let Ok((created, _)) = runtime.create(workflow, &new, now) {
            request = Some(created);
            break;
        }
    }
    let mut request = request?;
    let last_index = trace.steps.len().checked_sub(1)?;
    for (index, step) in trace.steps.iter().enumerate() {
        let node_name = program_workflow.nodes.get(request.node).map(|node| node.name.as_str());
        if node_name != Some(step.node.as_str()) || request.archived {
            return None;
        }
        let kind = if step.action == "reject" { ActionKind::Reject } else { ActionKind::Submit };
        let mut first = true;
        loop {
            let by = request.pending.first()?.clone();
            let action = Action {
                by,
                kind,
                opinion: None,
                set: if first && !step.set.is_empty() { Some(FormInput::Fields(step.set.clone())) } else { None },
                to: Vec::new(),
                node: None,
                at: None,
                request: None,
            };
            let before = request.clone();
            let result = runtime.apply(&request, &action, now);
            let still_here = match &result {
                Ok((next, step)) => step.exit.is_none() && !next.archived && next.node == before.node,
                Err(_) => false,
            };
            if index == last_index && !still_here {
                let (after_last, last) = match result {
                    Ok((next, step)) => (Some(next), Ok(step)),
                    Err(error) => (None, Err(error)),
                };
                return Some(Replayed { last_node: step.node.clone(), before_last: before, after_last, last });
            }
            match result {
                Ok((next, _)) => request = next,
                Err(_) => return None,
            }
            first = false;
            if !still_here {
                break;
            }
        }
    }
    None
}

/// Everyone in a directory, in its order (the creators a replay tries).
pub fn everyone(directory: &dyn Directory) -> Vec<String> {
    directory.everyone().iter().map(str::to_owned).collect()
}
