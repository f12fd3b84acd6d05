//! The order of one `submit` (runtime.md §3) and what it is made of:
//! required fields and `validate`, the node's `after`, the first exit that
//! holds, its block, the target's `before` and its operators; `reject` by
//! the returns. Each step works on the caller's copy of the request.

use serde_json::Value as Json;

use crate::diag::Code;
use crate::ir::{Exit, Node, NodeKind, Stmt, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::{BlockKind, BlockRun, Step};
use crate::runtime::request::node_rules::{field_missing, missing_words};
use crate::runtime::request::operators::{self, Resolution};
use crate::runtime::request::positions::Focus;
use crate::runtime::request::{internal, node_name, Action, Request, Runtime};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::eval::Env;
use crate::runtime::values::field_values::{self, to_json};
use crate::runtime::values::formulas::recompute;
use crate::runtime::values::value::Value;
use crate::syntax::ast::{ExitKind, OperatorMode};

impl<'a> Runtime<'a> {
    /// The order of one submit (runtime.md §3).
    pub(super) fn submit(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        action: &Action,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        self.check_required(workflow, node, request, now)?;
        if let Some(slot) = request.node_operators.get_mut(request.node) {
            *slot = Some(action.by.clone());
        }
        request.pending.retain(|person| person != &action.by);
        let finished = match node.mode {
            OperatorMode::Any => true,
            OperatorMode::All => request.pending.is_empty(),
            OperatorMode::Sequential => {
                let position = request.operators.iter().position(|person| person == &action.by);
                match position.and_then(|position| request.operators.get(position + 1)) {
                    Some(next) => {
                        request.pending = vec![next.clone()];
                        false
                    }
                    None => true,
                }
            }
        };
        if !finished {
            return Ok(Focus::Here);
        }
        self.run_named_block(workflow, &node.after, request, now, step, BlockKind::After, node, None)?;
        if let Some(fork) = node.fork {
            return self.fork(workflow, node, fork, request, now, step);
        }
        self.leave(workflow, node, &node.exits, request, now, step)
    }

    /// Leaves `node` by the first of `exits` (or returns) that holds: its block, then the target.
    fn leave(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        exits: &'a [Exit],
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        let exit = self.choose(workflow, node, exits, request, now, step)?;
        if exit.kind == ExitKind::Return {
            // A return past a fork withdraws its branches (forks.rs).
            self.withdraw_for_return(workflow, exit, request, step)?;
        }
        self.run_named_block(workflow, &exit.block, request, now, step, BlockKind::Exit, node, Some(&exit.name))?;
        self.enter(workflow, exit, request, now, step)
    }

    pub(super) fn reject(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        if node.returns.is_empty() {
            return Err(RuntimeError::at(
                Code::R0202,
                format!("`{}` has no `return`: a {} node cannot be rejected", node.name, kind_name(node.kind)),
                node.at,
            )
            .with_label("this node"));
        }
        self.leave(workflow, node, &node.returns, request, now, step)
    }

    /// Required fields of the node and the form's validate rules (at submit).
    pub(super) fn check_required(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        let env = self.env(workflow, request, now)?;
        for &field_index in &node.required {
            let Some(field) = env.form.fields.get(field_index) else { continue };
            if field_missing(&env, request, field_index) {
                return Err(RuntimeError::at(
                    Code::R0302,
                    format!(
                        "`{}` ({}) is required at `{}` and {}",
                        field.name,
                        field.label,
                        node.name,
                        missing_words(field)
                    ),
                    node.at,
                )
                .with_note(field.at, "the field")
                .with_help(format!("give `{}` a value with `set` in the same action", field.name)));
            }
        }
        for &table in &node.required_tables {
            if request.form.tables.get(table).is_none_or(Vec::is_empty) {
                let detail = env.form.details.get(table);
                return Err(RuntimeError::at(
                    Code::R0302,
                    format!(
                        "the table `{}` is required at `{}` and has no rows",
                        detail.map_or("", |detail| detail.name.as_str()),
                        node.name
                    ),
                    node.at,
                )
                .with_label("required here"));
            }
        }
        self.check_required_when(workflow, node, request, now)?;
        for validate in &env.form.validates {
            // language.md §4: a comparison with an empty value is false, so a
            // rule over a field that may be empty says so (`is_empty(x) or x > 0`).
            let check = |env: Env<'_>| env.holds(&validate.condition);
            // `Some(None)`: the rule fails on the main fields; `Some(Some((table, row)))`: on that row.
            let failed = match validate.detail {
                None => (!check(env)?).then_some(None),
                Some(table) => {
                    let rows = request.form.tables.get(table).map_or(0, Vec::len);
                    let mut first_failed = None;
                    for row in 0..rows {
                        if !check(env.with_row(table, row))? && first_failed.is_none() {
                            first_failed = Some(Some((table, row)));
                        }
                    }
                    first_failed
                }
            };
            if let Some(row) = failed {
                return Err(self.validate_error(workflow, validate, request, now, row));
            }
        }
        self.check_node_validates(workflow, node, request, now)
    }

    /// The first exit whose condition holds, recording each one tried.
    pub(super) fn choose(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        exits: &'a [Exit],
        request: &Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<&'a Exit, RuntimeError> {
        let env = self.env(workflow, request, now)?;
        for exit in exits {
            let held = match &exit.condition {
                Some(condition) => env.holds(condition)?,
                None => true,
            };
            step.exits_tried.push(self.tried(workflow, exit, held, request, now));
            if held {
                return Ok(exit);
            }
        }
        Err(self.none_held(node, exits, step))
    }

    /// R0201 or R0202: no exit (or return) of `node` held, each shown with the values it read.
    pub(super) fn none_held(&self, node: &Node, exits: &[Exit], step: &Step) -> RuntimeError {
        let (code, what) = match exits.first().map(|exit| exit.kind) {
            Some(crate::syntax::ast::ExitKind::Return) => (Code::R0202, "return"),
            _ => (Code::R0201, "exit"),
        };
        let mut error = RuntimeError::at(code, format!("no {what} of `{}` holds", node.name), node.at)
            .with_label(format!("the request stays at `{}`", node.name));
        for (exit, tried) in exits.iter().zip(&step.exits_tried) {
            let values = tried.values.iter().map(|(name, value)| format!("{name} = {value}")).collect::<Vec<_>>();
            let note = match &tried.condition {
                Some(condition) if values.is_empty() => format!("`{condition}` is false"),
                Some(condition) => format!("`{condition}` is false ({})", values.join(", ")),
                None => "holds".into(),
            };
            error = error.with_note(exit.condition.as_ref().map_or(exit.at, |condition| condition.at), note);
        }
        error.with_help(match what {
            "return" => "change the form so one condition holds, or add a `return` without `when` as the last one",
            _ => "change the form so one condition holds, or add an `exit` without `when` as the last one",
        })
    }

    /// Takes `exit`: arrive at its target, run its `before`, resolve its operators.
    pub(super) fn enter(
        &self,
        workflow: &'a Workflow,
        exit: &'a Exit,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        let target = workflow.nodes.get(exit.target).ok_or_else(|| internal("unknown exit target"))?;
        if target.kind == NodeKind::Merge {
            return self.arrive(workflow, exit, request, now, step);
        }
        step.exit = Some(exit.name.clone());
        step.to = Some(target.name.clone());
        request.node = exit.target;
        // Leaving a node that waited for a started request: the request no longer waits there.
        request.waiting = None;
        // A deadline counts from the entry, its rules afresh.
        request.entered_at = now;
        request.timers_fired = 0;
        request.forwarded.clear();
        request.stand_ins.clear();
        request.batch = None;
        if target.kind == NodeKind::Archive {
            request.archived = true;
            request.operators.clear();
            request.pending.clear();
            return Ok(Focus::Here);
        }
        self.run_named_block(workflow, &target.before, request, now, step, BlockKind::Before, target, None)?;
        if target.kind == NodeKind::Create {
            // A request returned to its create node goes back to its creator.
            request.operators = vec![request.creator.clone()];
            request.pending = request.operators.clone();
            step.operators = request.operators.clone();
            return Ok(Focus::Here);
        }
        let env = self.env(workflow, request, now)?;
        let resolution: Resolution = operators::resolve(env, target, &|at| self.compiled.source_text(at))?;
        step.empty_batches = resolution.empty_batches.clone();
        let Some(batch) = resolution.batch else {
            let mut error = RuntimeError::at(
                Code::R0204,
                format!("no operator resolved for `{}`: every batch is empty", target.name),
                target.at,
            )
            .with_label("the request cannot enter this node");
            for empty in &resolution.empty_batches {
                for line in &empty.lines {
                    error = error.with_note(line.at, line.reason.clone());
                }
            }
            return Err(error
                .with_note(exit.at, "the exit taken")
                .with_help("check the directory (managers, heads, role holders) or add a later batch as a fallback"));
        };
        step.batch = Some(batch);
        step.operators = resolution.people.clone();
        step.mode = Some(match target.mode {
            OperatorMode::Any => "any",
            OperatorMode::All => "all",
            OperatorMode::Sequential => "sequential",
        });
        request.batch = Some(batch);
        request.pending = match target.mode {
            OperatorMode::Sequential => resolution.people.iter().take(1).cloned().collect(),
            OperatorMode::Any | OperatorMode::All => resolution.people.clone(),
        };
        request.operators = resolution.people;
        self.hand_to_deputies(request, step, now);
        self.start_child(workflow, target, exit.target, request, now, step)?;
        Ok(Focus::Here)
    }

    /// Runs one of a node's blocks (or an exit's) and records in the step
    /// what it changed, under its name; an empty block does not run.
    #[allow(clippy::too_many_arguments)] // the block, where it runs, and how it is named
    pub(super) fn run_named_block(
        &self,
        workflow: &'a Workflow,
        block: &'a [Stmt],
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
        kind: BlockKind,
        node: &Node,
        exit: Option<&str>,
    ) -> Result<(), RuntimeError> {
        if block.is_empty() {
            return Ok(());
        }
        let before = request.form.clone();
        self.run_block(workflow, block, request, now)?;
        step.blocks.push(BlockRun {
            block: kind,
            node: node.name.clone(),
            exit: exit.map(str::to_owned),
            changed: self.changes(workflow, &before, &request.form, &[]),
        });
        Ok(())
    }

    /// Runs action statements, recomputing after the block.
    pub(super) fn run_block(
        &self,
        workflow: &'a Workflow,
        block: &'a [Stmt],
        request: &mut Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        if block.is_empty() {
            return Ok(());
        }
        self.run_statements(workflow, block, request, now)?;
        self.recompute(workflow, request, now)
    }

    pub(super) fn run_statements(
        &self,
        workflow: &'a Workflow,
        block: &'a [Stmt],
        request: &mut Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        for statement in block {
            match statement {
                Stmt::Assign { field, value, at } => {
                    let env = self.env(workflow, request, now)?;
                    let target = env.form.fields.get(*field).ok_or_else(|| internal("unknown field"))?;
                    match env.layout.column_of(*field) {
                        None => {
                            let stored = field_values::store_computed(target, env.eval(value)?, *at)?;
                            if let Some(slot) = request.form.main.get_mut(*field) {
                                *slot = stored;
                            }
                        }
                        Some((table, column)) => {
                            let rows = request.form.tables.get(table).map_or(0, Vec::len);
                            let mut values = Vec::with_capacity(rows);
                            for row in 0..rows {
                                values.push(field_values::store_computed(
                                    target,
                                    env.with_row(table, row).eval(value)?,
                                    *at,
                                )?);
                            }
                            for (row, stored) in values.into_iter().enumerate() {
                                if let Some(slot) = request
                                    .form
                                    .tables
                                    .get_mut(table)
                                    .and_then(|rows| rows.get_mut(row)?.get_mut(column))
                                {
                                    *slot = stored;
                                }
                            }
                        }
                    }
                }
                Stmt::If { branches, otherwise } => {
                    let mut chosen: &'a [Stmt] = otherwise;
                    for (condition, branch) in branches {
                        if self.env(workflow, request, now)?.holds(condition)? {
                            chosen = branch;
                            break;
                        }
                    }
                    self.run_statements(workflow, chosen, request, now)?;
                }
                Stmt::Script { path, at } => {
                    let form =
                        self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
                    let data =
                        self.compiled.scripts.run(path, form, &request.form, &request.creator).map_err(|error| {
                            let code = if error.limit { Code::R0402 } else { Code::R0401 };
                            let line = error.line.map(|line| format!(" at line {line}")).unwrap_or_default();
                            RuntimeError::at(code, format!("script `{path}`{line}: {}", error.message), *at)
                                .with_label("in this script")
                                .with_help("the request is left as it was before the action")
                        })?;
                    let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
                    if let Some((field, id)) = field_values::unknown_reference(form, layout, &data, self.directory) {
                        return Err(RuntimeError::at(
                            Code::R0305,
                            format!("script `{path}` set `{field}` to `{id}`, which is not in the directory"),
                            *at,
                        )
                        .with_label("in this script"));
                    }
                    request.form = data;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn recompute(
        &self,
        workflow: &'a Workflow,
        request: &mut Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        let mut data = std::mem::take(&mut request.form);
        let result = match self.env(workflow, request, now) {
            Ok(env) => recompute(env, &mut data),
            Err(error) => Err(error),
        };
        request.form = data;
        result
    }

    /// What an expression read, with the values it saw: the fields (in a
    /// detail rule checked on `row`, that row's cells too), the nodes'
    /// `.operator`, and `today()` and `now()` when it (or a function it
    /// calls) asks for the clock.
    pub(super) fn values_read(
        &self,
        workflow: &'a Workflow,
        expr: &crate::ir::Expr,
        request: &Request,
        now: DateTime,
        row: Option<(usize, usize)>,
    ) -> Vec<(String, Json)> {
        let Some(form) = self.compiled.program.forms.get(workflow.form) else { return Vec::new() };
        let layout = self.compiled.layouts.get(workflow.form);
        let mut fields = Vec::new();
        expr.fields_read(&mut fields);
        fields.dedup();
        let mut out: Vec<(String, Json)> = Vec::new();
        for index in fields {
            let Some(field) = form.fields.get(index) else { continue };
            if out.iter().any(|(name, _)| name == &field.name) {
                continue;
            }
            let value = match (field.detail, layout.and_then(|layout| layout.column_of(index)), row) {
                (None, _, _) => request.form.main.get(index),
                (Some(_), Some((table, column)), Some((row_table, row))) if table == row_table => {
                    request.form.tables.get(table).and_then(|rows| rows.get(row)).and_then(|cells| cells.get(column))
                }
                _ => continue,
            };
            out.push((field.name.clone(), to_json(field, value.unwrap_or(&Value::Null))));
        }
        let mut nodes = Vec::new();
        operator_reads(expr, &mut nodes);
        for node in nodes {
            let name = format!("{}.operator", node_name(workflow, node));
            if out.iter().any(|(read, _)| read == &name) {
                continue;
            }
            let operator = request.node_operators.get(node).cloned().flatten();
            out.push((name, operator.map_or(Json::Null, Json::String)));
        }
        let clock = clock_reads(expr, &self.compiled.program.functions);
        if clock.today {
            out.push(("today()".into(), Json::String(Value::Date(now.date).to_string())));
        }
        if clock.now {
            out.push(("now()".into(), Json::String(now.to_string())));
        }
        out
    }
}

/// Which of `today()` and `now()` an expression calls.
#[derive(Debug, Default, Clone, Copy)]
struct ClockReads {
    today: bool,
    now: bool,
}

/// The clock calls of an expression and of the functions it calls, each
/// function looked into once (so recursion, refused by the checker anyway,
/// cannot loop here).
fn clock_reads(expr: &crate::ir::Expr, functions: &[crate::ir::Function]) -> ClockReads {
    use crate::ir::ExprKind;
    let mut reads = ClockReads::default();
    let mut seen = vec![false; functions.len()];
    let mut pending = vec![expr];
    while let Some(next) = pending.pop() {
        next.walk(&mut |part| match &part.kind {
            ExprKind::CallBuiltin(name, _) if name == "today" => reads.today = true,
            ExprKind::CallBuiltin(name, _) if name == "now" => reads.now = true,
            ExprKind::CallFunction(index, _) => {
                if let (Some(function), Some(slot)) = (functions.get(*index), seen.get_mut(*index)) {
                    if !*slot {
                        *slot = true;
                        pending.push(&function.body);
                    }
                }
            }
            _ => {}
        });
    }
    reads
}

/// The nodes whose `.operator` an expression reads.
fn operator_reads(expr: &crate::ir::Expr, out: &mut Vec<usize>) {
    use crate::ir::ExprKind;
    expr.walk(&mut |part| {
        if let ExprKind::Member(target, member) = &part.kind {
            if let ExprKind::Node(node) = target.kind {
                if member == "operator" {
                    out.push(node);
                }
            }
        }
    });
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Create => "create",
        NodeKind::Approve => "approve",
        NodeKind::Realize => "realize",
        NodeKind::Merge => "merge",
        NodeKind::Archive => "archive",
    }
}
