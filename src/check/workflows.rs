//! Workflows: settings, node kinds and their rules, operators with batches,
//! `where` and `when`, node field settings, action blocks, exits and the
//! graph (reachability both ways) — docs/language.md §5–§7 and §10.

use std::collections::{HashMap, HashSet, VecDeque};

use super::exprs::{Env, Mode};
use super::forms::{FormInfo, Named};
use super::suggest;
use super::types::Ty;
use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, ExitKind, Node, OperatorEntry, SettingKind, SettingMode, Statement, WorkflowItem};

const NODE_KINDS: &[&str] = &["create", "approve", "realize", "merge", "archive"];
use super::deadlines::REMIND_CHANNELS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Create,
    Approve,
    Realize,
    Merge,
    Archive,
    Unknown,
}

/// What the action blocks and field settings of one workflow fill.
#[derive(Default)]
struct Filled {
    fields: HashSet<usize>,
    scripted: bool,
}

impl<'a> Checker<'a> {
    pub(super) fn check_workflow(&self, module: usize, workflow: &'a WorkflowItem) {
        self.check_label(module, workflow.label.as_ref());
        let form = self.workflow_form(module, workflow);

        let mut node_names: HashMap<&'a str, usize> = HashMap::new();
        for (index, node) in workflow.nodes.iter().enumerate() {
            self.check_label(module, node.label.as_ref());
            if node.name.name.is_empty() {
                continue;
            }
            if let Some(&first) = node_names.get(node.name.name.as_str()) {
                let first_span = workflow.nodes.get(first).map_or(Span::default(), |n| n.name.span);
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        format!("node `{}` is declared twice", node.name.name),
                        self.at(module, node.name.span),
                        "declared again here",
                    )
                    .with_secondary(self.at(module, first_span), "first declared here"),
                );
            } else {
                node_names.insert(node.name.name.as_str(), index);
            }
        }
        let kinds: Vec<Kind> = workflow.nodes.iter().map(|node| self.node_kind(module, node)).collect();
        // A workflow with a member that did not parse is missing nodes:
        // checks about what is absent would only repeat the syntax error.
        let complete = !workflow.broken;
        if complete {
            self.check_node_counts(module, workflow, &kinds);
        }

        let mut filled = Filled::default();
        let request_env = || Env::new(module, Mode::Request).with_form(form).with_nodes(workflow, &node_names);
        if form.is_some() {
            for setting in &workflow.settings {
                if let SettingKind::Title(title) = &setting.kind {
                    for part in &title.parts {
                        if let ast::TitlePart::Hole(expr) = part {
                            self.expr(&request_env(), expr);
                        }
                    }
                }
            }
        }
        if let Some(form) = form {
            let where_env = Env::new(module, Mode::Where).with_form(Some(form)).with_nodes(workflow, &node_names);
            self.check_supervisors(&request_env(), &where_env, workflow);
        }
        for (node, kind) in workflow.nodes.iter().zip(&kinds) {
            self.check_node_shape(module, node, *kind);
            self.check_allows(module, node);
            self.check_exits(
                module,
                node,
                *kind,
                &node_names,
                form.is_some().then(request_env).as_ref(),
                &mut filled,
                form,
                complete,
                &workflow.nodes,
            );
            if let Some(form) = form {
                let env = request_env();
                let where_env = Env::new(module, Mode::Where).with_form(Some(form)).with_nodes(workflow, &node_names);
                self.check_operators(module, node, &env, &where_env);
                self.check_deadlines(module, node, &env, &where_env);
                filled.fields.extend(self.check_starts(&env, node, form));
                self.check_field_settings(module, &workflow.name.name, node, form, &mut filled);
                self.check_node_rules(&env, node);
                for block in node.before.iter().chain(&node.after) {
                    self.check_block(&env, form, block, &mut filled);
                }
            }
        }
        // An exit to an unknown node (E0105) could lead anywhere: graph
        // checks would only repeat that error as unreachable nodes.
        let targets_known = workflow
            .nodes
            .iter()
            .flat_map(|node| &node.exits)
            .all(|exit| node_names.contains_key(exit.target.name.as_str()));
        if complete && targets_known {
            let stranded = self.check_forks(module, workflow, &kinds, form);
            self.check_graph(module, workflow, &kinds, &node_names, &stranded);
        }
        filled.scripted |= !complete;
        if let Some(form) = form {
            let mut all_filled = self.filled.borrow_mut();
            let entry = all_filled.entry(form.item).or_default();
            entry.0.extend(filled.fields);
            entry.1 |= filled.scripted;
        }
    }

    /// The `form` setting, resolved; E0109, E0110 and E0111 on the way.
    fn workflow_form(&self, module: usize, workflow: &'a WorkflowItem) -> Option<&FormInfo<'a>> {
        let mut first_of: HashMap<&str, Span> = HashMap::new();
        let mut form_name = None;
        for setting in &workflow.settings {
            let keyword = setting.keyword_text();
            if let Some(first) = first_of.get(keyword) {
                let code = if keyword == "form" { Code::E0109 } else { Code::E0110 };
                self.report(
                    Diagnostic::new(
                        code,
                        format!("workflow `{}` sets `{keyword}` twice", workflow.name.name),
                        self.at(module, setting.span),
                        "set again here",
                    )
                    .with_secondary(self.at(module, *first), "first set here")
                    .with_help(if keyword == "form" {
                        "a workflow uses exactly one form"
                    } else {
                        "keep one of them"
                    }),
                );
                continue;
            }
            first_of.insert(keyword, setting.span);
            match &setting.kind {
                SettingKind::Form(name) => form_name = Some(name),
                SettingKind::Remind(channels) => {
                    for channel in channels {
                        if !REMIND_CHANNELS.contains(&channel.name.as_str()) {
                            let mut diagnostic = Diagnostic::new(
                                Code::E0111,
                                format!("unknown reminder channel `{}`", channel.name),
                                self.at(module, channel.span),
                                "not a channel",
                            );
                            diagnostic = match suggest::best(&channel.name, REMIND_CHANNELS.iter().copied()) {
                                Some(best) => diagnostic.with_replacement(best),
                                None => {
                                    diagnostic.with_help("the channels are `sms` (短信提醒) and `email` (邮件提醒)")
                                }
                            };
                            self.report(diagnostic);
                        }
                    }
                }
                SettingKind::Category(label) => self.check_label(module, Some(label)),
                _ => {}
            }
        }
        let Some(name) = form_name else {
            self.report(
                Diagnostic::new(
                    Code::E0109,
                    format!("workflow `{}` does not say which form it uses", workflow.name.name),
                    self.at(module, workflow.name.span),
                    "no `form` setting",
                )
                .with_help("add `form NAME` naming the form its requests fill in"),
            );
            return None;
        };
        match self.lookup(module, &name.name) {
            Some(item) => match self.forms.get(&item) {
                Some(form) => {
                    self.record(self.at(module, name.span), self.at(item.module, form.decl.name.span));
                    Some(form)
                }
                None => {
                    self.report(Diagnostic::new(
                        Code::E0502,
                        format!("`{}` is not a form", name.name),
                        self.at(module, name.span),
                        "not a form",
                    ));
                    None
                }
            },
            None if self.module_incomplete(module) => None,
            None => {
                let candidates: Vec<&str> = self
                    .scopes
                    .get(module)
                    .map(|scope| {
                        scope.iter().filter(|(_, item)| self.forms.contains_key(item)).map(|(name, _)| *name).collect()
                    })
                    .unwrap_or_default();
                let mut diagnostic = Diagnostic::new(
                    Code::E0501,
                    format!("unknown form `{}`", name.name),
                    self.at(module, name.span),
                    "no such form",
                );
                diagnostic = match self.suggester.best(&name.name, candidates.iter().copied()) {
                    Some(best) => diagnostic.with_replacement(best),
                    None => {
                        diagnostic.with_help("declare the form in this file, or bring it in with `use path::to::form`")
                    }
                };
                self.report(diagnostic);
                None
            }
        }
    }

    fn node_kind(&self, module: usize, node: &Node) -> Kind {
        match node.kind.name.as_str() {
            "create" => Kind::Create,
            "approve" => Kind::Approve,
            "realize" => Kind::Realize,
            "merge" => Kind::Merge,
            "archive" => Kind::Archive,
            other => {
                let mut diagnostic = Diagnostic::new(
                    Code::E0501,
                    format!("unknown node kind `{other}`"),
                    self.at(module, node.kind.span),
                    "not a node kind",
                );
                diagnostic = match suggest::best(other, NODE_KINDS.iter().copied()) {
                    Some(best) => diagnostic.with_replacement(best),
                    None => {
                        diagnostic.with_help("the node kinds are `create`, `approve`, `realize`, `merge` and `archive`")
                    }
                };
                self.report(diagnostic);
                Kind::Unknown
            }
        }
    }

    fn check_node_counts(&self, module: usize, workflow: &WorkflowItem, kinds: &[Kind]) {
        let creates: Vec<&Node> =
            workflow.nodes.iter().zip(kinds).filter(|(_, kind)| **kind == Kind::Create).map(|(node, _)| node).collect();
        match creates.as_slice() {
            [] => self.report(
                Diagnostic::new(
                    Code::E0101,
                    format!("workflow `{}` has no `create` node", workflow.name.name),
                    self.at(module, workflow.name.span),
                    "no create node",
                )
                .with_help("add the node where requests start: `node 填写申请: create { operators { everyone } … }`"),
            ),
            [first, rest @ ..] => {
                for extra in rest {
                    self.report(
                        Diagnostic::new(Code::E0101, format!("workflow `{}` has more than one `create` node", workflow.name.name), self.at(module, extra.name.span), "a second create node")
                            .with_secondary(self.at(module, first.name.span), "the first create node")
                            .with_help("a workflow has one and only one create node (manual 5.5.3); make this one `approve` or `realize`"),
                    );
                }
            }
        }
        if !kinds.contains(&Kind::Archive) {
            self.report(
                Diagnostic::new(
                    Code::E0102,
                    format!("workflow `{}` has no `archive` node", workflow.name.name),
                    self.at(module, workflow.name.span),
                    "no archive node",
                )
                .with_help("add an end node, such as `node 归档: archive`"),
            );
        }
    }

    /// E0104: what a node of each kind must and must not have.
    /// E0707: `allow` names a warning of the route analysis, with a reason.
    fn check_allows(&self, module: usize, node: &Node) {
        for allow in &node.allows {
            let code = crate::diag::ALL_CODES.iter().find(|code| code.as_str() == allow.code.name);
            let silenceable = code.is_some_and(|code| code.is_analysis_warning());
            if !silenceable {
                let known: Vec<&str> = crate::diag::ALL_CODES
                    .iter()
                    .filter(|code| code.is_analysis_warning())
                    .map(|code| code.as_str())
                    .collect();
                let what = match code {
                    Some(code) => format!("`{}` is not a warning of the route analysis", code.as_str()),
                    None => format!("`{}` is not a diagnostic code", allow.code.name),
                };
                self.report(
                    Diagnostic::new(Code::E0707, what, self.at(module, allow.code.span), "cannot be allowed here")
                        .with_help(format!("`allow` silences one of {} on this node", known.join(", "))),
                );
            } else if allow.reason.value.trim().is_empty() {
                self.report(
                    Diagnostic::new(
                        Code::E0707,
                        format!("`allow {}` needs a reason", allow.code.name),
                        self.at(module, allow.reason.span),
                        "an empty reason",
                    )
                    .with_help("say why the finding is acceptable here, for the next reader"),
                );
            }
        }
    }

    fn check_node_shape(&self, module: usize, node: &Node, kind: Kind) {
        self.check_fork_shape(module, node, kind);
        if kind == Kind::Archive {
            let offending = node
                .operators
                .first()
                .map(|operators| (operators.keyword, "operators"))
                .or_else(|| node.exits.first().map(|exit| (exit.span, "exits")))
                .or_else(|| node.before.first().map(|block| (block.span, "actions")))
                .or_else(|| node.after.first().map(|block| (block.span, "actions")))
                .or_else(|| node.validates.first().map(|validate| (validate.span, "validate rules")));
            if let Some((span, what)) = offending {
                self.report(
                    Diagnostic::new(
                        Code::E0104,
                        format!("archive node `{}` cannot have {what}", node.name.name),
                        self.at(module, node.name.span),
                        "an archive node",
                    )
                    .with_secondary(self.at(module, span), format!("{what} here"))
                    .with_help("an archive node ends the request: it has no operators, exits or actions"),
                );
            }
            return;
        }
        if kind == Kind::Unknown {
            return;
        }
        if kind != Kind::Merge && node.operators.is_empty() {
            self.report(
                Diagnostic::new(
                    Code::E0104,
                    format!("node `{}` has no operators", node.name.name),
                    self.at(module, node.name.span),
                    "nobody handles this node",
                )
                .with_help("add `operators { … }` saying who handles it"),
            );
        }
        // An empty `fork { }` is E0130's.
        if !node.exits.iter().any(|exit| exit.kind == ExitKind::Exit) && node.forks.is_empty() {
            self.report(
                Diagnostic::new(
                    Code::E0104,
                    format!("node `{}` has no exit", node.name.name),
                    self.at(module, node.name.span),
                    "requests cannot leave this node",
                )
                .with_help("add `exit NAME -> TARGET`"),
            );
        }
        let extra_blocks = if kind == Kind::Merge { &[][..] } else { node.operators.get(1..).unwrap_or_default() };
        for extra in extra_blocks {
            self.report(
                Diagnostic::new(
                    Code::E0302,
                    format!("node `{}` has two `operators` blocks", node.name.name),
                    self.at(module, extra.keyword),
                    "a second block",
                )
                .with_secondary(
                    self.at(module, node.operators.first().map_or(extra.keyword, |first| first.keyword)),
                    "the first block",
                )
                .with_help("put every operator line in one block, grouped in batches if needed"),
            );
        }
    }

    fn check_operators(&self, module: usize, node: &'a Node, env: &Env<'_, 'a>, where_env: &Env<'_, 'a>) {
        for operators in &node.operators {
            let has_batches = operators.entries.iter().any(|entry| matches!(entry, OperatorEntry::Batch(_)));
            let mut batch_numbers: HashMap<u64, Span> = HashMap::new();
            let mut reported_mixing = false;
            for entry in &operators.entries {
                match entry {
                    OperatorEntry::Line(line) => {
                        if has_batches && !reported_mixing {
                            reported_mixing = true;
                            self.report(
                                Diagnostic::new(
                                    Code::E0401,
                                    "operator lines outside a `batch` are mixed with batches",
                                    self.at(module, line.span),
                                    "not in a batch",
                                )
                                .with_help("put this line in a `batch N { … }` too, or remove the batches"),
                            );
                        }
                        self.check_operator_line(env, where_env, line);
                    }
                    OperatorEntry::Batch(batch) => {
                        let (text, span) = &batch.number;
                        match text.parse::<u64>() {
                            Ok(number) => {
                                if let Some(first) = batch_numbers.get(&number) {
                                    self.report(
                                        Diagnostic::new(
                                            Code::E0401,
                                            format!("batch {number} is declared twice"),
                                            self.at(module, *span),
                                            "repeated batch number",
                                        )
                                        .with_secondary(self.at(module, *first), "first declared here")
                                        .with_help(
                                            "batches are tried from the smallest number up; give each its own number",
                                        ),
                                    );
                                } else {
                                    batch_numbers.insert(number, *span);
                                }
                            }
                            Err(_) => self.report(
                                Diagnostic::new(
                                    Code::E0401,
                                    format!("batch number `{text}` is not a whole number"),
                                    self.at(module, *span),
                                    "not a whole number",
                                )
                                .with_help("number batches 1, 2, 3, …"),
                            ),
                        }
                        for line in &batch.lines {
                            self.check_operator_line(env, where_env, line);
                        }
                    }
                }
            }
        }
    }

    pub(super) fn check_operator_line(&self, env: &Env<'_, 'a>, where_env: &Env<'_, 'a>, line: &'a ast::OperatorLine) {
        let people = self.expr(env, &line.people);
        if !people.is_people() {
            self.report(
                Diagnostic::new(Code::E0402, format!("an operator line must name people, found {people}"), self.at(env.module, line.people.span), format!("this is {people}"))
                    .with_help("operators are employees, departments, subcompanies, roles or `everyone`, such as `申请人.manager` or `role(\"会计\")`"),
            );
        }
        if let Some(filter) = &line.filter {
            let ty = self.expr(where_env, filter);
            if !matches!(ty, Ty::Bool | Ty::Unknown) {
                self.report(Diagnostic::new(
                    Code::E0402,
                    format!("a `where` filter must be a check (boolean), found {ty}"),
                    self.at(env.module, filter.span),
                    format!("this is {ty}"),
                ));
            }
        }
        if let Some(condition) = &line.condition {
            let ty = self.expr(env, condition);
            if !matches!(ty, Ty::Bool | Ty::Unknown) {
                self.report(Diagnostic::new(
                    Code::E0402,
                    format!("a `when` condition must be a check (boolean), found {ty}"),
                    self.at(env.module, condition.span),
                    format!("this is {ty}"),
                ));
            }
        }
    }

    fn check_field_settings(
        &self,
        module: usize,
        workflow: &str,
        node: &Node,
        form: &FormInfo<'a>,
        filled: &mut Filled,
    ) {
        let mut modes: HashMap<usize, (SettingMode, Span)> = HashMap::new();
        for setting in &node.field_settings {
            for path in &setting.fields {
                let Some(targets) = self.resolve_setting_path(module, form, path) else { continue };
                for &index in &targets {
                    let Some(field) = form.fields.get(index) else { continue };
                    // `editable 明细` opens the table, not its computed columns.
                    if targets.len() > 1 && (field.is_computed() || field.is_display_only()) {
                        continue;
                    }
                    if self.keep_index {
                        self.index.borrow_mut().settings.push(super::index::SettingUse {
                            field: self.at(form.item.module, field.decl.name.span),
                            workflow: workflow.to_string(),
                            node: node.name.name.clone(),
                            mode: setting.mode,
                        });
                    }
                    if setting.mode != SettingMode::Hidden
                        && (field.is_computed() || field.is_display_only())
                        && targets.len() == 1
                    {
                        let why = field.fixed_because();
                        self.report(
                            Diagnostic::new(
                                Code::E0304,
                                format!("`{}` cannot be {}: {why}", field.decl.name.name, setting.mode.keyword()),
                                self.at(module, path.span),
                                format!("{} here", setting.mode.keyword()),
                            )
                            .with_secondary(self.at(module, field.decl.name.span), "declared here")
                            .with_help(format!(
                                "remove `{}` from the `{}` list",
                                field.decl.name.name,
                                setting.mode.keyword()
                            )),
                        );
                        continue;
                    }
                    if setting.mode != SettingMode::Hidden {
                        filled.fields.insert(index);
                    }
                    match modes.get(&index) {
                        Some((previous, previous_span))
                            if (*previous == SettingMode::Hidden) != (setting.mode == SettingMode::Hidden) =>
                        {
                            self.report(
                                Diagnostic::new(
                                    Code::E0306,
                                    format!(
                                        "`{}` is both hidden and {} at node `{}`",
                                        field.decl.name.name,
                                        if setting.mode == SettingMode::Hidden {
                                            previous.keyword()
                                        } else {
                                            setting.mode.keyword()
                                        },
                                        node.name.name
                                    ),
                                    self.at(module, path.span),
                                    format!("{} here", setting.mode.keyword()),
                                )
                                .with_secondary(self.at(module, *previous_span), format!("{} here", previous.keyword()))
                                .with_help("a hidden field cannot be filled in; keep one of the two"),
                            );
                        }
                        Some(_) => {}
                        None => {
                            modes.insert(index, (setting.mode, path.span));
                        }
                    }
                }
            }
        }
    }

    /// `金额` → that field; `明细` → every column; `明细.单价` → that column.
    fn resolve_setting_path(&self, module: usize, form: &FormInfo<'a>, path: &ast::FieldPath) -> Option<Vec<usize>> {
        let first = path.segments.first()?;
        let named = form.names.get(first.name.as_str()).copied();
        if let Some(declared) = named.and_then(|named| form.declaration_of(named)) {
            self.record(self.at(module, first.span), self.at(form.item.module, declared));
        }
        match (named, path.segments.get(1)) {
            (Some(Named::Field(index)), None) => Some(vec![index]),
            (Some(Named::Detail(detail)), None) => form.details.get(detail).map(|info| info.fields.clone()),
            (Some(Named::Detail(detail)), Some(column)) => {
                self.resolve_column(module, form, detail, first, column).map(|index| vec![index])
            }
            (Some(Named::Field(_)), Some(member)) => {
                self.report(Diagnostic::new(
                    Code::E0501,
                    format!("`{}` is a field, not a detail table, so `.{}` names nothing", first.name, member.name),
                    self.at(module, path.span),
                    "not a detail table",
                ));
                None
            }
            (None, _) if form.decl.broken => None,
            (None, _) => {
                let mut diagnostic = Diagnostic::new(
                    Code::E0501,
                    format!("form `{}` has no field `{}`", form.decl.name.name, first.name),
                    self.at(module, first.span),
                    "no such field",
                );
                if let Some(best) = self.suggester.best(&first.name, form.names.keys().copied()) {
                    diagnostic = diagnostic.with_replacement(best);
                }
                self.report(diagnostic);
                None
            }
        }
    }

    fn check_block(&self, env: &Env<'_, 'a>, form: &FormInfo<'a>, block: &'a ast::Block, filled: &mut Filled) {
        for statement in &block.statements {
            match statement {
                Statement::Script { .. } => filled.scripted = true,
                Statement::If { branches, else_block, .. } => {
                    for (condition, block) in branches {
                        self.expect_bool(env, condition, "the condition of `if` must be a check (boolean)");
                        self.check_block(env, form, block, filled);
                    }
                    if let Some(else_block) = else_block {
                        self.check_block(env, form, else_block, filled);
                    }
                }
                Statement::Assign { target, value, .. } => {
                    let value_ty = self.expr(env, value);
                    if let Some(index) = self.assignment_target(env.module, form, target) {
                        if let Some(field) = form.fields.get(index) {
                            filled.fields.insert(index);
                            self.check_store(env.module, field, &value_ty, value, target.span);
                        }
                    }
                }
            }
        }
    }

    /// The main field an assignment writes, or a diagnostic.
    fn assignment_target(&self, module: usize, form: &FormInfo<'a>, target: &ast::FieldPath) -> Option<usize> {
        let first = target.segments.first()?;
        if target.segments.len() > 1 {
            self.report(
                Diagnostic::new(
                    Code::E0506,
                    format!(
                        "only fields can be assigned, and `{}` is a member",
                        target.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
                    ),
                    self.at(module, target.span),
                    "not a field",
                )
                .with_help("assign a main field of the form: `字段 = value`"),
            );
            return None;
        }
        match form.names.get(first.name.as_str()) {
            Some(Named::Field(index)) => {
                let field = form.fields.get(*index)?;
                self.record(self.at(module, first.span), self.at(form.item.module, field.decl.name.span));
                if field.detail.is_some() {
                    self.report(
                        Diagnostic::new(
                            Code::E0506,
                            format!("`{}` is a detail column; actions assign main fields", first.name),
                            self.at(module, first.span),
                            "a detail column",
                        )
                        .with_help("give the column a row rule instead, or use a script to fill detail rows"),
                    );
                    return None;
                }
                if field.is_computed() || field.is_display_only() {
                    let why = field.fixed_because();
                    self.report(
                        Diagnostic::new(
                            Code::E0304,
                            format!("`{}` cannot be assigned: {why}", first.name),
                            self.at(module, first.span),
                            "assigned here",
                        )
                        .with_secondary(self.at(module, field.decl.name.span), "declared here"),
                    );
                    return None;
                }
                Some(*index)
            }
            Some(Named::Detail(_)) => {
                self.report(Diagnostic::new(
                    Code::E0506,
                    format!("`{}` is a detail table and cannot be assigned as a whole", first.name),
                    self.at(module, first.span),
                    "a detail table",
                ));
                None
            }
            None if form.decl.broken => None,
            None => {
                if self.lookup(module, &first.name).is_some() {
                    self.report(Diagnostic::new(
                        Code::E0506,
                        format!(
                            "`{}` is not a field of form `{}` and cannot be assigned",
                            first.name, form.decl.name.name
                        ),
                        self.at(module, first.span),
                        "not a field",
                    ));
                    return None;
                }
                let mut diagnostic = Diagnostic::new(
                    Code::E0501,
                    format!("form `{}` has no field `{}`", form.decl.name.name, first.name),
                    self.at(module, first.span),
                    "no such field",
                );
                if let Some(best) = self.suggester.best(&first.name, form.names.keys().copied()) {
                    diagnostic = diagnostic.with_replacement(best);
                }
                self.report(diagnostic);
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_exits(
        &self,
        module: usize,
        node: &'a Node,
        kind: Kind,
        node_names: &HashMap<&'a str, usize>,
        env: Option<&Env<'_, 'a>>,
        filled: &mut Filled,
        form: Option<&FormInfo<'a>>,
        complete: bool,
        all_nodes: &[Node],
    ) {
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut unconditional: [Option<Span>; 2] = [None, None];
        for exit in &node.exits {
            if let Some(first) = names.get(exit.name.name.as_str()) {
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        format!("node `{}` has two exits named `{}`", node.name.name, exit.name.name),
                        self.at(module, exit.name.span),
                        "named again here",
                    )
                    .with_secondary(self.at(module, *first), "first named here"),
                );
            } else if !exit.name.name.is_empty() {
                names.insert(exit.name.name.as_str(), exit.name.span);
            }
            if exit.kind == ExitKind::Return && !matches!(kind, Kind::Approve | Kind::Unknown | Kind::Archive) {
                let what = match kind {
                    Kind::Create => "create",
                    Kind::Merge => "merge",
                    _ => "realize",
                };
                self.report(
                    Diagnostic::new(
                        Code::E0103,
                        format!(
                            "`return` exits are allowed only on approve nodes, and `{}` is a {what} node",
                            node.name.name
                        ),
                        self.at(module, exit.name.span),
                        "a return exit",
                    )
                    .with_secondary(self.at(module, node.kind.span), format!("a {what} node"))
                    .with_help("make the node `approve`, or make this an `exit`"),
                );
            }
            if let Some(target) = node_names.get(exit.target.name.as_str()).and_then(|&index| all_nodes.get(index)) {
                self.record(self.at(module, exit.target.span), self.at(module, target.name.span));
            }
            if complete && !exit.target.name.is_empty() && !node_names.contains_key(exit.target.name.as_str()) {
                let mut diagnostic = Diagnostic::new(
                    Code::E0105,
                    format!("`{}` is not a node of this workflow", exit.target.name),
                    self.at(module, exit.target.span),
                    "no such node",
                );
                diagnostic = match self.suggester.best(&exit.target.name, node_names.keys().copied()) {
                    Some(best) => diagnostic.with_replacement(best),
                    None => diagnostic.with_help("an exit leads to a node declared in the same workflow"),
                };
                self.report(diagnostic);
            }
            let slot = usize::from(exit.kind == ExitKind::Return);
            // Every exit of a fork group that holds is taken: none hides another.
            let shadowed = if exit.fork.is_some() { None } else { unconditional.get(slot).copied().flatten() };
            if let Some(always) = shadowed {
                let word = if exit.kind == ExitKind::Exit { "exit" } else { "return" };
                self.report(
                    Diagnostic::new(
                        Code::W0108,
                        format!("{word} `{}` can never be taken", exit.name.name),
                        self.at(module, exit.name.span),
                        "never taken",
                    )
                    .with_secondary(
                        self.at(module, always),
                        format!("this {word} has no `when`, so it is always taken first"),
                    )
                    .with_help("exits are tried in the order written; move the conditional ones first"),
                );
            } else if exit.condition.is_none() && exit.fork.is_none() {
                if let Some(cell) = unconditional.get_mut(slot) {
                    *cell = Some(exit.name.span);
                }
            }
            if let Some(env) = env {
                if let Some(condition) = &exit.condition {
                    self.expect_bool(env, condition, "an exit's `when` must be a check (boolean)");
                }
                if let (Some(block), Some(form)) = (&exit.block, form) {
                    self.check_block(env, form, block, filled);
                }
            }
        }
    }

    /// Reachability both ways: W0107 and E0106 (`stranded` nodes are in a
    /// branch that never reaches its merge, E0134 already).
    fn check_graph(
        &self,
        module: usize,
        workflow: &WorkflowItem,
        kinds: &[Kind],
        node_names: &HashMap<&str, usize>,
        stranded: &HashSet<usize>,
    ) {
        let count = workflow.nodes.len();
        let edges: Vec<Vec<usize>> = workflow
            .nodes
            .iter()
            .map(|node| {
                node.exits.iter().filter_map(|exit| node_names.get(exit.target.name.as_str()).copied()).collect()
            })
            .collect();
        if let Some(create) = kinds.iter().position(|kind| *kind == Kind::Create) {
            let reachable = breadth_first(count, [create], |index| edges.get(index).cloned().unwrap_or_default());
            for (index, node) in workflow.nodes.iter().enumerate() {
                if !reachable.get(index).copied().unwrap_or(true)
                    && node_names.get(node.name.name.as_str()) == Some(&index)
                {
                    self.report(
                        Diagnostic::new(
                            Code::W0107,
                            format!("node `{}` is unreachable from the create node", node.name.name),
                            self.at(module, node.name.span),
                            "no exit leads here",
                        )
                        .with_help("add an exit to it, or remove it"),
                    );
                }
            }
        }
        let archives: Vec<usize> =
            kinds.iter().enumerate().filter(|(_, kind)| **kind == Kind::Archive).map(|(index, _)| index).collect();
        if archives.is_empty() {
            return;
        }
        let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (from, targets) in edges.iter().enumerate() {
            for &target in targets {
                if let Some(list) = reverse.get_mut(target) {
                    list.push(from);
                }
            }
        }
        let finishing = breadth_first(count, archives, |index| reverse.get(index).cloned().unwrap_or_default());
        for (index, node) in workflow.nodes.iter().enumerate() {
            let kind = kinds.get(index).copied().unwrap_or(Kind::Unknown);
            if kind == Kind::Archive
                || kind == Kind::Unknown
                || finishing.get(index).copied().unwrap_or(true)
                || stranded.contains(&index)
            {
                continue;
            }
            // A node with no exit at all already has E0104.
            if !node.exits.iter().any(|exit| exit.kind == ExitKind::Exit) {
                continue;
            }
            if node_names.get(node.name.name.as_str()) != Some(&index) {
                continue;
            }
            self.report(
                Diagnostic::new(
                    Code::E0106,
                    format!("no archive node is reachable from node `{}`", node.name.name),
                    self.at(module, node.name.span),
                    "requests that get here never finish",
                )
                .with_help("give it (or a node it leads to) an exit to an archive node"),
            );
        }
    }
}

fn breadth_first(
    count: usize,
    starts: impl IntoIterator<Item = usize>,
    next: impl Fn(usize) -> Vec<usize>,
) -> Vec<bool> {
    let mut seen = vec![false; count];
    let mut queue = VecDeque::new();
    for start in starts {
        if let Some(flag) = seen.get_mut(start) {
            *flag = true;
            queue.push_back(start);
        }
    }
    while let Some(index) = queue.pop_front() {
        for target in next(index) {
            if let Some(flag) = seen.get_mut(target) {
                if !*flag {
                    *flag = true;
                    queue.push_back(target);
                }
            }
        }
    }
    seen
}
