//! Types of expressions, in the environment they appear in: a formula, a
//! row rule, a request-level condition, a `where` filter, a function body
//! or a constant. Also constants, user functions and their recursion check.

use std::cell::RefCell;
use std::collections::HashMap;

use super::forms::{FormInfo, Named};
use super::members::{self, members_of};
use super::suggest;
use super::types::{FieldKind, SigTy, Ty};
use super::{Checker, ItemRef, Signature};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, BinaryOp, Expr, ExprKind, Ident, UnaryOp};

/// Where an expression is, which decides what its names mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `const X = …`: constants and functions only.
    Const,
    /// A `fn` body: its parameters, constants and functions.
    Function,
    /// A main field's formula or a form `validate`.
    MainFormula,
    /// A row rule of the detail table with this index.
    Row(usize),
    /// Conditions, titles, operators and actions of a workflow.
    Request,
    /// A `where` filter: bare names are the person's attributes first.
    Where,
}

pub struct Env<'e, 'a> {
    pub module: usize,
    pub mode: Mode,
    pub form: Option<&'e FormInfo<'a>>,
    pub nodes: Option<&'e HashMap<&'a str, usize>>,
    /// The workflow whose nodes `nodes` indexes.
    pub workflow: Option<&'a ast::WorkflowItem>,
    /// Function parameters: name, type, declaration span.
    pub locals: &'e [(&'a str, Ty, Span)],
    /// Fields read, by index in the form (formula dependencies).
    pub reads: RefCell<Vec<usize>>,
    /// User functions called (recursion check).
    pub calls: RefCell<Vec<ItemRef>>,
}

impl<'e, 'a> Env<'e, 'a> {
    pub fn new(module: usize, mode: Mode) -> Env<'e, 'a> {
        Env {
            module,
            mode,
            form: None,
            nodes: None,
            workflow: None,
            locals: &[],
            reads: RefCell::new(Vec::new()),
            calls: RefCell::new(Vec::new()),
        }
    }

    pub fn with_form(mut self, form: Option<&'e FormInfo<'a>>) -> Env<'e, 'a> {
        self.form = form;
        self
    }

    pub fn with_nodes(mut self, workflow: &'a ast::WorkflowItem, nodes: &'e HashMap<&'a str, usize>) -> Env<'e, 'a> {
        self.nodes = Some(nodes);
        self.workflow = Some(workflow);
        self
    }

    fn in_request(&self) -> bool {
        matches!(self.mode, Mode::MainFormula | Mode::Row(_) | Mode::Request | Mode::Where)
    }
}

/// How deep constants may be defined through other constants.
const MAX_CONSTANT_DEPTH: usize = 64;

const AGGREGATES: &[&str] = &["sum", "count", "avg", "min", "max"];

impl<'a> Checker<'a> {
    pub fn expr(&self, env: &Env<'_, 'a>, expr: &'a Expr) -> Ty {
        match &expr.kind {
            ExprKind::Integer(_) => Ty::Int,
            ExprKind::Number(_) => Ty::Decimal,
            ExprKind::Str(_) => Ty::Text,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Null => Ty::Null,
            ExprKind::Error => Ty::Unknown,
            ExprKind::List(items) => {
                let mut element = Ty::Unknown;
                let mut first = true;
                for item in items {
                    let ty = self.expr(env, item);
                    if first {
                        element = ty;
                        first = false;
                    } else if let Some(joined) = element.join(&ty) {
                        element = joined;
                    } else {
                        self.report(Diagnostic::new(
                            Code::E0502,
                            format!("list items must have one type: found {element} and {ty}"),
                            self.at(env.module, item.span),
                            format!("this is {ty}"),
                        ));
                        element = Ty::Unknown;
                    }
                }
                Ty::List(Box::new(element))
            }
            ExprKind::Name(ident) => self.name(env, ident),
            ExprKind::Member(target, member) => self.member(env, target, member),
            ExprKind::Call(callee, arguments) => self.call(env, expr, callee, arguments),
            ExprKind::Index(target, index) => {
                let target_ty = self.expr(env, target);
                let index_ty = self.expr(env, index);
                if !index_ty.is_numeric() {
                    self.mismatch(env, index, "an index must be a number", &index_ty);
                }
                match target_ty {
                    Ty::List(element) => *element,
                    Ty::Text => Ty::Text,
                    ty if ty.is_unknown() => Ty::Unknown,
                    other => {
                        self.mismatch(env, target, "only lists and texts can be indexed", &other);
                        Ty::Unknown
                    }
                }
            }
            ExprKind::Unary(UnaryOp::Not, operand) => {
                self.expect_bool(env, operand, "`not` needs a check (boolean)");
                Ty::Bool
            }
            ExprKind::Unary(UnaryOp::Neg, operand) => {
                let ty = self.expr(env, operand);
                if !ty.is_numeric() {
                    self.mismatch(env, operand, "`-` needs a number", &ty);
                    return Ty::Unknown;
                }
                ty
            }
            ExprKind::Binary(op, left, right) => self.binary(env, expr, *op, left, right),
            ExprKind::If(condition, then_value, else_value) => {
                self.expect_bool(env, condition, "the condition of `if` must be a check (boolean)");
                let then_ty = self.expr(env, then_value);
                let else_ty = self.expr(env, else_value);
                match then_ty.join(&else_ty) {
                    Some(ty) => ty,
                    None => {
                        self.report(
                            Diagnostic::new(
                                Code::E0502,
                                format!("`if` branches have different types: {then_ty} and {else_ty}"),
                                self.at(env.module, else_value.span),
                                format!("this is {else_ty}"),
                            )
                            .with_secondary(self.at(env.module, then_value.span), format!("this is {then_ty}")),
                        );
                        Ty::Unknown
                    }
                }
            }
        }
    }

    fn record_member(&self, env: &Env<'_, 'a>, ident: &Ident, owner: &str, member: &'static members::Member) {
        if !self.keep_index {
            return;
        }
        self.index.borrow_mut().members.push(super::index::MemberUse {
            at: self.at(env.module, ident.span),
            owner: owner.to_string(),
            name: member.name,
            doc: member.doc,
            ty: (member.ty)().to_string(),
        });
    }

    pub fn expect_bool(&self, env: &Env<'_, 'a>, expr: &'a Expr, message: &str) {
        let ty = self.expr(env, expr);
        if !matches!(ty, Ty::Bool | Ty::Unknown | Ty::Any) {
            self.mismatch(env, expr, message, &ty);
        }
    }

    pub fn mismatch(&self, env: &Env<'_, 'a>, expr: &Expr, message: &str, found: &Ty) {
        self.report(Diagnostic::new(
            Code::E0502,
            format!("{message}, found {found}"),
            self.at(env.module, expr.span),
            format!("this is {found}"),
        ));
    }

    // ------------------------------------------------------------ names

    fn name(&self, env: &Env<'_, 'a>, ident: &'a Ident) -> Ty {
        let name = ident.name.as_str();
        if env.mode == Mode::Where {
            if let Some(member) = members::find(members::EMPLOYEE, name) {
                self.record_member(env, ident, "the person", member);
                return (member.ty)();
            }
        }
        if let Some((_, ty, declared)) = env.locals.iter().find(|(local, _, _)| *local == name) {
            self.record(self.at(env.module, ident.span), self.at(env.module, *declared));
            return ty.clone();
        }
        if env.mode == Mode::Where {
            let is_request_name = env.form.is_some_and(|form| form.names.contains_key(name))
                || env.nodes.is_some_and(|nodes| nodes.contains_key(name));
            if is_request_name {
                self.report(
                    Diagnostic::new(Code::E0403, format!("`{name}` is a field of the request, not a person attribute"), self.at(env.module, ident.span), "not an attribute of the person")
                        .with_help("`where` filters each person by the person's own attributes (id, name, manager, department, subcompany, security, roles, subordinates); to test the request, use `when`"),
                );
                return Ty::Unknown;
            }
        }
        if env.in_request() {
            if let Some(form) = env.form {
                if let Some(named) = form.names.get(name) {
                    return self.form_name(env, form, *named, ident);
                }
            }
            if let Some(&node) = env.nodes.and_then(|nodes| nodes.get(name)) {
                if let Some(declared) = env.workflow.and_then(|workflow| workflow.nodes.get(node)) {
                    self.record(self.at(env.module, ident.span), self.at(env.module, declared.name.span));
                }
                return Ty::Node;
            }
        }
        if let Some(item) = self.lookup(env.module, name) {
            if let Some(declared) = self.item(item).and_then(|declared| declared.name()) {
                self.record(self.at(env.module, ident.span), self.at(item.module, declared.span));
            }
            return match self.item(item) {
                Some(ast::Item::Const(_)) => self.const_type(item).unwrap_or(Ty::Unknown),
                Some(ast::Item::Fn(_)) => {
                    self.report(
                        Diagnostic::new(
                            Code::E0502,
                            format!("`{name}` is a function, not a value"),
                            self.at(env.module, ident.span),
                            "a function",
                        )
                        .with_help(format!("call it: `{name}(…)`")),
                    );
                    Ty::Unknown
                }
                Some(other) => {
                    let what = if matches!(other, ast::Item::Form(_)) { "a form" } else { "a workflow" };
                    self.report(Diagnostic::new(
                        Code::E0502,
                        format!("`{name}` is {what}, not a value"),
                        self.at(env.module, ident.span),
                        what,
                    ));
                    Ty::Unknown
                }
                None => Ty::Unknown,
            };
        }
        if let Some(ty) = self.builtin_values.get(name) {
            if let Some(declared) = self.builtin_defs.get(name) {
                self.record(self.at(env.module, ident.span), *declared);
            }
            if env.in_request() {
                return ty.clone();
            }
            self.report(
                Diagnostic::new(
                    Code::E0501,
                    format!("`{name}` is only known inside a request"),
                    self.at(env.module, ident.span),
                    "not available here",
                )
                .with_help("constants and functions cannot read the request; pass the value as a parameter"),
            );
            return Ty::Unknown;
        }
        self.unknown_name(env, ident);
        Ty::Unknown
    }

    fn form_name(&self, env: &Env<'_, 'a>, form: &FormInfo<'a>, named: Named, ident: &'a Ident) -> Ty {
        if let Some(declared) = form.declaration_of(named) {
            self.record(self.at(env.module, ident.span), self.at(form.item.module, declared));
        }
        match named {
            Named::Detail(_) => {
                if let Mode::Row(_) = env.mode {
                    self.report(
                        Diagnostic::new(
                            Code::E0203,
                            format!("a row rule cannot read the detail table `{}`", ident.name),
                            self.at(env.module, ident.span),
                            "a whole table",
                        )
                        .with_help("a row rule computes one row from that row's numeric fields and main fields"),
                    );
                    return Ty::Unknown;
                }
                Ty::Detail
            }
            Named::Field(index) => {
                let Some(field) = form.fields.get(index) else { return Ty::Unknown };
                match (field.detail, env.mode) {
                    (None, _) => {
                        env.reads.borrow_mut().push(index);
                        field.ty.clone()
                    }
                    (Some(detail), Mode::Row(row)) if detail == row => {
                        env.reads.borrow_mut().push(index);
                        if !field.kind.as_ref().is_none_or(FieldKind::is_numeric) {
                            self.report(
                                Diagnostic::new(
                                    Code::E0203,
                                    format!("a row rule may use only numeric fields of its row, and `{}` is {}", ident.name, field.ty),
                                    self.at(env.module, ident.span),
                                    "not a number",
                                )
                                .with_help("row rules do arithmetic (+ − × ÷) over a row's int and float fields (manual 5.3.5)"),
                            );
                            return Ty::Unknown;
                        }
                        field.ty.clone()
                    }
                    (Some(detail), Mode::Row(_)) => {
                        let table = form.details.get(detail).map_or("", |d| d.decl.name.name.as_str());
                        self.report(
                            Diagnostic::new(
                                Code::E0203,
                                format!(
                                    "a row rule may use only fields of its own row, and `{}` is a column of `{table}`",
                                    ident.name
                                ),
                                self.at(env.module, ident.span),
                                format!("a column of `{table}`"),
                            )
                            .with_help("use main fields, or the numeric fields of this detail table"),
                        );
                        Ty::Unknown
                    }
                    (Some(detail), _) => {
                        let table = form.details.get(detail).map_or("", |d| d.decl.name.name.as_str());
                        self.report(
                            Diagnostic::new(
                                Code::E0206,
                                format!("`{}` is a column of detail `{table}` and has one value per row", ident.name),
                                self.at(env.module, ident.span),
                                "a detail column",
                            )
                            .with_help(format!("aggregate it, as in `sum({table}.{})`", ident.name)),
                        );
                        Ty::Unknown
                    }
                }
            }
        }
    }

    fn unknown_name(&self, env: &Env<'_, 'a>, ident: &Ident) {
        if self.module_incomplete(env.module) || env.form.is_some_and(|form| form.decl.broken) {
            return;
        }
        let mut candidates: Vec<&str> = Vec::new();
        // Gathering the scope costs its size: skipped once suggestions are spent.
        if !self.suggester.exhausted() {
            if env.mode == Mode::Where {
                candidates.extend(members::EMPLOYEE.iter().map(|member| member.name));
            }
            candidates.extend(env.locals.iter().map(|(name, _, _)| *name));
            if env.in_request() {
                if let Some(form) = env.form {
                    candidates.extend(form.names.keys().copied());
                }
                if let Some(nodes) = env.nodes {
                    candidates.extend(nodes.keys().copied());
                }
                candidates.extend(self.builtin_values.keys().copied());
            }
            if let Some(scope) = self.scopes.get(env.module) {
                candidates.extend(scope.keys().copied());
            }
        }
        let (code, message, label) = if env.mode == Mode::Where {
            (Code::E0403, format!("`{}` is not a person attribute", ident.name), "not an attribute of the person")
        } else {
            (Code::E0501, format!("unknown name `{}`", ident.name), "not found in this scope")
        };
        let mut diagnostic = Diagnostic::new(code, message, self.at(env.module, ident.span), label);
        if let Some(best) = self.suggester.best(&ident.name, candidates.iter().copied()) {
            diagnostic = diagnostic.with_replacement(best);
        } else if env.mode == Mode::Where {
            diagnostic = diagnostic.with_help("inside `where`, bare names are the person's attributes: id, name, manager, department, subcompany, security, roles, subordinates");
        } else if let Mode::Row(_) = env.mode {
            diagnostic = diagnostic.with_help("a row rule sees the fields of its row and the main fields");
        }
        self.report(diagnostic);
    }

    // ------------------------------------------------------------ members

    fn member(&self, env: &Env<'_, 'a>, target: &'a Expr, member: &'a Ident) -> Ty {
        if let ExprKind::Name(table) = &target.kind {
            if let Some(form) = env.form.filter(|_| env.in_request()) {
                if let Some(Named::Detail(detail)) = form.names.get(table.name.as_str()) {
                    return self.column(env, form, *detail, table, member);
                }
            }
        }
        let target_ty = self.expr(env, target);
        self.member_of(env, &target_ty, member)
    }

    fn column(&self, env: &Env<'_, 'a>, form: &FormInfo<'a>, detail: usize, table: &Ident, member: &Ident) -> Ty {
        if let Mode::Row(_) = env.mode {
            self.report(
                Diagnostic::new(
                    Code::E0203,
                    format!("a row rule cannot read the column `{}.{}`", table.name, member.name),
                    self.at(env.module, table.span.to(member.span)),
                    "a whole column",
                )
                .with_help("column aggregates belong in main fields (column rules)"),
            );
            return Ty::Unknown;
        }
        match self.resolve_column(env.module, form, detail, table, member) {
            Some(index) => {
                env.reads.borrow_mut().push(index);
                let ty = form.fields.get(index).map_or(Ty::Unknown, |field| field.ty.clone());
                Ty::Column(Box::new(ty))
            }
            None => Ty::Unknown,
        }
    }

    fn member_of(&self, env: &Env<'_, 'a>, target: &Ty, member: &Ident) -> Ty {
        match target {
            Ty::Unknown | Ty::Any | Ty::Null => Ty::Unknown,
            Ty::List(element) => match self.member_of(env, element, member) {
                Ty::List(inner) => Ty::List(inner),
                Ty::Unknown => Ty::Unknown,
                other => Ty::List(Box::new(other)),
            },
            other => match members_of(other) {
                Some(table) => match members::find(table, &member.name) {
                    Some(found) => {
                        self.record_member(env, member, &other.to_string(), found);
                        (found.ty)()
                    }
                    None => {
                        let names: Vec<&str> = table.iter().map(|m| m.name).collect();
                        let mut diagnostic = Diagnostic::new(
                            Code::E0501,
                            format!("{other} has no member `{}`", member.name),
                            self.at(env.module, member.span),
                            "no such member",
                        );
                        diagnostic = match suggest::best(&member.name, names.iter().copied()) {
                            Some(best) => diagnostic.with_replacement(best),
                            None => diagnostic.with_help(format!("{other} has {}", names.join(", "))),
                        };
                        self.report(diagnostic);
                        Ty::Unknown
                    }
                },
                None => {
                    self.report(Diagnostic::new(
                        Code::E0502,
                        format!("{other} has no members, so `.{}` means nothing here", member.name),
                        self.at(env.module, member.span),
                        "no members",
                    ));
                    Ty::Unknown
                }
            },
        }
    }

    // ------------------------------------------------------------ calls

    fn call(&self, env: &Env<'_, 'a>, whole: &'a Expr, callee: &'a Expr, arguments: &'a [Expr]) -> Ty {
        let ExprKind::Name(name) = &callee.kind else {
            self.report(Diagnostic::new(
                Code::E0502,
                "only functions can be called",
                self.at(env.module, callee.span),
                "not a function",
            ));
            for argument in arguments {
                self.expr(env, argument);
            }
            return Ty::Unknown;
        };
        let user = self.lookup(env.module, &name.name);
        let signature: Option<&Signature> = match user {
            Some(item) => match self.item(item) {
                Some(ast::Item::Fn(function)) => {
                    env.calls.borrow_mut().push(item);
                    self.record(self.at(env.module, name.span), self.at(item.module, function.name.span));
                    self.signatures.get(&item)
                }
                _ => {
                    self.report(Diagnostic::new(
                        Code::E0502,
                        format!("`{}` is not a function", name.name),
                        self.at(env.module, name.span),
                        "not a function",
                    ));
                    return Ty::Unknown;
                }
            },
            None => {
                if let Some(declared) = self.builtin_defs.get(name.name.as_str()) {
                    self.record(self.at(env.module, name.span), *declared);
                }
                self.builtin_fns.get(name.name.as_str())
            }
        };
        let Some(signature) = signature else {
            if self.module_incomplete(env.module) {
                return Ty::Unknown;
            }
            let candidates = self
                .builtin_fns
                .keys()
                .copied()
                .chain(self.scopes.get(env.module).into_iter().flat_map(|scope| scope.keys().copied()));
            let mut diagnostic = Diagnostic::new(
                Code::E0501,
                format!("unknown function `{}`", name.name),
                self.at(env.module, name.span),
                "no such function",
            );
            diagnostic = match self.suggester.best(&name.name, candidates) {
                Some(best) => diagnostic.with_replacement(best),
                None => diagnostic.with_help("the built-in functions are declared in `stdlib/prelude.flow`"),
            };
            self.report(diagnostic);
            for argument in arguments {
                self.expr(env, argument);
            }
            return Ty::Unknown;
        };
        let is_aggregate = user.is_none() && AGGREGATES.contains(&name.name.as_str());
        if is_aggregate {
            if let Mode::Row(_) = env.mode {
                self.report(
                    Diagnostic::new(
                        Code::E0203,
                        format!("a row rule cannot use the aggregate `{}`", name.name),
                        self.at(env.module, name.span),
                        "an aggregate over a whole column",
                    )
                    .with_help(
                        "aggregates belong in main fields (column rules), such as `合计: money = sum(明细.金额)`",
                    ),
                );
                return Ty::Unknown;
            }
        }
        let total = signature.params.len();
        let required = signature.required();
        if arguments.len() < required || arguments.len() > total {
            let expected = if required == total { format!("{total}") } else { format!("{required} to {total}") };
            let plural = if total == 1 { "" } else { "s" };
            let params: Vec<String> = signature
                .params
                .iter()
                .map(|(param, ty, optional)| format!("{param}{}: {ty}", if *optional { "?" } else { "" }))
                .collect();
            self.report(
                Diagnostic::new(
                    Code::E0504,
                    format!("`{}` takes {expected} argument{plural}, found {}", name.name, arguments.len()),
                    self.at(env.module, name.span),
                    format!("called with {}", arguments.len()),
                )
                .with_secondary(self.at(env.module, whole.span), "")
                .with_help(format!("`{}({})`", name.name, params.join(", "))),
            );
        }
        let mut argument_types = Vec::with_capacity(arguments.len());
        for (position, argument) in arguments.iter().enumerate() {
            let ty = self.expr(env, argument);
            if let Some((param, expected, _)) = signature.params.get(position) {
                if !expected.accepts(&ty) {
                    if matches!(expected, SigTy::Column(_)) {
                        self.report(
                            Diagnostic::new(
                                Code::E0206,
                                format!("`{}` needs a detail column such as `明细.金额`, found {ty}", name.name),
                                self.at(env.module, argument.span),
                                "not a detail column",
                            )
                            .with_help("write the detail table and the column: `sum(明细.金额)`"),
                        );
                    } else {
                        self.report(Diagnostic::new(
                            Code::E0502,
                            format!("argument `{param}` of `{}` must be {expected}, found {ty}", name.name),
                            self.at(env.module, argument.span),
                            format!("this is {ty}"),
                        ));
                    }
                }
            }
            argument_types.push(ty);
        }
        self.call_result(&name.name, user.is_some(), signature, arguments, &argument_types)
    }

    fn call_result(&self, name: &str, is_user: bool, signature: &Signature, arguments: &[Expr], types: &[Ty]) -> Ty {
        if !is_user {
            match name {
                // `round(x)` and `round(x, 0)` give integers, so they may be stored in `int` fields.
                "round" => {
                    let zero_places = match arguments.get(1) {
                        None => true,
                        Some(places) => matches!(&places.kind, ExprKind::Integer(value) if value.is_zero()),
                    };
                    let value = types.first().cloned().unwrap_or(Ty::Unknown);
                    return if zero_places || value == Ty::Int {
                        Ty::Int
                    } else if value.is_unknown() {
                        Ty::Unknown
                    } else {
                        Ty::Decimal
                    };
                }
                "sum" | "min" | "max" => {
                    return match types.first() {
                        Some(Ty::Column(element)) if element.is_numeric() => (**element).clone(),
                        _ => Ty::Unknown,
                    };
                }
                _ => {}
            }
        }
        match &signature.ret {
            SigTy::Number => {
                let mut result = Ty::Int;
                for ((_, param, _), ty) in signature.params.iter().zip(types) {
                    if matches!(param, SigTy::Number) {
                        result = result.numeric_join(ty);
                    }
                }
                result
            }
            other => other.as_ty(),
        }
    }

    // ------------------------------------------------------------ operators

    fn binary(&self, env: &Env<'_, 'a>, whole: &'a Expr, op: BinaryOp, left: &'a Expr, right: &'a Expr) -> Ty {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let message = format!("`{}` needs checks (booleans) on both sides", op.symbol());
                self.expect_bool(env, left, &message);
                self.expect_bool(env, right, &message);
                Ty::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let left_ty = self.expr(env, left);
                let right_ty = self.expr(env, right);
                self.select_literal(env, &left_ty, right);
                self.select_literal(env, &right_ty, left);
                if !left_ty.comparable(&right_ty) {
                    self.operand_mismatch(env, whole, op, left, &left_ty, right, &right_ty);
                }
                Ty::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let left_ty = self.expr(env, left);
                let right_ty = self.expr(env, right);
                if !left_ty.ordered(&right_ty) {
                    self.operand_mismatch(env, whole, op, left, &left_ty, right, &right_ty);
                }
                Ty::Bool
            }
            BinaryOp::In => {
                let left_ty = self.expr(env, left);
                let right_ty = self.expr(env, right);
                match &right_ty {
                    Ty::List(element) => {
                        if let ExprKind::List(items) = &right.kind {
                            for item in items {
                                self.select_literal(env, &left_ty, item);
                            }
                        }
                        // `"差旅" in 用途` (a multi-select): the text must be one of its options.
                        self.select_literal(env, element, left);
                        if !left_ty.comparable(element) {
                            self.operand_mismatch(env, whole, op, left, &left_ty, right, &right_ty);
                        }
                    }
                    ty if ty.is_people() && !ty.is_unknown() => {
                        if !left_ty.is_person() {
                            self.mismatch(env, left, "only an employee can be `in` a set of people", &left_ty);
                        }
                    }
                    Ty::Text => {
                        if !matches!(left_ty, Ty::Text | Ty::Select(_) | Ty::Unknown | Ty::Any) {
                            self.mismatch(env, left, "only text can be `in` a text", &left_ty);
                        }
                    }
                    ty if ty.is_unknown() => {}
                    _ => {
                        self.mismatch(env, right, "the right side of `in` must be a list, a text or people", &right_ty)
                    }
                }
                Ty::Bool
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                let left_ty = self.expr(env, left);
                let right_ty = self.expr(env, right);
                if left_ty.is_unknown() || right_ty.is_unknown() {
                    return if op == BinaryOp::Div { Ty::Decimal } else { Ty::Unknown };
                }
                if left_ty.is_numeric() && right_ty.is_numeric() {
                    return if op == BinaryOp::Div { Ty::Decimal } else { left_ty.numeric_join(&right_ty) };
                }
                match (op, &left_ty, &right_ty) {
                    (BinaryOp::Add, Ty::Text | Ty::Select(_), Ty::Text | Ty::Select(_)) => Ty::Text,
                    (BinaryOp::Add | BinaryOp::Sub, Ty::Date, Ty::Int) => {
                        self.index.borrow_mut().date_shifts.insert(self.at(env.module, whole.span));
                        Ty::Date
                    }
                    _ => {
                        self.operand_mismatch(env, whole, op, left, &left_ty, right, &right_ty);
                        Ty::Unknown
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operand_mismatch(
        &self,
        env: &Env<'_, 'a>,
        whole: &Expr,
        op: BinaryOp,
        left: &Expr,
        left_ty: &Ty,
        right: &Expr,
        right_ty: &Ty,
    ) {
        let mut diagnostic = Diagnostic::new(
            Code::E0502,
            format!("cannot apply `{}` to {left_ty} and {right_ty}", op.symbol()),
            self.at(env.module, whole.span),
            format!("{left_ty} {} {right_ty}", op.symbol()),
        )
        .with_secondary(self.at(env.module, left.span), format!("this is {left_ty}"))
        .with_secondary(self.at(env.module, right.span), format!("this is {right_ty}"));
        if matches!(left_ty, Ty::Column(_)) || matches!(right_ty, Ty::Column(_)) {
            diagnostic = diagnostic.with_help(
                "a detail column has one value per row: aggregate it with `sum`, `avg`, `min`, `max` or `count`",
            );
        } else if matches!(op, BinaryOp::Add) && (matches!(left_ty, Ty::Text) || matches!(right_ty, Ty::Text)) {
            diagnostic = diagnostic.with_help("`+` joins two texts; turn a number into text with `thousands(x, 2)`");
        }
        self.report(diagnostic);
    }

    /// `类别 == "旅游"`: the string must be one of the select's options.
    fn select_literal(&self, env: &Env<'_, 'a>, select: &Ty, other: &Expr) {
        let Ty::Select(info) = select else { return };
        let ExprKind::Str(text) = &other.kind else { return };
        if let Some(position) = info.position(text) {
            if let Some(declared) = info.declared.get(position) {
                self.record(self.at(env.module, other.span), *declared);
            }
            return;
        }
        let keys: Vec<&str> = info.options.iter().map(|(key, _)| key.as_str()).collect();
        let labels = info.options.iter().filter_map(|(_, label)| label.as_deref());
        let mut diagnostic = Diagnostic::new(
            Code::E0503,
            format!("`{}` has no option \"{text}\"", info.field),
            self.at(env.module, other.span),
            "not an option of this select",
        );
        let best = self.suggester.best(text, keys.iter().copied().chain(labels));
        let listing =
            format!("the options are {}", keys.iter().map(|key| format!("\"{key}\"")).collect::<Vec<_>>().join(", "));
        if let Some(best) = best {
            diagnostic = diagnostic.with_replacement(format!("\"{best}\""));
            diagnostic.help = Some(format!("did you mean \"{best}\"? {listing}"));
        } else {
            diagnostic = diagnostic.with_help(listing);
        }
        self.report(diagnostic);
    }

    // ------------------------------------------------------------ storing

    /// Whether a value of type `ty` may be stored into a field of `kind`;
    /// reports E0205/E0502 at `target`.
    pub fn check_store(&self, module: usize, field: &super::forms::FieldInfo<'a>, ty: &Ty, value: &Expr, target: Span) {
        let Some(kind) = &field.kind else { return };
        if ty.is_unknown() || matches!(ty, Ty::Null) {
            return;
        }
        let name = &field.decl.name.name;
        if let (FieldKind::Select, Ty::Select(_) | Ty::Text) = (kind, ty) {
            if let Some(select) = &field.select {
                let env = Env::new(module, Mode::Request);
                self.select_literal(&env, &Ty::Select(select.clone()), value);
            }
            return;
        }
        if *kind == FieldKind::SelectMultiple {
            let element = match ty {
                Ty::List(element) => element.as_ref(),
                single => single,
            };
            if matches!(element, Ty::Select(_) | Ty::Text | Ty::Unknown) {
                if let Some(select) = &field.select {
                    let env = Env::new(module, Mode::Request);
                    let items = match &value.kind {
                        ExprKind::List(items) => items.iter().collect(),
                        _ => vec![value],
                    };
                    for item in items {
                        self.select_literal(&env, &Ty::Select(select.clone()), item);
                    }
                }
                return;
            }
        }
        let fits = match kind {
            FieldKind::Int => {
                if *ty == Ty::Decimal {
                    self.report(
                        Diagnostic::new(
                            Code::E0205,
                            format!("a decimal is stored into the int field `{name}` without `round()`"),
                            self.at(module, target),
                            "an int field",
                        )
                        .with_secondary(self.at(module, value.span), "this is a decimal")
                        .with_help("round it explicitly, as in `round(…, 0)`, or make the field a `float`"),
                    );
                    return;
                }
                *ty == Ty::Int
            }
            FieldKind::Float(_) | FieldKind::Money | FieldKind::MoneyUpper => ty.is_numeric(),
            FieldKind::Text(_) | FieldKind::Textarea => matches!(ty, Ty::Text | Ty::Select(_)),
            FieldKind::Check => *ty == Ty::Bool,
            FieldKind::Employees => {
                matches!(ty, Ty::Employee) || matches!(ty, Ty::List(inner) if **inner == Ty::Employee)
            }
            FieldKind::Departments => {
                matches!(ty, Ty::Department) || matches!(ty, Ty::List(inner) if **inner == Ty::Department)
            }
            FieldKind::Date | FieldKind::DateTime => matches!(ty, Ty::Date | Ty::DateTime),
            FieldKind::Link | FieldKind::Note => true,
            other => other.value_ty(None) == *ty,
        };
        if !fits {
            let expected = kind.value_ty(field.select.as_ref());
            self.report(
                Diagnostic::new(
                    Code::E0502,
                    format!("field `{name}` holds {expected}, but the value is {ty}"),
                    self.at(module, value.span),
                    format!("this is {ty}"),
                )
                .with_secondary(self.at(module, field.decl.name.span), format!("`{name}` is declared here")),
            );
        }
    }

    // ------------------------------------------------------------ constants and functions

    /// The type of a constant, computed once; `None` while it is being
    /// computed (a constant that refers to itself).
    pub fn const_type(&self, item: ItemRef) -> Option<Ty> {
        if let Some(known) = self.const_types.borrow().get(&item) {
            if known.is_none() {
                if let Some(ast::Item::Const(constant)) = self.item(item) {
                    self.report(Diagnostic::new(
                        Code::E0505,
                        format!("constant `{}` refers to itself", constant.name.name),
                        self.at(item.module, constant.name.span),
                        "defined in terms of itself",
                    ));
                }
                return Some(Ty::Unknown);
            }
            return known.clone();
        }
        let Some(ast::Item::Const(constant)) = self.item(item) else { return None };
        // A constant is typed when first read, which recurses through
        // chains of constants; bound the depth so no chain can overflow.
        if self.const_depth.get() >= MAX_CONSTANT_DEPTH {
            self.report(
                Diagnostic::new(
                    Code::E0003,
                    format!(
                        "constant `{}` is defined through more than {MAX_CONSTANT_DEPTH} other constants",
                        constant.name.name
                    ),
                    self.at(item.module, constant.name.span),
                    "too deep",
                )
                .with_help("define it directly, or through fewer constants"),
            );
            self.const_types.borrow_mut().insert(item, Some(Ty::Unknown));
            return Some(Ty::Unknown);
        }
        self.const_types.borrow_mut().insert(item, None);
        let env = Env::new(item.module, Mode::Const);
        self.const_depth.set(self.const_depth.get() + 1);
        let value_ty = constant.value.as_ref().map(|value| self.expr(&env, value)).unwrap_or(Ty::Unknown);
        self.const_depth.set(self.const_depth.get().saturating_sub(1));
        let ty = match constant.ty.as_ref().and_then(|ty| self.sig_type(item.module, ty)) {
            Some(declared) => {
                if !declared.accepts(&value_ty) {
                    if let Some(value) = &constant.value {
                        self.mismatch(
                            &env,
                            value,
                            &format!("constant `{}` is declared {declared}", constant.name.name),
                            &value_ty,
                        );
                    }
                }
                declared.as_ty()
            }
            None => value_ty,
        };
        self.const_types.borrow_mut().insert(item, Some(ty.clone()));
        Some(ty)
    }

    pub fn check_fn(&self, here: ItemRef, function: &'a ast::FnItem) {
        let Some(signature) = self.signatures.get(&here) else { return };
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for param in &function.params {
            if let Some(first) = seen.insert(param.name.name.as_str(), param.name.span) {
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        format!("parameter `{}` is declared twice", param.name.name),
                        self.at(here.module, param.name.span),
                        "declared again",
                    )
                    .with_secondary(self.at(here.module, first), "first declared here"),
                );
            }
        }
        let Some(body) = &function.body else {
            self.report(
                Diagnostic::new(
                    Code::E0001,
                    format!("function `{}` needs a body", function.name.name),
                    self.at(here.module, function.name.span),
                    "expected `= expression`",
                )
                .with_help("write `fn name(params) -> type = expression`"),
            );
            return;
        };
        let locals: Vec<(&'a str, Ty, Span)> = function
            .params
            .iter()
            .zip(&signature.params)
            .map(|(param, (_, ty, _))| (param.name.name.as_str(), ty.as_ty(), param.name.span))
            .collect();
        let mut env = Env::new(here.module, Mode::Function);
        env.locals = &locals;
        let ty = self.expr(&env, body);
        let fits = match &signature.ret {
            SigTy::Exact(Ty::Int) if ty == Ty::Decimal => {
                self.report(
                    Diagnostic::new(
                        Code::E0205,
                        format!("`{}` returns int, but its body is a decimal", function.name.name),
                        self.at(here.module, body.span),
                        "a decimal",
                    )
                    .with_help("round it explicitly with `round(…, 0)`"),
                );
                true
            }
            expected => expected.accepts(&ty),
        };
        if !fits {
            self.mismatch(&env, body, &format!("`{}` returns {}", function.name.name, signature.ret), &ty);
        }
        self.fn_calls.borrow_mut().insert(here, env.calls.into_inner());
    }

    /// User functions are pure and not recursive: each cycle in the call
    /// graph is one E0505, on its first function in source order, with the
    /// other functions of the cycle as secondary labels.
    pub fn check_recursion(&self) {
        let calls = self.fn_calls.borrow();
        let mut functions: Vec<ItemRef> = calls.keys().copied().collect();
        functions.sort_by_key(|item| (item.module, item.index));
        let position: HashMap<ItemRef, usize> =
            functions.iter().enumerate().map(|(index, item)| (*item, index)).collect();
        let edges: Vec<Vec<usize>> = functions
            .iter()
            .map(|item| {
                calls.get(item).into_iter().flatten().filter_map(|callee| position.get(callee).copied()).collect()
            })
            .collect();
        for component in super::graph::strongly_connected_components(functions.len(), &edges) {
            let Some(&first) = component.first() else { continue };
            let calls_itself = edges.get(first).is_some_and(|targets| targets.contains(&first));
            if component.len() == 1 && !calls_itself {
                continue;
            }
            let Some(&start) = functions.get(first) else { continue };
            let Some(ast::Item::Fn(function)) = self.item(start) else { continue };
            let others: Vec<(ItemRef, &ast::FnItem)> = component
                .iter()
                .skip(1)
                .filter_map(|&index| functions.get(index))
                .filter_map(|&other| match self.item(other) {
                    Some(ast::Item::Fn(callee)) => Some((other, callee)),
                    _ => None,
                })
                .collect();
            let message = if others.is_empty() {
                format!("function `{}` calls itself", function.name.name)
            } else {
                let names: Vec<String> = others.iter().map(|(_, callee)| format!("`{}`", callee.name.name)).collect();
                format!("function `{}` calls itself through {}", function.name.name, names.join(", "))
            };
            let mut diagnostic = Diagnostic::new(Code::E0505, message, self.at(start.module, function.name.span), "recursive")
                .with_help("functions are formulas and cannot recurse; write the computation out, or use a detail table and an aggregate");
            for (other, callee) in others {
                diagnostic = diagnostic.with_secondary(self.at(other.module, callee.name.span), "part of the cycle");
            }
            self.report(diagnostic);
        }
    }
}
