//! Finding the syntax of a declaration from its name's span, for hover and
//! completion.

use crate::check::Analysis;
use crate::source::{FileId, FileSpan};
use crate::syntax::ast::*;

pub enum Decl<'a> {
    Form(&'a FormItem),
    Field(&'a FormItem, &'a FieldDecl),
    SelectOption(&'a FieldDecl, &'a SelectOption),
    Detail(&'a FormItem, &'a DetailDecl),
    Workflow(&'a WorkflowItem),
    Node(&'a WorkflowItem, &'a Node),
    Exit(&'a Node, &'a Exit),
    Function(&'a FnItem),
    Constant(&'a ConstItem),
    Parameter(&'a FnItem, &'a Param),
}

pub fn items(analysis: &Analysis, file: FileId) -> &[Item] {
    analysis.modules.iter().find(|module| module.file == file).map_or(&[], |module| module.ast.items.as_slice())
}

pub fn find(analysis: &Analysis, at: FileSpan) -> Option<Decl<'_>> {
    for item in items(analysis, at.file) {
        match item {
            Item::Use(_) | Item::Test(_) => {}
            Item::Const(constant) if constant.name.span == at.span => return Some(Decl::Constant(constant)),
            Item::Const(_) => {}
            Item::Fn(function) => {
                if function.name.span == at.span {
                    return Some(Decl::Function(function));
                }
                if let Some(param) = function.params.iter().find(|param| param.name.span == at.span) {
                    return Some(Decl::Parameter(function, param));
                }
            }
            Item::Form(form) => {
                if form.name.span == at.span {
                    return Some(Decl::Form(form));
                }
                for (field, _) in fields(form) {
                    if let Some(option) = field.options.iter().flatten().find(|option| option.key.span == at.span) {
                        return Some(Decl::SelectOption(field, option));
                    }
                }
                for member in &form.members {
                    match member {
                        FormMember::Field(field) if field.name.span == at.span => {
                            return Some(Decl::Field(form, field))
                        }
                        FormMember::Detail(detail) => {
                            if detail.name.span == at.span {
                                return Some(Decl::Detail(form, detail));
                            }
                            if let Some(field) = detail.fields.iter().find(|field| field.name.span == at.span) {
                                return Some(Decl::Field(form, field));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Workflow(workflow) => {
                if workflow.name.span == at.span {
                    return Some(Decl::Workflow(workflow));
                }
                for node in &workflow.nodes {
                    if node.name.span == at.span {
                        return Some(Decl::Node(workflow, node));
                    }
                    if let Some(exit) = node.exits.iter().find(|exit| exit.name.span == at.span) {
                        return Some(Decl::Exit(node, exit));
                    }
                }
            }
        }
    }
    None
}

/// Every form of the analysis, with its file.
pub fn forms(analysis: &Analysis) -> impl Iterator<Item = (FileId, &FormItem)> {
    analysis.modules.iter().flat_map(|module| {
        module.ast.items.iter().filter_map(move |item| match item {
            Item::Form(form) => Some((module.file, form)),
            _ => None,
        })
    })
}

/// The form a workflow names in its `form` setting.
pub fn form_of<'a>(analysis: &'a Analysis, workflow: &WorkflowItem) -> Option<&'a FormItem> {
    let name = workflow.settings.iter().find_map(|setting| match &setting.kind {
        SettingKind::Form(name) => Some(name.name.as_str()),
        _ => None,
    })?;
    forms(analysis).map(|(_, form)| form).find(|form| form.name.name == name)
}

/// Every field of a form, main fields and detail columns, with the detail
/// table a column belongs to.
pub fn fields(form: &FormItem) -> Vec<(&FieldDecl, Option<&DetailDecl>)> {
    let mut all = Vec::new();
    for member in &form.members {
        match member {
            FormMember::Field(field) => all.push((field, None)),
            FormMember::Detail(detail) => all.extend(detail.fields.iter().map(|field| (field, Some(detail)))),
            FormMember::Validate(_) => {}
        }
    }
    all
}
