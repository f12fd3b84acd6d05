//! Lowering a checked program to the IR. Names are resolved through the
//! checker's index (every use site points at its declaration), so the IR
//! means exactly what the diagnostics assumed. Only error-free analyses are
//! lowered.

use rustc_hash::FxHashMap as HashMap;

use super::*;
use crate::check::types::FieldKind;
use crate::check::Analysis;
use crate::source::{FileId, FileSpan};
use crate::syntax::ast;

/// Why a program could not be lowered: it has errors, or (a bug) a name
/// the checker accepted is not in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerError(pub String);

impl std::fmt::Display for LowerError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for LowerError {}

type Result<T> = std::result::Result<T, LowerError>;

/// What a declaration is, by the span of its name.
#[derive(Debug, Clone)]
enum Target {
    Constant(usize),
    Function(usize),
    Parameter(usize),
    Form(usize),
    Field(usize),
    /// A detail table and its input (not computed) columns.
    Detail(usize, Vec<usize>),
    Node(usize),
    Workflow(usize),
    Builtin(String),
}

struct Lowering<'a> {
    analysis: &'a Analysis,
    references: super::resolve::References<'a>,
    targets: HashMap<FileSpan, Target>,
}

pub fn lower(analysis: &Analysis) -> Result<Program> {
    if analysis.error_count() > 0 {
        return Err(LowerError(format!("the program has {} errors; run `flowc check`", analysis.error_count())));
    }
    let references = super::resolve::References::new(&analysis.index.references);
    let mut lowering = Lowering { analysis, references, targets: HashMap::default() };
    let mut program =
        Program { files: analysis.sources.files().map(|(_, file)| file.name.clone()).collect(), ..Program::default() };
    lowering.declare();
    for module in analysis.modules.iter().filter(|module| !module.is_prelude) {
        for item in &module.ast.items {
            match item {
                ast::Item::Const(constant) => {
                    let value =
                        constant.value.as_ref().ok_or_else(|| LowerError("a constant without a value".into()))?;
                    program.constants.push(Constant {
                        name: constant.name.name.clone(),
                        value: lowering.expr(module.file, value, false)?,
                    });
                }
                ast::Item::Fn(function) => {
                    let body = function.body.as_ref().ok_or_else(|| LowerError("a function without a body".into()))?;
                    program.functions.push(Function {
                        name: function.name.name.clone(),
                        params: function.params.iter().map(|param| param.name.name.clone()).collect(),
                        body: lowering.expr(module.file, body, false)?,
                    });
                }
                ast::Item::Form(form) => program.forms.push(lowering.form(module.file, form)?),
                ast::Item::Workflow(workflow) => program.workflows.push(lowering.workflow(module.file, workflow)?),
                ast::Item::Use(_) | ast::Item::Test(_) => {}
            }
        }
    }
    Ok(program)
}

fn loc(file: FileId, span: crate::source::Span) -> Loc {
    Loc { file: file.0, start: span.start, end: span.end }
}

impl<'a> Lowering<'a> {
    /// Indexes every declaration the IR refers to by position.
    fn declare(&mut self) {
        let (mut constants, mut functions, mut forms, mut workflows) = (0, 0, 0, 0);
        for module in &self.analysis.modules {
            let file = module.file;
            for item in &module.ast.items {
                match item {
                    ast::Item::Const(constant) if module.is_prelude => {
                        self.targets.insert(
                            FileSpan::new(file, constant.name.span),
                            Target::Builtin(constant.name.name.clone()),
                        );
                    }
                    ast::Item::Fn(function) if module.is_prelude => {
                        self.targets.insert(
                            FileSpan::new(file, function.name.span),
                            Target::Builtin(function.name.name.clone()),
                        );
                    }
                    ast::Item::Const(constant) => {
                        self.targets.insert(FileSpan::new(file, constant.name.span), Target::Constant(constants));
                        constants += 1;
                    }
                    ast::Item::Fn(function) => {
                        self.targets.insert(FileSpan::new(file, function.name.span), Target::Function(functions));
                        for (index, param) in function.params.iter().enumerate() {
                            self.targets.insert(FileSpan::new(file, param.name.span), Target::Parameter(index));
                        }
                        functions += 1;
                    }
                    ast::Item::Form(form) => {
                        self.targets.insert(FileSpan::new(file, form.name.span), Target::Form(forms));
                        forms += 1;
                        let mut field_index = 0;
                        let mut detail_index = 0;
                        for member in &form.members {
                            match member {
                                ast::FormMember::Field(field) => {
                                    self.targets
                                        .insert(FileSpan::new(file, field.name.span), Target::Field(field_index));
                                    field_index += 1;
                                }
                                ast::FormMember::Detail(detail) => {
                                    let mut inputs = Vec::new();
                                    for field in &detail.fields {
                                        self.targets
                                            .insert(FileSpan::new(file, field.name.span), Target::Field(field_index));
                                        if field.formula.is_none() {
                                            inputs.push(field_index);
                                        }
                                        field_index += 1;
                                    }
                                    self.targets.insert(
                                        FileSpan::new(file, detail.name.span),
                                        Target::Detail(detail_index, inputs),
                                    );
                                    detail_index += 1;
                                }
                                ast::FormMember::Validate(_) => {}
                            }
                        }
                    }
                    ast::Item::Workflow(workflow) if !module.is_prelude => {
                        self.targets.insert(FileSpan::new(file, workflow.name.span), Target::Workflow(workflows));
                        workflows += 1;
                        for (index, node) in workflow.nodes.iter().enumerate() {
                            self.targets.insert(FileSpan::new(file, node.name.span), Target::Node(index));
                        }
                    }
                    ast::Item::Workflow(_) | ast::Item::Use(_) | ast::Item::Test(_) => {}
                }
            }
        }
    }

    fn target(&self, file: FileId, span: crate::source::Span) -> Option<&Target> {
        let definition = self.references.definition(FileSpan::new(file, span))?;
        self.targets.get(&definition)
    }

    fn unresolved(&self, name: &str) -> LowerError {
        LowerError(format!("`{name}` is not resolved (a checker bug: please report it)"))
    }

    fn form(&self, file: FileId, form: &ast::FormItem) -> Result<Form> {
        let mut fields = Vec::new();
        let mut details = Vec::new();
        let mut validates = Vec::new();
        for member in &form.members {
            match member {
                ast::FormMember::Field(field) => fields.push(self.field(file, field, None)?),
                ast::FormMember::Detail(detail) => {
                    let detail_index = details.len();
                    let mut columns = Vec::new();
                    for field in &detail.fields {
                        columns.push(fields.len());
                        fields.push(self.field(file, field, Some(detail_index))?);
                    }
                    for validate in &detail.validates {
                        validates.push(Validate {
                            condition: self.expr(file, &validate.condition, false)?,
                            message: validate.message.value.clone(),
                            detail: Some(detail_index),
                        });
                    }
                    details.push(Detail {
                        name: detail.name.name.clone(),
                        label: label_or_name(&detail.label, &detail.name),
                        columns,
                    });
                }
                ast::FormMember::Validate(validate) => validates.push(Validate {
                    condition: self.expr(file, &validate.condition, false)?,
                    message: validate.message.value.clone(),
                    detail: None,
                }),
            }
        }
        let formula_order = formula_order(&fields);
        Ok(Form {
            name: form.name.name.clone(),
            label: label_or_name(&form.label, &form.name),
            fields,
            details,
            validates,
            formula_order,
        })
    }

    fn field(&self, file: FileId, field: &ast::FieldDecl, detail: Option<usize>) -> Result<Field> {
        let mut kind = FieldKind::from_name(&field.ty.name.name).ok_or_else(|| self.unresolved(&field.ty.name.name))?;
        let size = field.ty.size.as_ref().and_then(|(text, _)| text.parse::<u32>().ok());
        kind = match (kind, size) {
            (FieldKind::Text(_), Some(length)) => FieldKind::Text(Some(length)),
            (FieldKind::Float(_), Some(scale)) => FieldKind::Float(scale),
            (FieldKind::Select, _) if field.flags.iter().any(|flag| flag.name == "multiple") => {
                FieldKind::SelectMultiple
            }
            (other, _) => other,
        };
        let serial = match (&kind, &field.extra) {
            (FieldKind::Serial, Some(pattern)) => crate::check::serial::parse_pattern(&pattern.value)
                .map_err(|problem| LowerError(format!("a serial pattern the checker accepted: {problem}")))?,
            _ => Vec::new(),
        };
        Ok(Field {
            name: field.name.name.clone(),
            label: label_or_name(&field.label, &field.name),
            kind,
            detail,
            formula: field.formula.as_ref().map(|formula| self.expr(file, formula, false)).transpose()?,
            options: field
                .options
                .iter()
                .flatten()
                .map(|option| SelectOption {
                    key: option.key.name.clone(),
                    label: option.label.as_ref().map_or_else(|| option.key.name.clone(), |label| label.value.clone()),
                    default: option.default.is_some(),
                })
                .collect(),
            serial,
            at: loc(file, field.name.span),
        })
    }

    fn workflow(&self, file: FileId, workflow: &ast::WorkflowItem) -> Result<Workflow> {
        let mut lowered = Workflow {
            name: workflow.name.name.clone(),
            label: label_or_name(&workflow.label, &workflow.name),
            category: None,
            form: 0,
            title: Vec::new(),
            remind: Vec::new(),
            portal: false,
            inactive: false,
            create: 0,
            nodes: Vec::new(),
            supervisors: Vec::new(),
            forks: Vec::new(),
        };
        for setting in &workflow.settings {
            match &setting.kind {
                ast::SettingKind::Category(text) => lowered.category = Some(text.value.clone()),
                ast::SettingKind::Form(name) => match self.target(file, name.span) {
                    Some(Target::Form(index)) => lowered.form = *index,
                    _ => return Err(self.unresolved(&name.name)),
                },
                ast::SettingKind::Title(title) => {
                    for part in &title.parts {
                        lowered.title.push(match part {
                            ast::TitlePart::Text(text) => TitlePart::Text(text.clone()),
                            ast::TitlePart::Hole(expr) => TitlePart::Hole(self.expr(file, expr, false)?),
                        });
                    }
                }
                ast::SettingKind::Remind(channels) => {
                    lowered.remind = channels.iter().map(|channel| channel.name.clone()).collect()
                }
                ast::SettingKind::Supervisors(lines) => {
                    lowered.supervisors =
                        lines.iter().map(|line| self.operator_line(file, line)).collect::<Result<_>>()?
                }
                ast::SettingKind::Portal => lowered.portal = true,
                ast::SettingKind::Inactive => lowered.inactive = true,
            }
        }
        for (index, node) in workflow.nodes.iter().enumerate() {
            let lowered_node = self.node(file, node)?;
            if lowered_node.kind == NodeKind::Create {
                lowered.create = index;
            }
            lowered.nodes.push(lowered_node);
        }
        if workflow.nodes.iter().any(|node| !node.forks.is_empty()) {
            self.forks(workflow, &mut lowered)?;
        }
        Ok(lowered)
    }

    /// The forks, their merges and `wait`s, and each node's branch path
    /// (docs/language.md §6.8), from the same analysis the checker judged.
    fn forks(&self, workflow: &ast::WorkflowItem, lowered: &mut Workflow) -> Result<()> {
        let found = crate::check::branches::analyse(workflow);
        let mut fork_index = HashMap::default();
        for (&node, targets) in &found.fork_exits {
            let merge = *found.merge_of.get(&node).ok_or_else(|| self.unresolved("the merge of a fork"))?;
            let branches = lowered
                .nodes
                .get(node)
                .map(|fork_node| fork_node.exits.iter().map(|exit| exit.name.clone()).collect::<Vec<_>>())
                .unwrap_or_default();
            if branches.len() != targets.len() {
                return Err(self.unresolved("the branches of a fork"));
            }
            fork_index.insert(node, lowered.forks.len());
            lowered.forks.push(Fork { node, branches, merge });
        }
        let step = |branch: &crate::check::branches::BranchRef| {
            fork_index.get(&branch.fork).map(|&fork| BranchStep { fork, branch: branch.branch })
        };
        for (index, node) in lowered.nodes.iter_mut().enumerate() {
            node.branch = found.path(index).iter().filter_map(step).collect();
            node.fork = fork_index.get(&index).copied();
        }
        for (index, fork) in lowered.forks.iter().enumerate() {
            let ast_merge = workflow.nodes.get(fork.merge).ok_or_else(|| self.unresolved("a merge node"))?;
            let wait = match ast_merge.waits.first().map(|wait| &wait.rule) {
                None | Some(ast::WaitRule::All) => Wait::All,
                Some(ast::WaitRule::Count(text, _)) => Wait::Count(text.parse().map_err(|_| self.unresolved(text))?),
                Some(ast::WaitRule::Branches(names)) => Wait::Branches(
                    names
                        .iter()
                        .map(|name| {
                            fork.branches
                                .iter()
                                .position(|branch| *branch == name.name)
                                .ok_or_else(|| self.unresolved(&name.name))
                        })
                        .collect::<Result<_>>()?,
                ),
            };
            let merge = lowered.nodes.get_mut(fork.merge).ok_or_else(|| self.unresolved("a merge node"))?;
            merge.merge = Some(MergeRule { fork: index, wait });
        }
        Ok(())
    }

    fn node(&self, file: FileId, node: &ast::Node) -> Result<Node> {
        let kind = match node.kind.name.as_str() {
            "create" => NodeKind::Create,
            "approve" => NodeKind::Approve,
            "realize" => NodeKind::Realize,
            "merge" => NodeKind::Merge,
            "archive" => NodeKind::Archive,
            other => return Err(self.unresolved(other)),
        };
        let mut lowered = Node {
            name: node.name.name.clone(),
            label: label_or_name(&node.label, &node.name),
            kind,
            mode: OperatorMode::Any,
            batches: Vec::new(),
            editable: Vec::new(),
            editable_tables: Vec::new(),
            required: Vec::new(),
            required_tables: Vec::new(),
            hidden: Vec::new(),
            before: Vec::new(),
            after: Vec::new(),
            exits: Vec::new(),
            returns: Vec::new(),
            validates: Vec::new(),
            required_when: Vec::new(),
            allows: node.allows.iter().map(|allow| allow.code.name.clone()).collect(),
            fork: None,
            merge: None,
            branch: Vec::new(),
            deadline: None,
            start: None,
            at: loc(file, node.name.span),
        };
        for operators in &node.operators {
            lowered.mode = operators.mode.map_or(OperatorMode::Any, |(mode, _)| mode);
            let mut single = Batch { number: 1, lines: Vec::new() };
            for entry in &operators.entries {
                match entry {
                    ast::OperatorEntry::Line(line) => single.lines.push(self.operator_line(file, line)?),
                    ast::OperatorEntry::Batch(batch) => lowered.batches.push(Batch {
                        number: batch.number.0.parse().map_err(|_| self.unresolved(&batch.number.0))?,
                        lines: batch.lines.iter().map(|line| self.operator_line(file, line)).collect::<Result<_>>()?,
                    }),
                }
            }
            if !single.lines.is_empty() {
                lowered.batches.push(single);
            }
            lowered.batches.sort_by_key(|batch| batch.number);
        }
        for setting in &node.field_settings {
            if let (ast::SettingMode::Required, Some(condition)) = (setting.mode, &setting.condition) {
                let mut rule = RequiredWhen {
                    condition: self.expr(file, condition, false)?,
                    fields: Vec::new(),
                    tables: Vec::new(),
                    at: loc(file, setting.span),
                };
                for path in &setting.fields {
                    let (fields, table) = self.setting_path(file, path)?;
                    match table {
                        // A required table needs rows; its columns are not each required.
                        Some(table) => rule.tables.push(table),
                        None => rule.fields.extend(fields.iter().copied()),
                    }
                    lowered.editable.extend(fields);
                    lowered.editable_tables.extend(table);
                }
                lowered.required_when.push(rule);
                continue;
            }
            for path in &setting.fields {
                let (fields, table) = self.setting_path(file, path)?;
                match setting.mode {
                    ast::SettingMode::Hidden => lowered.hidden.extend(fields),
                    ast::SettingMode::Required if table.is_some() => {
                        // A required table needs rows; its columns are not each required.
                        lowered.required_tables.extend(table);
                        lowered.editable.extend(fields);
                        lowered.editable_tables.extend(table);
                    }
                    ast::SettingMode::Required => {
                        lowered.required.extend(fields.iter().copied());
                        lowered.editable.extend(fields);
                        lowered.editable_tables.extend(table);
                    }
                    ast::SettingMode::Editable => {
                        lowered.editable.extend(fields);
                        lowered.editable_tables.extend(table);
                    }
                }
            }
        }
        for list in [
            &mut lowered.editable,
            &mut lowered.required,
            &mut lowered.hidden,
            &mut lowered.editable_tables,
            &mut lowered.required_tables,
        ] {
            list.sort_unstable();
            list.dedup();
        }
        for validate in &node.validates {
            lowered.validates.push(Validate {
                condition: self.expr(file, &validate.condition, false)?,
                message: validate.message.value.clone(),
                detail: None,
            });
        }
        for block in &node.before {
            lowered.before.extend(self.block(file, block)?);
        }
        for block in &node.after {
            lowered.after.extend(self.block(file, block)?);
        }
        for exit in &node.exits {
            let target = match self.target(file, exit.target.span) {
                Some(Target::Node(index)) => *index,
                _ => return Err(self.unresolved(&exit.target.name)),
            };
            let lowered_exit = Exit {
                name: exit.name.name.clone(),
                kind: exit.kind,
                target,
                condition: exit.condition.as_ref().map(|condition| self.expr(file, condition, false)).transpose()?,
                block: match &exit.block {
                    Some(block) => self.block(file, block)?,
                    None => Vec::new(),
                },
                at: loc(file, exit.name.span),
            };
            match exit.kind {
                ExitKind::Exit => lowered.exits.push(lowered_exit),
                ExitKind::Return => lowered.returns.push(lowered_exit),
            }
        }
        if let Some(deadline) = node.deadlines.first() {
            lowered.deadline = Some(self.deadline(file, deadline, &lowered)?);
        }
        if let Some(start) = node.starts.first() {
            lowered.start = Some(self.start(file, start)?);
        }
        Ok(lowered)
    }

    /// A node's deadline, its rules in time order (the checker refuses a reminder not before the deadline).
    fn start(&self, file: FileId, start: &ast::StartChild) -> Result<StartChild> {
        let workflow = match self.target(file, start.workflow.span) {
            Some(Target::Workflow(index)) => *index,
            _ => return Err(self.unresolved(&start.workflow.name)),
        };
        let mapped = |mapping: &ast::Mapping| -> Result<(usize, Expr)> {
            match self.target(file, mapping.target.span) {
                Some(Target::Field(index)) => Ok((*index, self.expr(file, &mapping.value, false)?)),
                _ => Err(self.unresolved(&mapping.target.name)),
            }
        };
        let mut lowered =
            StartChild { workflow, creator: None, fields: Vec::new(), wait: None, at: loc(file, start.span) };
        for mapping in &start.fields {
            // `creator` that is no field of the child's form names the child's creator.
            if mapping.target.name == "creator" && self.target(file, mapping.target.span).is_none() {
                lowered.creator = Some(self.expr(file, &mapping.value, false)?);
            } else {
                lowered.fields.push(mapped(mapping)?);
            }
        }
        if let Some(wait) = &start.wait {
            lowered.wait = Some(wait.iter().map(mapped).collect::<Result<_>>()?);
        }
        Ok(lowered)
    }

    fn deadline(&self, file: FileId, deadline: &ast::Deadline, node: &Node) -> Result<Deadline> {
        let text = |span: crate::source::Span| {
            let written = self.analysis.sources.get(file).map(|source| source.slice(span)).unwrap_or_default();
            written.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let mut rules = Vec::new();
        for rule in &deadline.rules {
            let (offset, action, span) = match rule {
                ast::DeadlineRule::Remind { before, channels, span } => (
                    before.as_ref().map_or(Ok(Offset::At), |before| Ok(Offset::Before(self.duration(before)?)))?,
                    DeadlineAction::Remind { channels: channels.iter().map(|channel| channel.name.clone()).collect() },
                    *span,
                ),
                ast::DeadlineRule::Take { after, exit, span } => {
                    let action = match node.exits.iter().position(|one| one.name == exit.name) {
                        Some(index) => DeadlineAction::Take { index, returns: false },
                        None => match node.returns.iter().position(|one| one.name == exit.name) {
                            Some(index) => DeadlineAction::Take { index, returns: true },
                            None => return Err(self.unresolved(&exit.name)),
                        },
                    };
                    (self.offset_after(after)?, action, *span)
                }
                ast::DeadlineRule::Hand { after, people, span } => (
                    self.offset_after(after)?,
                    DeadlineAction::Hand { people: self.operator_line(file, people)? },
                    *span,
                ),
            };
            rules.push(DeadlineRule { offset, action, text: text(span), at: loc(file, span) });
        }
        if rules.is_empty() {
            rules.push(DeadlineRule {
                offset: Offset::At,
                action: DeadlineAction::Remind { channels: Vec::new() },
                text: "remind".into(),
                at: loc(file, deadline.span),
            });
        }
        // Stable: rules at one moment keep their written order.
        rules.sort_by_key(|rule| match rule.offset {
            Offset::Before(duration) => (0, std::cmp::Reverse(duration_key(duration)), 0),
            Offset::At => (1, std::cmp::Reverse(0), 0),
            Offset::After(duration) => (2, std::cmp::Reverse(0), duration_key(duration)),
        });
        Ok(Deadline {
            length: self.duration(&deadline.length)?,
            rules,
            text: text(deadline.length.span),
            at: loc(file, deadline.span),
        })
    }

    fn duration(&self, duration: &ast::Duration) -> Result<Duration> {
        let amount = duration.amount.parse::<u32>().map_err(|_| self.unresolved(&duration.amount))?;
        Ok(Duration { amount, unit: duration.unit })
    }

    fn offset_after(&self, after: &Option<ast::Duration>) -> Result<Offset> {
        Ok(match after {
            Some(after) => Offset::After(self.duration(after)?),
            None => Offset::At,
        })
    }

    /// The fields a setting names, and the detail table when it names one whole.
    fn setting_path(&self, file: FileId, path: &ast::FieldPath) -> Result<(Vec<usize>, Option<usize>)> {
        let last = path.segments.last().ok_or_else(|| self.unresolved("an empty field path"))?;
        let first = path.segments.first().ok_or_else(|| self.unresolved("an empty field path"))?;
        if path.segments.len() > 1 {
            return match self.target(file, last.span) {
                Some(Target::Field(index)) => Ok((vec![*index], None)),
                _ => Err(self.unresolved(&last.name)),
            };
        }
        match self.target(file, first.span) {
            Some(Target::Field(index)) => Ok((vec![*index], None)),
            // The whole table: rows may be added, and its input columns edited.
            Some(Target::Detail(detail, inputs)) => Ok((inputs.clone(), Some(*detail))),
            _ => Err(self.unresolved(&first.name)),
        }
    }

    fn operator_line(&self, file: FileId, line: &ast::OperatorLine) -> Result<OperatorLine> {
        Ok(OperatorLine {
            people: self.expr(file, &line.people, false)?,
            filter: line.filter.as_ref().map(|filter| self.expr(file, filter, true)).transpose()?,
            condition: line.condition.as_ref().map(|condition| self.expr(file, condition, false)).transpose()?,
            at: loc(file, line.span),
        })
    }

    fn block(&self, file: FileId, block: &ast::Block) -> Result<Vec<Stmt>> {
        block.statements.iter().map(|statement| self.statement(file, statement)).collect()
    }

    fn statement(&self, file: FileId, statement: &ast::Statement) -> Result<Stmt> {
        Ok(match statement {
            ast::Statement::Assign { target, value, span } => {
                let first = target.segments.first().ok_or_else(|| self.unresolved("an empty assignment"))?;
                let field = match self.target(file, first.span) {
                    Some(Target::Field(index)) => *index,
                    _ => return Err(self.unresolved(&first.name)),
                };
                Stmt::Assign { field, value: self.expr(file, value, false)?, at: loc(file, *span) }
            }
            ast::Statement::If { branches, else_block, .. } => Stmt::If {
                branches: branches
                    .iter()
                    .map(|(condition, block)| Ok((self.expr(file, condition, false)?, self.block(file, block)?)))
                    .collect::<Result<_>>()?,
                otherwise: match else_block {
                    Some(block) => self.block(file, block)?,
                    None => Vec::new(),
                },
            },
            ast::Statement::Script { path, span } => Stmt::Script { path: path.value.clone(), at: loc(file, *span) },
        })
    }

    /// `in_where`: bare names the checker did not resolve are the person's
    /// attributes.
    fn expr(&self, file: FileId, expr: &ast::Expr, in_where: bool) -> Result<Expr> {
        let at = loc(file, expr.span);
        let boxed = |inner: &ast::Expr| self.expr(file, inner, in_where).map(Box::new);
        let kind = match &expr.kind {
            ast::ExprKind::Integer(value) => ExprKind::Int(*value),
            ast::ExprKind::Number(value) => ExprKind::Decimal(*value),
            ast::ExprKind::Str(text) => ExprKind::Text(text.clone()),
            ast::ExprKind::Bool(value) => ExprKind::Bool(*value),
            ast::ExprKind::Null => ExprKind::Null,
            ast::ExprKind::Error => return Err(LowerError("an expression with a syntax error".into())),
            ast::ExprKind::List(items) => {
                ExprKind::List(items.iter().map(|item| self.expr(file, item, in_where)).collect::<Result<_>>()?)
            }
            // As the checker does, a `where` takes a person's attribute first
            // (the checker records no reference for it: nothing to look up).
            ast::ExprKind::Name(ident)
                if in_where && crate::check::members::find(crate::check::members::EMPLOYEE, &ident.name).is_some() =>
            {
                ExprKind::Attribute(ident.name.clone())
            }
            ast::ExprKind::Name(ident) => match self.target(file, ident.span) {
                Some(Target::Field(index)) => ExprKind::Field(*index),
                Some(Target::Node(index)) => ExprKind::Node(*index),
                Some(Target::Constant(index)) => ExprKind::Constant(*index),
                Some(Target::Parameter(index)) => ExprKind::Parameter(*index),
                Some(Target::Builtin(name)) if name == "creator" => ExprKind::Creator,
                Some(Target::Builtin(name)) if name == "everyone" => ExprKind::Everyone,
                None if in_where => ExprKind::Attribute(ident.name.clone()),
                _ => return Err(self.unresolved(&ident.name)),
            },
            ast::ExprKind::Member(target, member) => {
                let column = match &target.kind {
                    ast::ExprKind::Name(table) if matches!(self.target(file, table.span), Some(Target::Detail(..))) => {
                        match self.target(file, member.span) {
                            Some(Target::Field(index)) => Some(*index),
                            _ => return Err(self.unresolved(&member.name)),
                        }
                    }
                    _ => None,
                };
                match column {
                    Some(index) => ExprKind::Column(index),
                    None => ExprKind::Member(boxed(target)?, member.name.clone()),
                }
            }
            ast::ExprKind::Call(callee, arguments) => {
                let ast::ExprKind::Name(name) = &callee.kind else { return Err(self.unresolved("a call")) };
                let arguments =
                    arguments.iter().map(|argument| self.expr(file, argument, in_where)).collect::<Result<_>>()?;
                match self.target(file, name.span) {
                    Some(Target::Function(index)) => ExprKind::CallFunction(*index, arguments),
                    Some(Target::Builtin(builtin)) => ExprKind::CallBuiltin(builtin.clone(), arguments),
                    _ => return Err(self.unresolved(&name.name)),
                }
            }
            ast::ExprKind::Index(target, index) => ExprKind::Index(boxed(target)?, boxed(index)?),
            ast::ExprKind::Unary(op, operand) => ExprKind::Unary(*op, boxed(operand)?),
            // `date ± days` is `add_days`, so the operator and the function agree (an empty
            // date stays empty); the checker typed which `+` and `-` these are.
            ast::ExprKind::Binary(op @ (BinaryOp::Add | BinaryOp::Sub), left, right)
                if self.analysis.index.date_shifts.contains(&FileSpan::new(file, expr.span)) =>
            {
                let days = self.expr(file, right, in_where)?;
                let days = match op {
                    BinaryOp::Sub => Expr { at: days.at, kind: ExprKind::Unary(UnaryOp::Neg, Box::new(days)) },
                    _ => days,
                };
                ExprKind::CallBuiltin("add_days".into(), vec![self.expr(file, left, in_where)?, days])
            }
            ast::ExprKind::Binary(op, left, right) => ExprKind::Binary(*op, boxed(left)?, boxed(right)?),
            ast::ExprKind::If(condition, then_value, else_value) => {
                ExprKind::If(boxed(condition)?, boxed(then_value)?, boxed(else_value)?)
            }
        };
        Ok(Expr { kind, at })
    }
}

/// An order of durations that agrees with time for the same unit and roughly across units
/// (a working day counts as a day): rules are kept in the order they fire.
fn duration_key(duration: Duration) -> u64 {
    let hours = match duration.unit {
        crate::syntax::ast::DurationUnit::Hours => 1,
        crate::syntax::ast::DurationUnit::Days | crate::syntax::ast::DurationUnit::WorkingDays => 24,
    };
    u64::from(duration.amount) * hours
}

fn label_or_name(label: &Option<ast::StrLit>, name: &ast::Ident) -> String {
    label.as_ref().map_or_else(|| name.name.clone(), |label| label.value.clone())
}

/// Computed fields ordered so that each comes after the computed fields it
/// reads (the checker has ruled out cycles).
fn formula_order(fields: &[Field]) -> Vec<usize> {
    let mut reads: Vec<Vec<usize>> = vec![Vec::new(); fields.len()];
    for (index, field) in fields.iter().enumerate() {
        if let (Some(formula), Some(slot)) = (&field.formula, reads.get_mut(index)) {
            collect_fields(formula, slot);
            slot.retain(|&read| fields.get(read).is_some_and(|other| other.formula.is_some()));
        }
    }
    let mut order = Vec::new();
    let mut state = vec![0u8; fields.len()]; // 0 new, 1 visiting, 2 done
    for start in 0..fields.len() {
        if fields.get(start).is_none_or(|field| field.formula.is_none()) {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        while let Some((index, next)) = stack.last().copied() {
            if state.get(index) == Some(&2) {
                stack.pop();
                continue;
            }
            if let Some(slot) = state.get_mut(index) {
                *slot = 1;
            }
            match reads.get(index).and_then(|list| list.get(next)) {
                Some(&read) => {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    if state.get(read) == Some(&0) {
                        stack.push((read, 0));
                    }
                }
                None => {
                    stack.pop();
                    if let Some(slot) = state.get_mut(index) {
                        *slot = 2;
                    }
                    order.push(index);
                }
            }
        }
    }
    order
}

pub(super) fn collect_fields(expr: &Expr, out: &mut Vec<usize>) {
    expr.walk(&mut |part| {
        if let ExprKind::Field(index) | ExprKind::Column(index) = part.kind {
            out.push(index);
        }
    });
}
