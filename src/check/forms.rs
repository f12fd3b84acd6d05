//! Forms: field types and flags, select options, labels, duplicate names,
//! formulas (row rules, column rules, cycles, rounding) and `validate`;
//! and, once workflows are checked, fields nothing ever fills (W0305).

use std::collections::HashMap;
use std::rc::Rc;

use super::exprs::{Env, Mode};
use super::suggest;
use super::types::{FieldKind, SelectInfo, Ty, FIELD_TYPE_NAMES};
use super::{Checker, ItemRef};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, Expr, ExprKind, FieldDecl, FormItem, FormMember};

/// A name in a form's one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Field(usize),
    Detail(usize),
}

#[derive(Debug)]
pub struct FieldInfo<'a> {
    pub decl: &'a FieldDecl,
    /// `None` when the type name is unknown (already reported).
    pub kind: Option<FieldKind>,
    /// The detail table the field is a column of.
    pub detail: Option<usize>,
    pub select: Option<Rc<SelectInfo>>,
    pub ty: Ty,
}

impl FormInfo<'_> {
    /// The span of the declared name of a field or detail table.
    pub fn declaration_of(&self, named: Named) -> Option<Span> {
        match named {
            Named::Field(index) => self.fields.get(index).map(|field| field.decl.name.span),
            Named::Detail(index) => self.details.get(index).map(|detail| detail.decl.name.span),
        }
    }
}

impl FieldInfo<'_> {
    pub fn is_computed(&self) -> bool {
        self.decl.formula.is_some()
    }

    /// Whether nobody writes the field: `link` and `note` only display text, and a `serial`
    /// is numbered by the system at creation.
    pub fn is_display_only(&self) -> bool {
        self.kind.as_ref().is_some_and(|kind| kind.is_display_only() || *kind == FieldKind::Serial)
    }

    /// Why a field nobody sets by hand cannot be edited or assigned.
    pub fn fixed_because(&self) -> &'static str {
        match &self.kind {
            _ if self.is_computed() => "it is computed by a formula",
            Some(FieldKind::Serial) => "it is numbered by the system when the request is created",
            _ => "it only displays text",
        }
    }
}

#[derive(Debug)]
pub struct DetailInfo<'a> {
    pub decl: &'a ast::DetailDecl,
    pub fields: Vec<usize>,
}

#[derive(Debug)]
pub struct FormInfo<'a> {
    pub item: ItemRef,
    pub decl: &'a FormItem,
    pub fields: Vec<FieldInfo<'a>>,
    pub details: Vec<DetailInfo<'a>>,
    pub names: HashMap<&'a str, Named>,
}

pub const MAX_LABEL_CHARS: usize = 100;

impl<'a> Checker<'a> {
    pub(super) fn collect_forms(&mut self) {
        let mut forms = HashMap::new();
        for (module_index, module) in self.modules.iter().enumerate() {
            for (index, item) in module.ast.items.iter().enumerate() {
                if let ast::Item::Form(form) = item {
                    let here = ItemRef { module: module_index, index };
                    forms.insert(here, self.form_info(here, form));
                }
            }
        }
        self.forms = forms;
    }

    fn form_info(&self, here: ItemRef, form: &'a FormItem) -> FormInfo<'a> {
        let module = here.module;
        let mut info =
            FormInfo { item: here, decl: form, fields: Vec::new(), details: Vec::new(), names: HashMap::new() };
        self.check_label(module, form.label.as_ref());
        for member in &form.members {
            match member {
                FormMember::Field(field) => {
                    let index = self.add_field(module, &mut info, field, None);
                    self.declare(module, &mut info, &field.name, Named::Field(index));
                }
                FormMember::Detail(detail) => {
                    self.check_label(module, detail.label.as_ref());
                    let detail_index = info.details.len();
                    info.details.push(DetailInfo { decl: detail, fields: Vec::new() });
                    self.declare(module, &mut info, &detail.name, Named::Detail(detail_index));
                    for field in &detail.fields {
                        let index = self.add_field(module, &mut info, field, Some(detail_index));
                        if let Some(table) = info.details.get_mut(detail_index) {
                            table.fields.push(index);
                        }
                        self.declare(module, &mut info, &field.name, Named::Field(index));
                    }
                }
                FormMember::Validate(_) => {}
            }
        }
        info
    }

    fn declare(&self, module: usize, info: &mut FormInfo<'a>, name: &'a ast::Ident, named: Named) {
        if name.name.is_empty() {
            return;
        }
        if let Some(first) = info.names.get(name.name.as_str()) {
            let first_span = match first {
                Named::Field(index) => info.fields.get(*index).map(|field| field.decl.name.span),
                Named::Detail(index) => info.details.get(*index).map(|detail| detail.decl.name.span),
            };
            let mut diagnostic = Diagnostic::new(
                Code::E0302,
                format!("`{}` is declared twice in form `{}`", name.name, info.decl.name.name),
                self.at(module, name.span),
                "declared again here",
            )
            .with_help("a form's main fields, detail tables and detail fields share one namespace");
            if let Some(first_span) = first_span {
                diagnostic = diagnostic.with_secondary(self.at(module, first_span), "first declared here");
            }
            self.report(diagnostic);
            return;
        }
        info.names.insert(name.name.as_str(), named);
    }

    /// `明细.单价` written in `module`: the column's field index, recorded in
    /// the index, or E0501 with a did-you-mean among the table's columns.
    pub fn resolve_column(
        &self,
        module: usize,
        form: &FormInfo<'a>,
        detail: usize,
        table: &ast::Ident,
        column: &ast::Ident,
    ) -> Option<usize> {
        let info = form.details.get(detail)?;
        self.record(self.at(module, table.span), self.at(form.item.module, info.decl.name.span));
        let columns = || info.fields.iter().filter_map(|&index| form.fields.get(index).map(|field| (index, field)));
        if let Some((index, field)) = columns().find(|(_, field)| field.decl.name.name == column.name) {
            self.record(self.at(module, column.span), self.at(form.item.module, field.decl.name.span));
            return Some(index);
        }
        let mut diagnostic = Diagnostic::new(
            Code::E0501,
            format!("detail `{}` has no column `{}`", table.name, column.name),
            self.at(module, column.span),
            "no such column",
        );
        if let Some(best) = self.suggester.best(&column.name, columns().map(|(_, field)| field.decl.name.name.as_str()))
        {
            diagnostic = diagnostic.with_replacement(best);
        }
        self.report(diagnostic);
        None
    }

    pub fn check_label(&self, module: usize, label: Option<&ast::StrLit>) {
        let Some(label) = label else { return };
        let length = label.value.chars().count();
        if length > MAX_LABEL_CHARS {
            self.report(
                Diagnostic::new(
                    Code::E0301,
                    format!("display name is {length} characters long; the limit is {MAX_LABEL_CHARS}"),
                    self.at(module, label.span),
                    "too long",
                )
                .with_help("shorten the label; put longer explanations in a `note` field"),
            );
        }
    }

    /// Resolves the field's kind and checks what can be checked without
    /// looking at other fields.
    fn add_field(&self, module: usize, info: &mut FormInfo<'a>, field: &'a FieldDecl, detail: Option<usize>) -> usize {
        self.check_label(module, field.label.as_ref());
        let type_name = field.ty.name.name.as_str();
        let mut kind = FieldKind::from_name(type_name);
        if kind.is_none() && !type_name.is_empty() {
            let mut diagnostic = Diagnostic::new(
                Code::E0501,
                format!("unknown field type `{type_name}`"),
                self.at(module, field.ty.name.span),
                "not a field type",
            );
            diagnostic = match suggest::best(type_name, FIELD_TYPE_NAMES.iter().copied()) {
                Some(best) => diagnostic.with_replacement(best),
                None => diagnostic.with_help(format!("the field types are {}", FIELD_TYPE_NAMES.join(", "))),
            };
            self.report(diagnostic);
        }
        if let Some((size_text, size_span)) = &field.ty.size {
            let size: Option<u32> = size_text.parse().ok();
            kind = match (kind, size) {
                (Some(FieldKind::Text(_)), Some(length)) if length > 0 => Some(FieldKind::Text(Some(length))),
                (Some(FieldKind::Float(_)), Some(scale)) if scale <= 28 => Some(FieldKind::Float(scale)),
                (Some(other), _) => {
                    let help = match other {
                        FieldKind::Text(_) => "`text(N)` needs a length of at least 1",
                        FieldKind::Float(_) => "`float(S)` takes at most 28 decimal places",
                        _ => "only `text(N)` and `float(S)` take a number",
                    };
                    self.report(
                        Diagnostic::new(
                            Code::E0307,
                            format!("invalid type parameter `{type_name}({size_text})`"),
                            self.at(module, *size_span),
                            "not allowed here",
                        )
                        .with_help(help),
                    );
                    Some(other)
                }
                (None, _) => None,
            };
        }
        for flag in &field.flags {
            let allowed = match flag.name.as_str() {
                "html" => matches!(kind, Some(FieldKind::Textarea)),
                "multiple" => matches!(kind, Some(FieldKind::Attachment | FieldKind::Select)),
                _ => false,
            };
            if !allowed && kind.is_some() {
                let owner = if flag.name == "html" { "`textarea`" } else { "`attachment` and `select`" };
                self.report(
                    Diagnostic::new(
                        Code::E0307,
                        format!("flag `{}` does not apply to `{type_name}` fields", flag.name),
                        self.at(module, flag.span),
                        "not allowed here",
                    )
                    .with_help(format!("`{}` is a flag of {owner} fields", flag.name)),
                );
            }
        }
        // `select … multiple` holds a list of option keys.
        if kind == Some(FieldKind::Select) && field.flags.iter().any(|flag| flag.name == "multiple") {
            kind = Some(FieldKind::SelectMultiple);
        }
        let select = self.check_options(module, field, kind.as_ref());
        match kind {
            Some(FieldKind::Link) if field.label.is_none() || field.extra.is_none() => {
                self.report(
                    Diagnostic::new(
                        Code::E0308,
                        format!("link `{}` needs a label and a URL", field.name.name),
                        self.at(module, field.name.span),
                        "incomplete link",
                    )
                    .with_help(format!("write `{}: link \"label\" \"https://…\"`", field.name.name)),
                );
            }
            Some(FieldKind::Note) if field.label.is_none() => {
                self.report(
                    Diagnostic::new(
                        Code::E0308,
                        format!("note `{}` needs its text", field.name.name),
                        self.at(module, field.name.span),
                        "no text",
                    )
                    .with_help(format!("write `{}: note \"the text to show\"`", field.name.name)),
                );
            }
            _ => {}
        }
        if kind == Some(FieldKind::Serial) {
            self.check_serial(module, field, detail.is_some());
        }
        if let (Some(extra), Some(other)) = (&field.extra, &kind) {
            if !matches!(other, FieldKind::Link | FieldKind::Serial) {
                self.report(
                    Diagnostic::new(
                        Code::E0307,
                        "only `link` and `serial` fields take a second string",
                        self.at(module, extra.span),
                        "unexpected string",
                    )
                    .with_help(
                        "a field has one label; a `link` has a label and a URL, a `serial` a label and a pattern",
                    ),
                );
            }
        }
        let ty = kind.as_ref().map_or(Ty::Unknown, |kind| kind.value_ty(select.as_ref()));
        info.fields.push(FieldInfo { decl: field, kind, detail, select, ty });
        info.fields.len() - 1
    }

    fn check_options(&self, module: usize, field: &'a FieldDecl, kind: Option<&FieldKind>) -> Option<Rc<SelectInfo>> {
        let is_select = kind.is_some_and(FieldKind::has_options);
        let several_defaults = kind == Some(&FieldKind::SelectMultiple);
        let Some(options) = &field.options else {
            if is_select {
                self.report(
                    Diagnostic::new(
                        Code::E0303,
                        format!("select `{}` has no options", field.name.name),
                        self.at(module, field.name.span),
                        "no options",
                    )
                    .with_help(format!(
                        "list the options: `{}: select \"label\" {{ 甲 \"选项一\" default  乙 \"选项二\" }}`",
                        field.name.name
                    )),
                );
                return Some(Rc::new(SelectInfo {
                    field: field.name.name.clone(),
                    options: Vec::new(),
                    declared: Vec::new(),
                }));
            }
            return None;
        };
        if !is_select {
            if let Some(first) = options.first() {
                self.report(
                    Diagnostic::new(
                        Code::E0307,
                        format!("`{}` is not a select, so it has no options", field.name.name),
                        self.at(module, first.span),
                        "options on a non-select field",
                    )
                    .with_help("make the field a `select`, or remove the `{ … }`"),
                );
            }
            return None;
        }
        if options.is_empty() {
            self.report(Diagnostic::new(
                Code::E0303,
                format!("select `{}` has no options", field.name.name),
                self.at(module, field.name.span),
                "empty option list",
            ));
        }
        let mut first_default: Option<Span> = None;
        let mut keys: HashMap<&str, Span> = HashMap::new();
        for option in options {
            self.check_label(module, option.label.as_ref());
            if let Some(first) = keys.insert(option.key.name.as_str(), option.key.span) {
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        format!("option `{}` is listed twice", option.key.name),
                        self.at(module, option.key.span),
                        "listed again",
                    )
                    .with_secondary(self.at(module, first), "first listed here"),
                );
            }
            if let Some(default) = option.default.filter(|_| !several_defaults) {
                match first_default {
                    Some(first) => self.report(
                        Diagnostic::new(
                            Code::E0303,
                            format!("select `{}` has more than one default", field.name.name),
                            self.at(module, default),
                            "second default",
                        )
                        .with_secondary(self.at(module, first), "first default")
                        .with_help("keep `default` on one option"),
                    ),
                    None => first_default = Some(default),
                }
            }
        }
        Some(Rc::new(SelectInfo {
            field: field.name.name.clone(),
            options: options
                .iter()
                .map(|option| (option.key.name.clone(), option.label.as_ref().map(|label| label.value.clone())))
                .collect(),
            declared: options.iter().map(|option| self.at(module, option.key.span)).collect(),
        }))
    }

    /// Formulas and validations of one form.
    pub(super) fn check_form(&self, form: &FormInfo<'a>) {
        let module = form.item.module;
        let mut dependencies: Vec<Vec<usize>> = vec![Vec::new(); form.fields.len()];
        let mut column_rules: HashMap<(usize, &str), usize> = HashMap::new();
        for (index, field) in form.fields.iter().enumerate() {
            let Some(formula) = &field.decl.formula else { continue };
            if let Some(kind) = &field.kind {
                if matches!(kind, FieldKind::Attachment | FieldKind::Link | FieldKind::Note | FieldKind::Serial) {
                    self.report(
                        Diagnostic::new(
                            Code::E0207,
                            format!(
                                "`{}` is a {} field and cannot have a formula",
                                field.decl.name.name, field.decl.ty.name.name
                            ),
                            self.at(module, formula.span),
                            "no formula allowed",
                        )
                        .with_help("only fields that hold values can be computed"),
                    );
                    continue;
                }
            }
            let mode = match field.detail {
                Some(detail) => Mode::Row(detail),
                None => Mode::MainFormula,
            };
            let env = Env::new(module, mode).with_form(Some(form));
            let ty = self.expr(&env, formula);
            if let Some(slot) = dependencies.get_mut(index) {
                *slot = env.reads.into_inner();
            }
            if field.detail.is_none() {
                if let Some((function, column)) = column_rule(form, formula) {
                    // A column rule's type rule (E0201) replaces the store check.
                    if !self.check_column_rule(form, index, function, column, &mut column_rules) {
                        continue;
                    }
                }
            }
            self.check_store(module, field, &ty, formula, field.decl.name.span);
        }
        for member in &form.decl.members {
            match member {
                FormMember::Validate(validate) => {
                    let env = Env::new(module, Mode::MainFormula).with_form(Some(form));
                    self.expect_bool(&env, &validate.condition, "a `validate` rule must be a check (boolean)");
                }
                FormMember::Detail(detail) => {
                    let detail_index =
                        form.details.iter().position(|info| std::ptr::eq(info.decl, detail)).unwrap_or(0);
                    for validate in &detail.validates {
                        let env = Env::new(module, Mode::Row(detail_index)).with_form(Some(form));
                        self.expect_bool(&env, &validate.condition, "a `validate` rule must be a check (boolean)");
                    }
                }
                FormMember::Field(_) => {}
            }
        }
        self.check_cycles(form, &dependencies);
    }

    /// Returns whether the types matched.
    fn check_column_rule(
        &self,
        form: &FormInfo<'a>,
        main: usize,
        function: &'a str,
        column: usize,
        seen: &mut HashMap<(usize, &'a str), usize>,
    ) -> bool {
        let module = form.item.module;
        let (Some(main_field), Some(column_field)) = (form.fields.get(main), form.fields.get(column)) else {
            return true;
        };
        let mut types_match = true;
        if function != "count" {
            if let (Some(main_kind), Some(column_kind)) = (&main_field.kind, &column_field.kind) {
                let matches = match column_kind {
                    // An average of integers is a decimal.
                    FieldKind::Int if function == "avg" => main_kind.is_decimal(),
                    FieldKind::Int => *main_kind == FieldKind::Int,
                    kind if kind.is_decimal() => main_kind.is_decimal(),
                    _ => true,
                };
                if !matches {
                    types_match = false;
                    self.report(
                        Diagnostic::new(
                            Code::E0201,
                            format!(
                                "column rule: `{}` is {} but the column `{}` is {}",
                                main_field.decl.name.name, main_field.decl.ty.name.name, column_field.decl.name.name, column_field.decl.ty.name.name
                            ),
                            self.at(module, main_field.decl.name.span),
                            format!("{} field", main_field.decl.ty.name.name),
                        )
                        .with_secondary(self.at(module, column_field.decl.ty.span), format!("the column is {}", column_field.decl.ty.name.name))
                        .with_help("an int column sums into an int field (its `avg` into a float or money field); a float/money column into a float, money or money_upper field (manual 5.3.6)"),
                    );
                }
            }
        }
        if let Some(&first) = seen.get(&(column, function)) {
            let first_span = form.fields.get(first).map_or(Span::default(), |field| field.decl.name.span);
            self.report(
                Diagnostic::new(
                    Code::E0202,
                    format!(
                        "`{function}` of the column `{}` is already assigned to `{}`",
                        column_field.decl.name.name,
                        form.fields.get(first).map_or("", |f| f.decl.name.name.as_str())
                    ),
                    self.at(module, main_field.decl.name.span),
                    "assigned a second time",
                )
                .with_secondary(self.at(module, first_span), "first assigned here")
                .with_help(format!(
                    "one detail column's {function} goes to one main field (manual 5.3.6); read that field instead"
                )),
            );
        } else {
            seen.insert((column, function), main);
        }
        types_match
    }

    /// Cycles among formulas, each reported once on its first field in
    /// source order, with the other fields as secondary labels.
    fn check_cycles(&self, form: &FormInfo<'a>, dependencies: &[Vec<usize>]) {
        let module = form.item.module;
        let count = form.fields.len();
        // Remove fields that cannot be on a cycle (Kahn's algorithm on
        // "depends on computed field" edges), then walk what is left.
        let computed = |index: usize| form.fields.get(index).is_some_and(FieldInfo::is_computed);
        let edges: Vec<Vec<usize>> =
            dependencies.iter().map(|deps| deps.iter().copied().filter(|&dep| computed(dep)).collect()).collect();
        let mut outgoing: Vec<usize> = edges.iter().map(Vec::len).collect();
        let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (from, targets) in edges.iter().enumerate() {
            for &target in targets {
                if let Some(list) = incoming.get_mut(target) {
                    list.push(from);
                }
            }
        }
        let mut ready: Vec<usize> = (0..count).filter(|&index| outgoing.get(index) == Some(&0)).collect();
        let mut removed = vec![false; count];
        while let Some(index) = ready.pop() {
            if let Some(flag) = removed.get_mut(index) {
                *flag = true;
            }
            for &from in incoming.get(index).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(remaining) = outgoing.get_mut(from) {
                    *remaining = remaining.saturating_sub(1);
                    if *remaining == 0 {
                        ready.push(from);
                    }
                }
            }
        }
        let mut reported = vec![false; count];
        for start in 0..count {
            if removed.get(start) != Some(&false) || reported.get(start) == Some(&true) {
                continue;
            }
            // Follow edges inside the remaining set until a field repeats.
            let mut path = vec![start];
            let mut position: HashMap<usize, usize> = HashMap::from([(start, 0)]);
            let mut current = start;
            let cycle = loop {
                let next = edges
                    .get(current)
                    .and_then(|targets| targets.iter().copied().find(|&target| removed.get(target) == Some(&false)));
                let Some(next) = next else { break None };
                if reported.get(next) == Some(&true) {
                    break None;
                }
                if let Some(&at) = position.get(&next) {
                    break path.get(at..).map(<[usize]>::to_vec);
                }
                position.insert(next, path.len());
                path.push(next);
                current = next;
            };
            for &index in &path {
                if let Some(flag) = reported.get_mut(index) {
                    *flag = true;
                }
            }
            let Some(mut cycle) = cycle else { continue };
            // Start the cycle at its first field in source order.
            let first_position =
                cycle.iter().enumerate().min_by_key(|(_, &index)| index).map_or(0, |(position, _)| position);
            cycle.rotate_left(first_position);
            let names: Vec<String> = cycle
                .iter()
                .filter_map(|&index| form.fields.get(index))
                .map(|field| format!("`{}`", field.decl.name.name))
                .collect();
            let Some(first) = cycle.first().and_then(|&index| form.fields.get(index)) else { continue };
            let mut description = names.join(" → ");
            description.push_str(" → ");
            description.push_str(names.first().map_or("", String::as_str));
            let mut diagnostic = Diagnostic::new(
                Code::E0204,
                format!("formulas form a cycle: {description}"),
                self.at(module, first.decl.name.span),
                if cycle.len() == 1 { "this formula reads its own field".to_string() } else { format!("`{}` depends on `{}`", first.decl.name.name, cycle.get(1).and_then(|&i| form.fields.get(i)).map_or("", |f| f.decl.name.name.as_str())) },
            )
            .with_help("a computed field cannot depend on itself, even through other fields; break the cycle by making one of them an input");
            for (position, &index) in cycle.iter().enumerate().skip(1) {
                let Some(field) = form.fields.get(index) else { continue };
                let next = cycle
                    .get((position + 1) % cycle.len())
                    .and_then(|&i| form.fields.get(i))
                    .map_or("", |f| f.decl.name.name.as_str());
                diagnostic = diagnostic.with_secondary(
                    self.at(module, field.decl.name.span),
                    format!("`{}` depends on `{next}`", field.decl.name.name),
                );
            }
            self.report(diagnostic);
        }
    }

    /// W0305: a field of a form some workflow uses that has no formula, is
    /// editable at no node and is assigned by no action.
    pub(super) fn check_unfilled_fields(&self) {
        let filled = self.filled.borrow();
        let mut forms: Vec<(&ItemRef, &(std::collections::HashSet<usize>, bool))> = filled.iter().collect();
        forms.sort_by_key(|(item, _)| (item.module, item.index));
        for (item, (fields, scripted)) in forms {
            if *scripted {
                continue;
            }
            let Some(form) = self.forms.get(item) else { continue };
            if form.decl.broken || self.module_incomplete(item.module) {
                continue;
            }
            if self.modules.get(item.module).is_none_or(|module| module.is_prelude) {
                continue;
            }
            for (index, field) in form.fields.iter().enumerate() {
                if field.is_computed() || field.is_display_only() || fields.contains(&index) || field.kind.is_none() {
                    continue;
                }
                // A duplicate declaration already has its own error.
                if form.names.get(field.decl.name.name.as_str()) != Some(&Named::Field(index)) {
                    continue;
                }
                let has_default = field
                    .decl
                    .options
                    .as_ref()
                    .is_some_and(|options| options.iter().any(|option| option.default.is_some()));
                if has_default {
                    continue;
                }
                self.report(
                    Diagnostic::new(
                        Code::W0305,
                        format!("field `{}` is never filled", field.decl.name.name),
                        self.at(item.module, field.decl.name.span),
                        "no formula, editable at no node, assigned by no action",
                    )
                    .with_help(format!(
                        "list it as `editable {}` at the node where it is filled in, give it a formula, or remove it",
                        field.decl.name.name
                    )),
                );
            }
        }
    }
}

/// `sum(明细.金额)` as a whole formula: the aggregate and the column.
fn column_rule<'a>(form: &FormInfo<'a>, formula: &'a Expr) -> Option<(&'a str, usize)> {
    let ExprKind::Call(callee, arguments) = &formula.kind else { return None };
    let ExprKind::Name(function) = &callee.kind else { return None };
    if !matches!(function.name.as_str(), "sum" | "count" | "avg" | "min" | "max") {
        return None;
    }
    let [argument] = arguments.as_slice() else { return None };
    let ExprKind::Member(table, column) = &argument.kind else { return None };
    let ExprKind::Name(table) = &table.kind else { return None };
    let Some(Named::Detail(detail)) = form.names.get(table.name.as_str()) else { return None };
    let info = form.details.get(*detail)?;
    let index = info
        .fields
        .iter()
        .copied()
        .find(|&index| form.fields.get(index).is_some_and(|field| field.decl.name.name == column.name))?;
    Some((function.name.as_str(), index))
}
