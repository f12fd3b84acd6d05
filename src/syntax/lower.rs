//! Builds the typed AST from pest's pairs. Offsets are shifted by `base`
//! because error recovery parses one item or member at a time.

use std::cell::RefCell;
use std::str::FromStr;
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use super::ast::*;
use super::errors::{syntax_error, Context};
use super::strings::{split_title, unescape, RawTitlePart, StringProblem};
use super::{FlowParser, Rule};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The precedence table of docs/language.md §8.1, loosest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::member) | Op::postfix(Rule::call_args) | Op::postfix(Rule::index))
});

/// Longest operator chain in one expression; longer ones are refused (E0003)
/// so that no later pass recurses without bound.
const MAX_EXPRESSION_PARTS: usize = 1000;
/// Longest run of prefix operators (`not not not …`).
const MAX_PREFIX_RUN: usize = 64;

pub struct Lowerer<'a> {
    pub file: FileId,
    /// The whole file, for doc comments above items.
    pub text: &'a str,
    pub base: usize,
    pub diagnostics: RefCell<Vec<Diagnostic>>,
}

impl<'a> Lowerer<'a> {
    pub fn new(file: FileId, text: &'a str, base: usize) -> Lowerer<'a> {
        Lowerer { file, text, base, diagnostics: RefCell::new(Vec::new()) }
    }

    /// The pair's span without trailing whitespace (pest includes the
    /// whitespace skipped before a failed optional part).
    pub(super) fn span(&self, pair: &Pair<Rule>) -> Span {
        let span = pair.as_span();
        let trailing = span.as_str().len() - span.as_str().trim_end().len();
        Span::new(span.start() + self.base, span.end() - trailing + self.base)
    }

    fn report(&self, diagnostic: Diagnostic) {
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    /// `///` lines directly above `offset`.
    pub(super) fn doc_before(&self, offset: usize) -> Option<String> {
        let before = self.text.get(..offset)?;
        let mut lines: Vec<&str> = Vec::new();
        let mut rest = before.trim_end_matches([' ', '\t']);
        // The item starts its line; step over that line break and collect
        // the doc lines above, nearest first.
        while let Some(stripped) = rest.strip_suffix('\n') {
            let stripped = stripped.strip_suffix('\r').unwrap_or(stripped);
            let line_start = stripped.rfind('\n').map(|index| index + 1).unwrap_or(0);
            let line = stripped.get(line_start..).unwrap_or("").trim();
            match line.strip_prefix("///") {
                Some(doc) if !doc.starts_with('/') => {
                    lines.push(doc.strip_prefix(' ').unwrap_or(doc));
                    rest = stripped.get(..line_start).unwrap_or("");
                }
                _ => break,
            }
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        Some(lines.join("\n"))
    }

    pub(super) fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    /// A `string` pair: decodes escapes, reporting bad ones.
    pub(super) fn string(&self, pair: Pair<Rule>) -> StrLit {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map(|body| body.as_str()).unwrap_or("");
        let mut problems = Vec::new();
        let value = unescape(body, span.start as usize + 1, &mut problems);
        self.report_string_problems(problems, Code::E0004);
        StrLit { value, span }
    }

    fn report_string_problems(&self, problems: Vec<StringProblem>, code: Code) {
        for problem in problems {
            let label = problem.message.clone();
            self.report(
                Diagnostic::in_file(code, problem.message, self.file, problem.span, label).with_help(problem.help),
            );
        }
    }

    // ------------------------------------------------------------ items

    pub fn items(&self, pairs: Pairs<Rule>) -> Vec<Item> {
        pairs.filter(|pair| pair.as_rule() != Rule::EOI).filter_map(|pair| self.item(pair)).collect()
    }

    pub fn item(&self, pair: Pair<Rule>) -> Option<Item> {
        Some(match pair.as_rule() {
            Rule::use_item => Item::Use(self.use_item(pair)),
            Rule::const_item => Item::Const(self.const_item(pair)),
            Rule::fn_item => Item::Fn(self.fn_item(pair)),
            Rule::form_item => Item::Form(self.form_item(pair)),
            Rule::workflow_item => Item::Workflow(self.workflow_item(pair)),
            Rule::test_item => Item::Test(self.test_item(pair)),
            _ => return None,
        })
    }

    fn use_item(&self, pair: Pair<Rule>) -> UseItem {
        let span = self.span(&pair);
        let path = pair
            .into_inner()
            .filter(|inner| inner.as_rule() == Rule::use_path)
            .flat_map(|path| path.into_inner())
            .filter(|segment| segment.as_rule() == Rule::ident)
            .map(|segment| self.ident(segment))
            .collect();
        UseItem { path, span }
    }

    fn const_item(&self, pair: Pair<Rule>) -> ConstItem {
        let span = self.span(&pair);
        let doc = self.doc_before(span.start as usize);
        let mut name = None;
        let mut ty = None;
        let mut value = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = Some(self.ident(inner)),
                Rule::type_expr => ty = Some(self.type_expr(inner)),
                Rule::expr => value = Some(self.expr(inner)),
                _ => {}
            }
        }
        ConstItem { doc, name: name.unwrap_or_else(|| missing_ident(span)), ty, value, span }
    }

    fn fn_item(&self, pair: Pair<Rule>) -> FnItem {
        let span = self.span(&pair);
        let doc = self.doc_before(span.start as usize);
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = Some(self.ident(inner)),
                Rule::param => params.push(self.param(inner)),
                Rule::type_expr => ret = Some(self.type_expr(inner)),
                Rule::expr => body = Some(self.expr(inner)),
                _ => {}
            }
        }
        let ret = ret.unwrap_or_else(|| TypeExpr { name: missing_ident(span), size: None, argument: None, span });
        FnItem { doc, name: name.unwrap_or_else(|| missing_ident(span)), params, ret, body, span }
    }

    fn param(&self, pair: Pair<Rule>) -> Param {
        let span = self.span(&pair);
        let mut name = None;
        let mut optional = false;
        let mut ty = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = Some(self.ident(inner)),
                Rule::QUESTION => optional = true,
                Rule::type_expr => ty = Some(self.type_expr(inner)),
                _ => {}
            }
        }
        let ty = ty.unwrap_or_else(|| TypeExpr { name: missing_ident(span), size: None, argument: None, span });
        Param { name: name.unwrap_or_else(|| missing_ident(span)), optional, ty }
    }

    fn type_expr(&self, pair: Pair<Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut name = None;
        let mut size = None;
        let mut argument = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = Some(self.ident(inner)),
                Rule::number => size = Some((inner.as_str().to_string(), self.span(&inner))),
                Rule::type_arg => {
                    let argument_span = self.span(&inner);
                    let mut argument_name = missing_ident(argument_span);
                    let mut argument_size = None;
                    for part in inner.into_inner() {
                        match part.as_rule() {
                            Rule::ident => argument_name = self.ident(part),
                            Rule::number => argument_size = Some((part.as_str().to_string(), self.span(&part))),
                            _ => {}
                        }
                    }
                    argument = Some(Box::new(TypeExpr {
                        name: argument_name,
                        size: argument_size,
                        argument: None,
                        span: argument_span,
                    }));
                }
                _ => {}
            }
        }
        TypeExpr { name: name.unwrap_or_else(|| missing_ident(span)), size, argument, span }
    }

    // ------------------------------------------------------------ forms

    fn form_item(&self, pair: Pair<Rule>) -> FormItem {
        let span = self.span(&pair);
        let mut form = FormItem {
            doc: self.doc_before(span.start as usize),
            name: missing_ident(span),
            label: None,
            members: Vec::new(),
            broken: false,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::form_head => self.form_head(inner, &mut form),
                other => {
                    if let Some(member) = self.form_member_of(other, inner) {
                        form.members.push(member);
                    }
                }
            }
        }
        form
    }

    pub fn form_head(&self, pair: Pair<Rule>, form: &mut FormItem) {
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => form.name = self.ident(inner),
                Rule::string => form.label = Some(self.string(inner)),
                _ => {}
            }
        }
    }

    pub fn form_member(&self, pair: Pair<Rule>) -> Option<FormMember> {
        let rule = pair.as_rule();
        self.form_member_of(rule, pair)
    }

    fn form_member_of(&self, rule: Rule, pair: Pair<Rule>) -> Option<FormMember> {
        Some(match rule {
            Rule::field_decl => FormMember::Field(self.field_decl(pair)),
            Rule::detail_decl => FormMember::Detail(self.detail_decl(pair)),
            Rule::validate_decl => FormMember::Validate(self.validate_decl(pair)),
            _ => return None,
        })
    }

    fn detail_decl(&self, pair: Pair<Rule>) -> DetailDecl {
        let span = self.span(&pair);
        let mut detail = DetailDecl {
            doc: self.doc_before(span.start as usize),
            name: missing_ident(span),
            label: None,
            fields: Vec::new(),
            validates: Vec::new(),
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => detail.name = self.ident(inner),
                Rule::string => detail.label = Some(self.string(inner)),
                Rule::field_decl => detail.fields.push(self.field_decl(inner)),
                Rule::validate_decl => detail.validates.push(self.validate_decl(inner)),
                _ => {}
            }
        }
        detail
    }

    fn validate_decl(&self, pair: Pair<Rule>) -> Validate {
        let span = self.span(&pair);
        let mut condition = None;
        let mut message = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::expr => condition = Some(self.expr(inner)),
                Rule::string => message = Some(self.string(inner)),
                _ => {}
            }
        }
        Validate {
            condition: condition.unwrap_or(Expr { kind: ExprKind::Error, span }),
            message: message.unwrap_or(StrLit { value: String::new(), span }),
            span,
        }
    }

    fn field_decl(&self, pair: Pair<Rule>) -> FieldDecl {
        let span = self.span(&pair);
        let mut field = FieldDecl {
            doc: self.doc_before(span.start as usize),
            name: missing_ident(span),
            ty: FieldTypeExpr { name: missing_ident(span), size: None, span },
            label: None,
            extra: None,
            flags: Vec::new(),
            formula: None,
            options: None,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => field.name = self.ident(inner),
                Rule::field_type => {
                    let type_span = self.span(&inner);
                    for part in inner.into_inner() {
                        match part.as_rule() {
                            Rule::ident => field.ty.name = self.ident(part),
                            Rule::number => field.ty.size = Some((part.as_str().to_string(), self.span(&part))),
                            _ => {}
                        }
                    }
                    field.ty.span = type_span;
                }
                Rule::string => {
                    let literal = self.string(inner);
                    if field.label.is_none() {
                        field.label = Some(literal);
                    } else {
                        field.extra = Some(literal);
                    }
                }
                Rule::field_flag => field.flags.push(self.ident(inner)),
                Rule::expr => field.formula = Some(self.expr(inner)),
                Rule::select_block => {
                    field.options = Some(
                        inner
                            .into_inner()
                            .filter(|option| option.as_rule() == Rule::select_option)
                            .map(|option| self.select_option(option))
                            .collect(),
                    )
                }
                _ => {}
            }
        }
        field
    }

    fn select_option(&self, pair: Pair<Rule>) -> SelectOption {
        let span = self.span(&pair);
        let mut option = SelectOption { key: missing_ident(span), label: None, default: None, folder: None, span };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::option_key => {
                    if let Some(key) = inner.into_inner().next() {
                        option.key = match key.as_rule() {
                            Rule::string => {
                                let literal = self.string(key);
                                Ident { name: literal.value, span: literal.span }
                            }
                            _ => self.ident(key),
                        };
                    }
                }
                Rule::string => option.label = Some(self.string(inner)),
                Rule::option_default => option.default = Some(self.span(&inner)),
                Rule::option_folder => {
                    option.folder =
                        inner.into_inner().find(|part| part.as_rule() == Rule::string).map(|part| self.string(part))
                }
                _ => {}
            }
        }
        option
    }

    // ------------------------------------------------------------ workflows

    fn workflow_item(&self, pair: Pair<Rule>) -> WorkflowItem {
        let span = self.span(&pair);
        let mut workflow = WorkflowItem {
            doc: self.doc_before(span.start as usize),
            name: missing_ident(span),
            label: None,
            settings: Vec::new(),
            nodes: Vec::new(),
            broken: false,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::workflow_head => self.workflow_head(inner, &mut workflow),
                _ => self.workflow_member(inner, &mut workflow),
            }
        }
        workflow
    }

    pub fn workflow_head(&self, pair: Pair<Rule>, workflow: &mut WorkflowItem) {
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => workflow.name = self.ident(inner),
                Rule::string => workflow.label = Some(self.string(inner)),
                _ => {}
            }
        }
    }

    pub fn workflow_member(&self, pair: Pair<Rule>, workflow: &mut WorkflowItem) {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.clone().into_inner();
        let keyword = inner.next().map(|first| self.span(&first)).unwrap_or(span);
        let kind = match rule {
            Rule::node_decl => {
                workflow.nodes.push(self.node_decl(pair));
                return;
            }
            Rule::wf_category => match inner.find(|part| part.as_rule() == Rule::string) {
                Some(text) => SettingKind::Category(self.string(text)),
                None => return,
            },
            Rule::wf_form => match inner.find(|part| part.as_rule() == Rule::ident) {
                Some(name) => SettingKind::Form(self.ident(name)),
                None => return,
            },
            Rule::wf_title => match inner.find(|part| part.as_rule() == Rule::string) {
                Some(text) => SettingKind::Title(self.title(text)),
                None => return,
            },
            Rule::wf_remind => SettingKind::Remind(
                inner.filter(|part| part.as_rule() == Rule::ident).map(|part| self.ident(part)).collect(),
            ),
            Rule::wf_supervisors => SettingKind::Supervisors(
                inner
                    .filter(|part| part.as_rule() == Rule::operator_line)
                    .map(|part| self.operator_line(part))
                    .collect(),
            ),
            Rule::wf_portal => SettingKind::Portal,
            Rule::wf_inactive => SettingKind::Inactive,
            _ => return,
        };
        let keyword = if matches!(rule, Rule::wf_portal | Rule::wf_inactive) { span } else { keyword };
        workflow.settings.push(Setting { kind, keyword, span });
    }

    fn title(&self, pair: Pair<Rule>) -> Title {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map(|body| body.as_str()).unwrap_or("");
        let mut problems = Vec::new();
        let raw_parts = split_title(body, span.start as usize + 1, &mut problems);
        self.report_string_problems(problems, Code::E0006);
        let mut parts = Vec::new();
        for part in raw_parts {
            match part {
                RawTitlePart::Text(text, start) => {
                    let mut escape_problems = Vec::new();
                    parts.push(TitlePart::Text(unescape(&text, start, &mut escape_problems)));
                    self.report_string_problems(escape_problems, Code::E0004);
                }
                RawTitlePart::Hole(source, start) => {
                    if let Some(expr) = self.hole(&source, start) {
                        parts.push(TitlePart::Hole(expr));
                    }
                }
            }
        }
        Title { parts, span }
    }

    /// Parses the text of one `{…}` hole of a title.
    fn hole(&self, source: &str, start: usize) -> Option<Expr> {
        let tokens = super::lexer::tokenize(source);
        if let Some(deep) = super::lexer::first_too_deep(&tokens, super::MAX_NESTING) {
            self.report(super::too_deep(self.file, deep.shifted(start)));
            return None;
        }
        match <FlowParser as pest::Parser<Rule>>::parse(Rule::expr_alone, source) {
            Ok(mut pairs) => {
                let expr_pair = pairs.next()?;
                let nested = Lowerer::new(self.file, self.text, start);
                let expr = nested.expr(expr_pair);
                self.diagnostics.borrow_mut().extend(nested.diagnostics.into_inner());
                Some(expr)
            }
            Err(error) => {
                self.report(syntax_error(&error, source, start, self.file, Context::TitleHole));
                None
            }
        }
    }

    fn node_decl(&self, pair: Pair<Rule>) -> Node {
        let span = self.span(&pair);
        let mut node = Node {
            doc: self.doc_before(span.start as usize),
            name: missing_ident(span),
            label: None,
            kind: missing_ident(span),
            has_body: false,
            operators: Vec::new(),
            field_settings: Vec::new(),
            before: Vec::new(),
            after: Vec::new(),
            exits: Vec::new(),
            validates: Vec::new(),
            allows: Vec::new(),
            forks: Vec::new(),
            waits: Vec::new(),
            deadlines: Vec::new(),
            starts: Vec::new(),
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => node.name = self.ident(inner),
                Rule::string => node.label = Some(self.string(inner)),
                Rule::node_kind => {
                    if let Some(kind) = inner.into_inner().next() {
                        node.kind = self.ident(kind);
                    }
                }
                Rule::node_body => {
                    node.has_body = true;
                    for member in inner.into_inner() {
                        self.node_member(member, &mut node);
                    }
                }
                _ => {}
            }
        }
        node
    }

    fn node_member(&self, pair: Pair<Rule>, node: &mut Node) {
        match pair.as_rule() {
            Rule::operators_decl => node.operators.push(self.operators(pair)),
            Rule::field_setting => node.field_settings.push(self.field_setting(pair)),
            Rule::before_block => {
                if let Some(block) = pair.into_inner().find(|part| part.as_rule() == Rule::block) {
                    node.before.push(self.block(block));
                }
            }
            Rule::after_block => {
                if let Some(block) = pair.into_inner().find(|part| part.as_rule() == Rule::block) {
                    node.after.push(self.block(block));
                }
            }
            Rule::exit_decl => node.exits.push(self.exit(pair, ExitKind::Exit)),
            Rule::return_decl => node.exits.push(self.exit(pair, ExitKind::Return)),
            Rule::validate_decl => node.validates.push(self.validate_decl(pair)),
            Rule::allow_decl => {
                let span = self.span(&pair);
                let mut code = missing_ident(span);
                let mut reason = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::ident => code = self.ident(part),
                        Rule::string => reason = Some(self.string(part)),
                        _ => {}
                    }
                }
                if let Some(reason) = reason {
                    node.allows.push(Allow { code, reason, span });
                }
            }
            Rule::fork_group => {
                let group = node.forks.len();
                let span = self.span(&pair);
                let mut keyword = span;
                for inner in pair.into_inner() {
                    match inner.as_rule() {
                        Rule::fork_kw => keyword = self.span(&inner),
                        Rule::exit_decl => {
                            let mut exit = self.exit(inner, ExitKind::Exit);
                            exit.fork = Some(group);
                            node.exits.push(exit);
                        }
                        _ => {}
                    }
                }
                node.forks.push(ForkGroup { keyword, span });
            }
            Rule::wait_decl => node.waits.push(self.wait(pair)),
            Rule::deadline_decl => node.deadlines.push(self.deadline(pair)),
            Rule::start_decl => node.starts.push(self.start(pair)),
            _ => {}
        }
    }

    fn wait(&self, pair: Pair<Rule>) -> Wait {
        let span = self.span(&pair);
        let mut keyword = span;
        let mut rule = WaitRule::All;
        let mut branches = Vec::new();
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::wait_kw => keyword = self.span(&inner),
                Rule::wait_all => rule = WaitRule::All,
                Rule::number => rule = WaitRule::Count(inner.as_str().to_string(), self.span(&inner)),
                Rule::ident => branches.push(self.ident(inner)),
                _ => {}
            }
        }
        if !branches.is_empty() {
            rule = WaitRule::Branches(branches);
        }
        Wait { rule, keyword, span }
    }

    fn start(&self, pair: Pair<Rule>) -> StartChild {
        let span = self.span(&pair);
        let mut start =
            StartChild { keyword: span, workflow: missing_ident(span), fields: Vec::new(), wait: None, span };
        let mut blocks = 0;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::start_kw => start.keyword = self.span(&inner),
                Rule::ident => start.workflow = self.ident(inner),
                Rule::start_block => {
                    let mut mappings = Vec::new();
                    for map in inner.into_inner().filter(|pair| pair.as_rule() == Rule::start_map) {
                        let span = self.span(&map);
                        let mut target = missing_ident(span);
                        let mut value = None;
                        for part in map.into_inner() {
                            match part.as_rule() {
                                Rule::ident => target = self.ident(part),
                                Rule::expr => value = Some(self.expr(part)),
                                _ => {}
                            }
                        }
                        if let Some(value) = value {
                            mappings.push(Mapping { target, value, span });
                        }
                    }
                    if blocks == 0 {
                        start.fields = mappings;
                    } else {
                        start.wait = Some(mappings);
                    }
                    blocks += 1;
                }
                _ => {}
            }
        }
        start
    }

    fn deadline(&self, pair: Pair<Rule>) -> Deadline {
        let span = self.span(&pair);
        let mut deadline = Deadline {
            length: Duration { amount: String::new(), unit: DurationUnit::Days, span },
            rules: Vec::new(),
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::duration => deadline.length = self.duration(inner),
                Rule::remind_rule => {
                    let span = self.span(&inner);
                    let mut before = None;
                    let mut channels = Vec::new();
                    for part in inner.into_inner() {
                        match part.as_rule() {
                            Rule::duration => before = Some(self.duration(part)),
                            Rule::ident => channels.push(self.ident(part)),
                            _ => {}
                        }
                    }
                    deadline.rules.push(DeadlineRule::Remind { before, channels, span });
                }
                Rule::take_rule | Rule::hand_rule => {
                    let span = self.span(&inner);
                    let take = inner.as_rule() == Rule::take_rule;
                    let mut after = None;
                    let mut exit = missing_ident(span);
                    let mut people = None;
                    for part in inner.into_inner() {
                        match part.as_rule() {
                            Rule::duration => after = Some(self.duration(part)),
                            Rule::ident => exit = self.ident(part),
                            Rule::operator_line => people = Some(self.operator_line(part)),
                            _ => {}
                        }
                    }
                    deadline.rules.push(match (take, people) {
                        (false, Some(people)) => DeadlineRule::Hand { after, people, span },
                        _ => DeadlineRule::Take { after, exit, span },
                    });
                }
                _ => {}
            }
        }
        deadline
    }

    fn duration(&self, pair: Pair<Rule>) -> Duration {
        let span = self.span(&pair);
        let mut duration = Duration { amount: String::new(), unit: DurationUnit::Days, span };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::number => duration.amount = part.as_str().to_owned(),
                Rule::duration_unit => {
                    duration.unit = match part.as_str() {
                        "hours" | "hour" => DurationUnit::Hours,
                        text if text.starts_with("working") => DurationUnit::WorkingDays,
                        _ => DurationUnit::Days,
                    }
                }
                _ => {}
            }
        }
        duration
    }

    fn operators(&self, pair: Pair<Rule>) -> Operators {
        let span = self.span(&pair);
        let mut operators = Operators { mode: None, entries: Vec::new(), keyword: span, span };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::KW_OPERATORS => operators.keyword = self.span(&inner),
                Rule::operator_mode => {
                    let mode = match inner.as_str() {
                        "all" => OperatorMode::All,
                        "sequential" => OperatorMode::Sequential,
                        _ => OperatorMode::Any,
                    };
                    operators.mode = Some((mode, self.span(&inner)));
                }
                Rule::batch => {
                    let batch_span = self.span(&inner);
                    let mut number = (String::new(), batch_span);
                    let mut lines = Vec::new();
                    for part in inner.into_inner() {
                        match part.as_rule() {
                            Rule::number => number = (part.as_str().to_string(), self.span(&part)),
                            Rule::operator_line => lines.push(self.operator_line(part)),
                            _ => {}
                        }
                    }
                    operators.entries.push(OperatorEntry::Batch(Batch { number, lines, span: batch_span }));
                }
                Rule::operator_line => operators.entries.push(OperatorEntry::Line(self.operator_line(inner))),
                _ => {}
            }
        }
        operators
    }

    fn operator_line(&self, pair: Pair<Rule>) -> OperatorLine {
        let span = self.span(&pair);
        let mut people = None;
        let mut filter = None;
        let mut condition = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::expr => people = Some(self.expr(inner)),
                Rule::where_clause => filter = self.clause_expr(inner),
                Rule::when_clause => condition = self.clause_expr(inner),
                _ => {}
            }
        }
        OperatorLine { people: people.unwrap_or(Expr { kind: ExprKind::Error, span }), filter, condition, span }
    }

    fn clause_expr(&self, pair: Pair<Rule>) -> Option<Expr> {
        pair.into_inner().find(|part| part.as_rule() == Rule::expr).map(|part| self.expr(part))
    }

    fn field_setting(&self, pair: Pair<Rule>) -> FieldSetting {
        let span = self.span(&pair);
        let mut mode = SettingMode::Editable;
        let mut fields = Vec::new();
        let mut condition = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::setting_kind => {
                    mode = match inner.as_str() {
                        "required" => SettingMode::Required,
                        "hidden" => SettingMode::Hidden,
                        _ => SettingMode::Editable,
                    }
                }
                Rule::field_path => fields.push(self.field_path(inner)),
                Rule::when_clause => condition = self.clause_expr(inner),
                _ => {}
            }
        }
        FieldSetting { mode, fields, condition, span }
    }

    fn field_path(&self, pair: Pair<Rule>) -> FieldPath {
        let span = self.span(&pair);
        let segments =
            pair.into_inner().filter(|part| part.as_rule() == Rule::ident).map(|part| self.ident(part)).collect();
        FieldPath { segments, span }
    }

    fn exit(&self, pair: Pair<Rule>, kind: ExitKind) -> Exit {
        let span = self.span(&pair);
        let mut names = Vec::new();
        let mut condition = None;
        let mut block = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => names.push(self.ident(inner)),
                Rule::when_clause => condition = self.clause_expr(inner),
                Rule::block => block = Some(self.block(inner)),
                _ => {}
            }
        }
        let mut names = names.into_iter();
        let name = names.next().unwrap_or_else(|| missing_ident(span));
        let target = names.next().unwrap_or_else(|| missing_ident(span));
        Exit { kind, name, target, condition, block, fork: None, span }
    }

    // ------------------------------------------------------------ statements

    fn block(&self, pair: Pair<Rule>) -> Block {
        let span = self.span(&pair);
        let statements = pair.into_inner().filter_map(|inner| self.statement(inner)).collect();
        Block { statements, span }
    }

    fn statement(&self, pair: Pair<Rule>) -> Option<Statement> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::assign_stmt => {
                let mut target = None;
                let mut value = None;
                for inner in pair.into_inner() {
                    match inner.as_rule() {
                        Rule::field_path => target = Some(self.field_path(inner)),
                        Rule::expr => value = Some(self.expr(inner)),
                        _ => {}
                    }
                }
                Some(Statement::Assign {
                    target: target.unwrap_or(FieldPath { segments: Vec::new(), span }),
                    value: value.unwrap_or(Expr { kind: ExprKind::Error, span }),
                    span,
                })
            }
            Rule::script_stmt => {
                let path =
                    pair.into_inner().find(|part| part.as_rule() == Rule::string).map(|part| self.string(part))?;
                Some(Statement::Script { path, span })
            }
            Rule::if_stmt => {
                let mut branches = Vec::new();
                let mut condition = None;
                let mut else_block = None;
                for inner in pair.into_inner() {
                    match inner.as_rule() {
                        Rule::expr => condition = Some(self.expr(inner)),
                        Rule::block if branches.is_empty() => {
                            let condition = condition.take().unwrap_or(Expr { kind: ExprKind::Error, span });
                            branches.push((condition, self.block(inner)));
                        }
                        Rule::block => else_block = Some(self.block(inner)),
                        Rule::else_if => {
                            let mut link_condition = None;
                            for part in inner.into_inner() {
                                match part.as_rule() {
                                    Rule::expr => link_condition = Some(self.expr(part)),
                                    Rule::block => {
                                        let condition =
                                            link_condition.take().unwrap_or(Expr { kind: ExprKind::Error, span });
                                        branches.push((condition, self.block(part)));
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Some(Statement::If { branches, else_block, span })
            }
            _ => None,
        }
    }

    // ------------------------------------------------------------ expressions

    pub fn expr(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let parts = pair.into_inner();
        let mut count = 0usize;
        let mut prefix_run = 0usize;
        let mut longest_prefix_run = 0usize;
        for part in parts.clone() {
            count += 1;
            if matches!(part.as_rule(), Rule::op_not | Rule::op_neg) {
                prefix_run += 1;
                longest_prefix_run = longest_prefix_run.max(prefix_run);
            } else {
                prefix_run = 0;
            }
        }
        if count > MAX_EXPRESSION_PARTS || longest_prefix_run > MAX_PREFIX_RUN {
            self.report(
                Diagnostic::in_file(
                    Code::E0003,
                    "expression too long",
                    self.file,
                    span,
                    "this expression has too many operators",
                )
                .with_help("split it with a `fn` or an intermediate field"),
            );
            return Expr { kind: ExprKind::Error, span };
        }
        PRATT
            .map_primary(|primary| self.operand(primary))
            .map_prefix(|op, operand| {
                let op_span = self.span(&op);
                let kind = if op.as_rule() == Rule::op_not { UnaryOp::Not } else { UnaryOp::Neg };
                let span = op_span.to(operand.span);
                Expr { kind: ExprKind::Unary(kind, Box::new(operand)), span }
            })
            .map_postfix(|target, op| {
                let op_span = self.span(&op);
                let span = target.span.to(op_span);
                match op.as_rule() {
                    Rule::member => {
                        let name =
                            op.into_inner().find(|part| part.as_rule() == Rule::ident).map(|part| self.ident(part));
                        match name {
                            Some(name) => Expr { kind: ExprKind::Member(Box::new(target), name), span },
                            None => Expr { kind: ExprKind::Error, span },
                        }
                    }
                    Rule::call_args => {
                        let arguments = op
                            .into_inner()
                            .filter(|part| part.as_rule() == Rule::expr)
                            .map(|part| self.expr(part))
                            .collect();
                        Expr { kind: ExprKind::Call(Box::new(target), arguments), span }
                    }
                    _ => {
                        let index =
                            op.into_inner().find(|part| part.as_rule() == Rule::expr).map(|part| self.expr(part));
                        match index {
                            Some(index) => Expr { kind: ExprKind::Index(Box::new(target), Box::new(index)), span },
                            None => Expr { kind: ExprKind::Error, span },
                        }
                    }
                }
            })
            .map_infix(|left, op, right| {
                let kind = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_in => BinaryOp::In,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => BinaryOp::Rem,
                };
                let span = left.span.to(right.span);
                Expr { kind: ExprKind::Binary(kind, Box::new(left), Box::new(right)), span }
            })
            .parse(parts)
    }

    fn operand(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::number => self.number(pair.as_str(), span),
            Rule::string => ExprKind::Str(self.string(pair).value),
            Rule::lit_true => ExprKind::Bool(true),
            Rule::lit_false => ExprKind::Bool(false),
            Rule::lit_null => ExprKind::Null,
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::list => ExprKind::List(
                pair.into_inner().filter(|part| part.as_rule() == Rule::expr).map(|part| self.expr(part)).collect(),
            ),
            Rule::paren => match pair.into_inner().find(|part| part.as_rule() == Rule::expr) {
                Some(inner) => return Expr { span, ..self.expr(inner) },
                None => ExprKind::Error,
            },
            Rule::if_expr => {
                let mut branches =
                    pair.into_inner().filter(|part| part.as_rule() == Rule::expr).map(|part| self.expr(part));
                match (branches.next(), branches.next(), branches.next()) {
                    (Some(condition), Some(then_value), Some(else_value)) => {
                        ExprKind::If(Box::new(condition), Box::new(then_value), Box::new(else_value))
                    }
                    _ => ExprKind::Error,
                }
            }
            _ => ExprKind::Error,
        };
        Expr { kind, span }
    }

    fn number(&self, text: &str, span: Span) -> ExprKind {
        match Decimal::from_str(text) {
            Ok(value) if text.contains('.') => ExprKind::Number(value),
            Ok(value) => ExprKind::Integer(value),
            Err(_) => {
                self.report(
                    Diagnostic::in_file(
                        Code::E0005,
                        format!("number `{text}` is out of range"),
                        self.file,
                        span,
                        "too many digits",
                    )
                    .with_help("numbers are exact decimals of at most 28 significant digits"),
                );
                ExprKind::Error
            }
        }
    }
}

fn missing_ident(span: Span) -> Ident {
    Ident { name: String::new(), span: Span::new(span.start as usize, span.start as usize) }
}
