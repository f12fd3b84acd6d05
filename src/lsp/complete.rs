//! Completion that knows where the cursor is: keywords valid there, field
//! names in scope (a detail's own columns inside its row formulas), node
//! names after `->`, members after `.` by the type on the left, option
//! strings when comparing a select field, built-in functions with snippets,
//! field types after `:`. Works from tokens, so half-written files complete.

use lsp_types as lsp;

use super::decls;
use crate::check::members::{self, members_of, Member};
use crate::check::types::{FieldKind, Ty, FIELD_TYPE_NAMES};
use crate::check::Analysis;
use crate::source::FileId;
use crate::syntax::ast::{FieldDecl, FormItem, Item, WorkflowItem};
use crate::syntax::lexer::{self, Token, TokenKind};

/// What the innermost `{ … }` around the cursor is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Form(String),
    Detail(String),
    Workflow(String),
    Node,
    /// `fork { … }` inside a node: its exits.
    Fork,
    Operators,
    Options,
    Statements,
    /// A `test NAME { … }` item (docs/testing.md).
    Test,
    /// A `form { … }` or `set { … }` inside a test: field names.
    TestValues,
}

struct Context<'a> {
    analysis: &'a Analysis,
    file: FileId,
    text: &'a str,
    /// Significant tokens before the cursor (without the word being typed).
    tokens: Vec<Token>,
    blocks: Vec<Block>,
    offset: usize,
    /// An open string the cursor is in (`== "差`): its start, so a chosen
    /// option replaces what was typed, quote included.
    open_string: Option<usize>,
}

pub fn completion(analysis: &Analysis, file: FileId, offset: usize) -> Vec<lsp::CompletionItem> {
    let Some(source) = analysis.sources.get(file) else { return Vec::new() };
    let text: &str = &source.text;
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let mut all = lexer::tokenize(before);
    let mut open_string = None;
    if let Some(last) = all.last().copied() {
        let inside_comment = matches!(last.kind, TokenKind::LineComment | TokenKind::DocComment)
            || (last.kind == TokenKind::BlockComment && !before.ends_with("*/"));
        if inside_comment {
            return Vec::new();
        }
        if last.kind == TokenKind::UnterminatedString {
            all.pop();
            let string_start = last.span.start as usize;
            let body = before.get(string_start + 1..).unwrap_or("");
            match open_title_hole(body) {
                // Inside `title "…{expr`: complete the expression.
                Some(hole) => {
                    let hole_start = string_start + 1 + hole;
                    let hole_text = before.get(hole_start..).unwrap_or("");
                    all.extend(
                        lexer::tokenize(hole_text)
                            .into_iter()
                            .map(|token| Token { kind: token.kind, span: token.span.shifted(hole_start) }),
                    );
                }
                None => open_string = Some(string_start),
            }
        }
    }
    let mut tokens: Vec<Token> = all.into_iter().filter(|token| !token.kind.is_trivia()).collect();
    if tokens.last().is_some_and(|token| token.kind == TokenKind::Ident && token.span.end as usize == offset) {
        tokens.pop();
    }
    let blocks = blocks(text, &tokens);
    let context = Context { analysis, file, text, tokens, blocks, offset, open_string };
    if let Some(start) = context.open_string {
        // Inside a plain string only option strings complete.
        return context.select_options_in_string(start).unwrap_or_default();
    }
    context.items()
}

/// Where an unclosed `{` hole starts in a string body (`{{` is a brace).
fn open_title_hole(body: &str) -> Option<usize> {
    let mut open = None;
    let mut index = 0;
    let bytes = body.as_bytes();
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'{' if bytes.get(index + 1) == Some(&b'{') => index += 1,
            b'}' if bytes.get(index + 1) == Some(&b'}') => index += 1,
            b'{' => open = Some(index + 1),
            b'}' => open = None,
            _ => {}
        }
        index += 1;
    }
    open
}

fn word<'t>(text: &'t str, token: &Token) -> &'t str {
    text.get(token.span.range()).unwrap_or("")
}

/// The stack of blocks open at the end of `tokens`.
fn blocks(text: &str, tokens: &[Token]) -> Vec<Block> {
    let mut stack: Vec<Block> = Vec::new();
    let mut statement_start = 0;
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LBrace => {
                let head = tokens.get(statement_start..index).unwrap_or(&[]);
                let block = if matches!(stack.last(), Some(Block::Test | Block::TestValues)) {
                    Block::TestValues
                } else {
                    classify(text, head, stack.is_empty())
                };
                stack.push(block);
                statement_start = index + 1;
            }
            TokenKind::RBrace => {
                stack.pop();
                statement_start = index + 1;
            }
            _ => {}
        }
    }
    stack
}

fn classify(text: &str, head: &[Token], top_level: bool) -> Block {
    let words: Vec<&str> = head.iter().map(|token| word(text, token)).collect();
    if top_level && words.first() == Some(&"test") {
        return Block::Test;
    }
    let tail = |keyword: &str| -> Option<String> {
        let position = words.iter().rposition(|candidate| *candidate == keyword)?;
        (words.len() - position <= 3).then(|| words.get(position + 1).map(|name| name.to_string())).flatten()
    };
    if words.last() == Some(&"fork") {
        return Block::Fork;
    }
    if let Some(name) = tail("detail") {
        return Block::Detail(name);
    }
    if let Some(position) = words.iter().rposition(|candidate| *candidate == "node") {
        if words.get(position..).is_some_and(|rest| rest.contains(&":")) {
            return Block::Node;
        }
    }
    // `form NAME {` opens a form only at the top level (inside a
    // workflow, `form NAME` is a setting).
    if let Some(name) = tail("form") {
        if top_level {
            return Block::Form(name);
        }
    }
    if let Some(name) = tail("workflow") {
        return Block::Workflow(name);
    }
    if let Some(position) =
        words.iter().rposition(|candidate| matches!(*candidate, "operators" | "batch" | "supervisors"))
    {
        if words.len() - position <= 2 {
            return Block::Operators;
        }
    }
    if let Some(colon) = words.iter().rposition(|candidate| *candidate == ":") {
        if words.get(colon + 1) == Some(&"select") {
            return Block::Options;
        }
    }
    Block::Statements
}

fn item(label: &str, kind: lsp::CompletionItemKind, detail: Option<String>) -> lsp::CompletionItem {
    lsp::CompletionItem { label: label.to_string(), kind: Some(kind), detail, ..lsp::CompletionItem::default() }
}

fn keywords(words: &[&str]) -> Vec<lsp::CompletionItem> {
    words.iter().map(|word| item(word, lsp::CompletionItemKind::KEYWORD, None)).collect()
}

impl<'a> Context<'a> {
    fn previous(&self, back: usize) -> Option<&str> {
        let index = self.tokens.len().checked_sub(back + 1)?;
        self.tokens.get(index).map(|token| word(self.text, token))
    }

    fn innermost(&self) -> Option<&Block> {
        self.blocks.last()
    }

    fn workflow(&self) -> Option<&'a WorkflowItem> {
        if matches!(self.blocks.first(), Some(Block::Test)) {
            let name = self.test_workflow_name()?;
            // A test's workflow is usually in the file it `use`s.
            return self.analysis.modules.iter().flat_map(|module| &module.ast.items).find_map(|item| match item {
                Item::Workflow(workflow) if workflow.name.name == name => Some(workflow),
                _ => None,
            });
        }
        let name = self.blocks.iter().find_map(|block| match block {
            Block::Workflow(name) => Some(name.as_str()),
            _ => None,
        })?;
        decls::items(self.analysis, self.file).iter().find_map(|item| match item {
            Item::Workflow(workflow) if workflow.name.name == name => Some(workflow),
            _ => None,
        })
    }

    /// The form whose fields are in scope: the enclosing form, or the
    /// enclosing workflow's form.
    fn form(&self) -> Option<&'a FormItem> {
        let form_name = self.blocks.iter().find_map(|block| match block {
            Block::Form(name) => Some(name.clone()),
            _ => None,
        });
        match form_name {
            Some(name) => decls::forms(self.analysis).map(|(_, form)| form).find(|form| form.name.name == name),
            None => decls::form_of(self.analysis, self.workflow()?),
        }
    }

    fn detail(&self) -> Option<&str> {
        self.blocks.iter().rev().find_map(|block| match block {
            Block::Detail(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Whether the word being typed starts its line (a statement position).
    fn at_line_start(&self) -> bool {
        match self.tokens.last() {
            None => true,
            Some(last) => {
                let gap = self.text.get(last.span.end as usize..self.offset).unwrap_or("");
                let continues = matches!(last.kind, TokenKind::Assign | TokenKind::Comma | TokenKind::Arrow)
                    || is_operator(last.kind)
                    || (last.kind == TokenKind::Ident && CONTINUING_WORDS.contains(&word(self.text, last)));
                matches!(last.kind, TokenKind::LBrace | TokenKind::RBrace | TokenKind::Semi)
                    || (gap.contains('\n') && !continues)
            }
        }
    }

    /// `workflow NAME` in the test around the cursor, read from tokens (the test may not parse yet).
    fn test_workflow_name(&self) -> Option<String> {
        let tokens: Vec<Token> =
            lexer::tokenize(self.text).into_iter().filter(|token| !token.kind.is_trivia()).collect();
        let mut depth = 0usize;
        let mut test_start = None;
        for (index, token) in tokens.iter().enumerate() {
            if token.span.start as usize >= self.offset && test_start.is_some() && depth == 0 {
                break;
            }
            match token.kind {
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => depth = depth.saturating_sub(1),
                TokenKind::Ident if depth == 0 && word(self.text, token) == "test" => test_start = Some(index),
                _ => {}
            }
        }
        let start = test_start?;
        let mut depth = 0usize;
        for pair in tokens.get(start..)?.windows(2) {
            let [first, second] = pair else { continue };
            match first.kind {
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace if depth <= 1 => return None,
                TokenKind::RBrace => depth -= 1,
                TokenKind::Ident if depth == 1 && word(self.text, first) == "workflow" => {
                    return Some(word(self.text, second).to_owned());
                }
                _ => {}
            }
        }
        None
    }

    /// Completion inside a `test` item: its keywords, workflows, nodes, exits, fields, codes.
    fn test_items(&self, previous: &str) -> Vec<lsp::CompletionItem> {
        let workflow = self.workflow();
        match previous {
            "workflow" => {
                return self
                    .analysis
                    .modules
                    .iter()
                    .filter(|module| !module.is_prelude)
                    .flat_map(|module| &module.ast.items)
                    .filter_map(|item| match item {
                        Item::Workflow(workflow) => Some(item_of_workflow(workflow)),
                        _ => None,
                    })
                    .collect()
            }
            "node" => return self.node_names(),
            "exit" => {
                return workflow
                    .map(|workflow| {
                        workflow
                            .nodes
                            .iter()
                            .flat_map(|node| {
                                node.exits.iter().map(move |exit| {
                                    item(
                                        &exit.name.name,
                                        lsp::CompletionItemKind::EVENT,
                                        Some(format!("exit of {}", node.name.name)),
                                    )
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            }
            "refused" => {
                return crate::diag::ALL_CODES
                    .iter()
                    .filter(|code| code.as_str().starts_with('R'))
                    .map(|code| item(code.as_str(), lsp::CompletionItemKind::CONSTANT, Some(code.summary().to_owned())))
                    .collect()
            }
            "status" => return keywords(crate::check::TEST_STATUSES),
            "expect" | "," if self.in_expect_line() => {
                let mut items = keywords(&["node", "pending", "status", "exit", "batch"]);
                items.extend(self.field_names(true));
                return items;
            }
            _ => {}
        }
        if matches!(self.innermost(), Some(Block::TestValues)) {
            return self.field_names(true);
        }
        if self.at_line_start() {
            return keywords(&[
                "workflow",
                "creator",
                "form",
                "org",
                "now",
                "submit",
                "reject",
                "comment",
                "forward",
                "cc",
                "withdraw",
                "supervise",
                "force_archive",
                "force_return",
                "until",
                "expect",
            ]);
        }
        keywords(&["opinion", "set", "to", "at", "node", "request", "refused"])
    }

    /// Whether the cursor is in an `expect …, …` line.
    fn in_expect_line(&self) -> bool {
        for token in self.tokens.iter().rev() {
            if token.kind == TokenKind::Ident && word(self.text, token) == "expect" {
                return true;
            }
            let gap_has_newline =
                self.text.get(token.span.end as usize..self.offset).is_some_and(|gap| gap.contains('\n'));
            if matches!(token.kind, TokenKind::LBrace | TokenKind::RBrace)
                || (gap_has_newline && token.kind != TokenKind::Comma)
            {
                return false;
            }
        }
        false
    }

    fn items(&self) -> Vec<lsp::CompletionItem> {
        let previous = self.previous(0).unwrap_or("");
        if matches!(self.blocks.first(), Some(Block::Test)) {
            return self.test_items(previous);
        }
        match previous {
            "->" => return self.node_names(),
            "." => return self.members(),
            "operators" => return keywords(&["any", "all", "sequential"]),
            "==" | "!=" => {
                if let Some(options) = self.select_options(1) {
                    return options;
                }
            }
            "[" if self.previous(1) == Some("in") => {
                if let Some(options) = self.select_options(2) {
                    return options;
                }
            }
            ":" => return self.after_colon(),
            "form" if matches!(self.innermost(), Some(Block::Workflow(_))) => {
                return decls::forms(self.analysis)
                    .map(|(_, form)| {
                        item(
                            &form.name.name,
                            lsp::CompletionItemKind::CLASS,
                            form.label.as_ref().map(|l| l.value.clone()),
                        )
                    })
                    .collect();
            }
            "editable" | "required" | "hidden" => return self.field_names(true),
            "," if self.in_setting_list() => return self.field_names(true),
            "wait" if matches!(self.innermost(), Some(Block::Node)) => {
                let mut items = keywords(&["all"]);
                items.extend(self.branch_names());
                return items;
            }
            "," if self.in_wait_list() => return self.branch_names(),
            _ => {}
        }
        if self.at_line_start() {
            let statement_keywords: Option<&[&str]> = match self.innermost() {
                None => Some(&["use", "const", "fn", "form", "workflow", "test"]),
                Some(Block::Workflow(_)) => {
                    Some(&["node", "category", "form", "title", "remind", "portal", "inactive", "supervisors"])
                }
                Some(Block::Node) => Some(&[
                    "operators",
                    "editable",
                    "required",
                    "hidden",
                    "validate",
                    "allow",
                    "before",
                    "after",
                    "exit",
                    "return",
                    "fork",
                    "wait",
                    "deadline",
                    "start",
                ]),
                Some(Block::Fork) => Some(&["exit"]),
                Some(Block::Form(_)) => Some(&["detail", "validate"]),
                Some(Block::Detail(_)) => Some(&["validate"]),
                Some(Block::Options) => Some(&["default", "folder"]),
                Some(Block::Statements) | Some(Block::Operators) | Some(Block::Test) | Some(Block::TestValues) => None,
            };
            if let Some(words) = statement_keywords {
                let mut items = keywords(words);
                if matches!(self.innermost(), Some(Block::Operators)) {
                    items.extend(keywords(&["batch"]));
                }
                return items;
            }
            if matches!(self.innermost(), Some(Block::Statements)) {
                let mut items = keywords(&["if", "script"]);
                items.extend(self.field_names(false));
                return items;
            }
        }
        self.expression_names()
    }

    /// Whether the cursor follows `wait a, b,` (a list of branches).
    fn in_wait_list(&self) -> bool {
        for token in self.tokens.iter().rev() {
            match token.kind {
                TokenKind::Comma => continue,
                TokenKind::Ident if word(self.text, token) == "wait" => return true,
                TokenKind::Ident => continue,
                _ => return false,
            }
        }
        false
    }

    /// The branches a `wait` may name: those of the fork that merges at the
    /// node being edited, or, when that is not known yet, of every fork.
    fn branch_names(&self) -> Vec<lsp::CompletionItem> {
        let Some(workflow) = self.workflow() else { return Vec::new() };
        // The node being edited may not parse yet: its name is the word after the last `node`.
        let here = self
            .tokens
            .iter()
            .rposition(|token| word(self.text, token) == "node")
            .and_then(|position| self.tokens.get(position + 1))
            .map(|token| word(self.text, token));
        let found = crate::check::branches::analyse(workflow);
        // The fork whose branches lead here: the innermost branch of every exit to this node.
        let mut forks = workflow.nodes.iter().enumerate().flat_map(|(index, node)| {
            let found = &found;
            node.exits.iter().filter(move |exit| Some(exit.target.name.as_str()) == here).filter_map(move |exit| {
                if exit.fork.is_some() {
                    Some(index)
                } else {
                    found.path(index).last().map(|step| step.fork)
                }
            })
        });
        let first = forks.next();
        let fork = first.filter(|first| forks.all(|other| other == *first));
        workflow
            .nodes
            .iter()
            .enumerate()
            .filter(|(index, _)| fork.is_none_or(|fork| fork == *index))
            .flat_map(|(_, node)| node.exits.iter().filter(|exit| exit.fork.is_some()).map(move |exit| (node, exit)))
            .map(|(node, exit)| {
                item(
                    &exit.name.name,
                    lsp::CompletionItemKind::ENUM_MEMBER,
                    Some(format!("branch of the fork at `{}`", node.name.name)),
                )
            })
            .collect()
    }

    /// Whether the cursor follows `editable a, b.c,` (a field list).
    fn in_setting_list(&self) -> bool {
        for token in self.tokens.iter().rev() {
            match token.kind {
                TokenKind::Comma | TokenKind::Dot => continue,
                TokenKind::Ident => match word(self.text, token) {
                    "editable" | "required" | "hidden" => return true,
                    _ => continue,
                },
                _ => return false,
            }
        }
        false
    }

    fn node_names(&self) -> Vec<lsp::CompletionItem> {
        let mut items: Vec<lsp::CompletionItem> = self
            .workflow()
            .map(|workflow| {
                workflow
                    .nodes
                    .iter()
                    .map(|node| {
                        let label = node.label.as_ref().map_or(String::new(), |label| format!(" “{}”", label.value));
                        item(
                            &node.name.name,
                            lsp::CompletionItemKind::EVENT,
                            Some(format!("{} node{label}", node.kind.name)),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A node being edited may not parse yet: take `node NAME` from the text too.
        let Some(workflow_name) = self.blocks.iter().find_map(|block| match block {
            Block::Workflow(name) => Some(name.clone()),
            _ => None,
        }) else {
            return items;
        };
        for name in self.names_in_block("workflow", &workflow_name, NameShape::AfterNode) {
            if !items.iter().any(|existing| existing.label == name) {
                items.push(item(&name, lsp::CompletionItemKind::EVENT, Some("node".into())));
            }
        }
        items
    }

    /// Names declared directly in the block `keyword NAME { … }` of this
    /// document, read from tokens so that a block that does not parse yet
    /// still offers what is written in it.
    fn names_in_block(&self, keyword: &str, name: &str, shape: NameShape) -> Vec<String> {
        let tokens: Vec<Token> =
            lexer::tokenize(self.text).into_iter().filter(|token| !token.kind.is_trivia()).collect();
        let start = tokens.windows(2).position(|pair| {
            matches!(pair, [first, second] if word(self.text, first) == keyword && word(self.text, second) == name)
        });
        let Some(start) = start else { return Vec::new() };
        let Some(open) =
            tokens.iter().skip(start).position(|token| token.kind == TokenKind::LBrace).map(|index| index + start)
        else {
            return Vec::new();
        };
        let mut names = Vec::new();
        let mut depth = 0usize;
        for (index, token) in tokens.iter().enumerate().skip(open + 1) {
            match token.kind {
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace if depth == 0 => break,
                TokenKind::RBrace => depth -= 1,
                TokenKind::Ident if depth == 0 => {
                    let next = tokens.get(index + 1);
                    let previous = index.checked_sub(1).and_then(|previous| tokens.get(previous));
                    let found = match shape {
                        NameShape::BeforeColon => next.is_some_and(|next| next.kind == TokenKind::Colon),
                        NameShape::AfterNode => previous.is_some_and(|previous| word(self.text, previous) == "node"),
                    };
                    if found {
                        names.push(word(self.text, token).to_string());
                    }
                }
                _ => {}
            }
        }
        names
    }

    fn after_colon(&self) -> Vec<lsp::CompletionItem> {
        let before_name = self.previous(2).unwrap_or("");
        let before_label = self.previous(3).unwrap_or("");
        if before_name == "node" || before_label == "node" {
            return ["create", "approve", "realize", "merge", "archive"]
                .iter()
                .map(|kind| item(kind, lsp::CompletionItemKind::KEYWORD, Some("node kind".into())))
                .collect();
        }
        FIELD_TYPE_NAMES
            .iter()
            .map(|name| {
                let mut completion = item(name, lsp::CompletionItemKind::TYPE_PARAMETER, Some("field type".into()));
                let snippet = match *name {
                    "select" => Some("select \"${1:label}\" {\n  ${2:key} \"${3:option}\" default\n}"),
                    "text" => Some("text(${1:100}) \"${2:label}\""),
                    "link" => Some("link \"${1:label}\" \"${2:https://}\""),
                    _ => None,
                };
                if let Some(snippet) = snippet {
                    completion.insert_text = Some(snippet.into());
                    completion.insert_text_format = Some(lsp::InsertTextFormat::SNIPPET);
                }
                completion
            })
            .chain(
                ["decimal", "bool", "number"]
                    .iter()
                    .filter(|_| self.blocks.is_empty())
                    .map(|name| item(name, lsp::CompletionItemKind::TYPE_PARAMETER, Some("signature type".into()))),
            )
            .collect()
    }

    fn fields(&self) -> Vec<(&'a FieldDecl, Option<&'a crate::syntax::ast::DetailDecl>)> {
        self.form().map(decls::fields).unwrap_or_default()
    }

    /// Field and detail names; `all` also lists detail columns as `明细.列`.
    fn field_names(&self, with_details: bool) -> Vec<lsp::CompletionItem> {
        let mut items = Vec::new();
        let Some(form) = self.form() else { return items };
        for member in &form.members {
            match member {
                crate::syntax::ast::FormMember::Field(field) => items.push(field_item(field)),
                crate::syntax::ast::FormMember::Detail(detail) if with_details => {
                    items.push(item(&detail.name.name, lsp::CompletionItemKind::STRUCT, Some("detail table".into())))
                }
                _ => {}
            }
        }
        items
    }

    fn select_options(&self, back: usize) -> Option<Vec<lsp::CompletionItem>> {
        let name = self.previous(back)?;
        let (field, _) = self.fields().into_iter().find(|(field, _)| field.name.name == name)?;
        let options = field.options.as_ref()?;
        Some(
            options
                .iter()
                .map(|option| {
                    let mut completion = item(
                        &format!("\"{}\"", option.key.name),
                        lsp::CompletionItemKind::ENUM_MEMBER,
                        option.label.as_ref().map(|label| label.value.clone()),
                    );
                    completion.filter_text = Some(option.key.name.clone());
                    completion
                })
                .collect(),
        )
    }

    /// `类别 == "差`: the options, each replacing the typed string.
    fn select_options_in_string(&self, start: usize) -> Option<Vec<lsp::CompletionItem>> {
        let back = match self.previous(0)? {
            "==" | "!=" => 1,
            "[" if self.previous(1) == Some("in") => 2,
            "," => {
                // `in ["甲", "` : the select is before this list's `[`.
                let open = self.tokens.iter().rposition(|token| token.kind == TokenKind::LBracket)?;
                if self.tokens.get(open.checked_sub(1)?).map(|token| word(self.text, token)) != Some("in") {
                    return None;
                }
                self.tokens.len() - open + 1
            }
            _ => return None,
        };
        let mut items = self.select_options(back)?;
        let source = self.analysis.sources.get(self.file)?;
        let range = super::convert::range(source, start, self.offset);
        for item in &mut items {
            item.text_edit = Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range, new_text: item.label.clone() }));
        }
        Some(items)
    }

    /// Members after `x.`: detail columns, a node's `operator`, or the
    /// members of a directory entity, following a chain like `a.b.`.
    fn members(&self) -> Vec<lsp::CompletionItem> {
        // Collect `root . a . b .` backwards.
        let mut chain: Vec<&str> = Vec::new();
        let mut index = self.tokens.len().saturating_sub(1);
        while let Some(dot) = self.tokens.get(index) {
            if dot.kind != TokenKind::Dot || index == 0 {
                break;
            }
            let Some(name) = self.tokens.get(index - 1) else { break };
            if name.kind != TokenKind::Ident {
                break;
            }
            chain.push(word(self.text, name));
            if index < 2 {
                break;
            }
            index -= 2;
        }
        chain.reverse();
        let Some((root, rest)) = chain.split_first() else { return Vec::new() };
        let fields = self.fields();
        if rest.is_empty() {
            if let Some(form) = self.form() {
                let detail = form.members.iter().find_map(|member| match member {
                    crate::syntax::ast::FormMember::Detail(detail) if detail.name.name == *root => Some(detail),
                    _ => None,
                });
                if let Some(detail) = detail {
                    return detail.fields.iter().map(field_item).collect();
                }
            }
        }
        let mut ty = if *root == "creator" {
            Ty::Employee
        } else if let Some((field, _)) = fields.iter().find(|(field, _)| field.name.name == *root) {
            FieldKind::from_name(&field.ty.name.name).map_or(Ty::Unknown, |kind| kind.value_ty(None))
        } else if self.workflow().is_some_and(|workflow| workflow.nodes.iter().any(|node| node.name.name == *root)) {
            Ty::Node
        } else {
            Ty::Unknown
        };
        for name in rest {
            ty = element(ty);
            let Some(table) = members_of(&ty) else { return Vec::new() };
            ty = members::find(table, name).map_or(Ty::Unknown, |member| (member.ty)());
        }
        members_of(&element(ty)).map(|table| table.iter().map(member_item).collect()).unwrap_or_default()
    }

    /// Names valid in an expression here.
    fn expression_names(&self) -> Vec<lsp::CompletionItem> {
        let mut items = Vec::new();
        let in_where = self
            .tokens
            .iter()
            .rev()
            .take_while(|token| token.kind != TokenKind::LBrace)
            .any(|token| word(self.text, token) == "where");
        if in_where {
            items.extend(members::EMPLOYEE.iter().map(member_item));
        }
        match self.detail() {
            // Inside a detail table: a row rule sees its own row first.
            Some(detail) => {
                for (field, owner) in self.fields() {
                    match owner {
                        Some(owner) if owner.name.name == detail => items.push(field_item(field)),
                        None => items.push(field_item(field)),
                        _ => {}
                    }
                }
                // The row being typed may not parse yet: its columns from the text.
                for name in self.names_in_block("detail", detail, NameShape::BeforeColon) {
                    if !items.iter().any(|existing| existing.label == name) {
                        items.push(item(&name, lsp::CompletionItemKind::FIELD, Some("column".into())));
                    }
                }
            }
            None => {
                items.extend(self.field_names(true));
                if self.workflow().is_some() {
                    items.extend(self.node_names());
                }
            }
        }
        for item_declared in decls::items(self.analysis, self.file) {
            match item_declared {
                Item::Const(constant) => {
                    items.push(item(&constant.name.name, lsp::CompletionItemKind::CONSTANT, constant.doc.clone()))
                }
                Item::Fn(function) => {
                    items.push(function_item(&function.name.name, &function.params.len(), function.doc.clone(), false))
                }
                _ => {}
            }
        }
        if let Some(prelude) = self.analysis.modules.iter().find(|module| module.is_prelude) {
            for declared in &prelude.ast.items {
                match declared {
                    Item::Fn(function)
                        if self.detail().is_none()
                            || !["sum", "count", "avg", "min", "max"].contains(&function.name.name.as_str()) =>
                    {
                        items.push(function_item(
                            &function.name.name,
                            &function.params.len(),
                            function.doc.clone(),
                            true,
                        ))
                    }
                    Item::Const(constant) => {
                        items.push(item(&constant.name.name, lsp::CompletionItemKind::VARIABLE, constant.doc.clone()))
                    }
                    _ => {}
                }
            }
        }
        items.extend(keywords(&["and", "or", "not", "in", "if", "then", "else", "true", "false", "null"]));
        items
    }
}

/// Words after which an expression or a name must follow, even on the
/// next line.
const CONTINUING_WORDS: &[&str] =
    &["when", "where", "and", "or", "not", "in", "if", "then", "else", "validate", "editable", "required", "hidden"];

/// How `names_in_block` recognises a declaration.
#[derive(Clone, Copy)]
enum NameShape {
    /// `金额: money` (fields and columns).
    BeforeColon,
    /// `node 审批` (nodes).
    AfterNode,
}

fn is_operator(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::EqEq
            | TokenKind::NotEq
            | TokenKind::Le
            | TokenKind::Ge
            | TokenKind::Lt
            | TokenKind::Gt
            | TokenKind::Plus
            | TokenKind::Minus
            | TokenKind::Star
            | TokenKind::Slash
            | TokenKind::Percent
            | TokenKind::LParen
            | TokenKind::LBracket
    )
}

fn element(ty: Ty) -> Ty {
    match ty {
        Ty::List(inner) => *inner,
        other => other,
    }
}

fn field_item(field: &FieldDecl) -> lsp::CompletionItem {
    let detail = match &field.label {
        Some(label) => format!("{} “{}”", field.ty.name.name, label.value),
        None => field.ty.name.name.clone(),
    };
    let mut completion = item(&field.name.name, lsp::CompletionItemKind::FIELD, Some(detail));
    completion.documentation = field.doc.clone().map(lsp::Documentation::String);
    completion
}

fn member_item(member: &Member) -> lsp::CompletionItem {
    let mut completion = item(member.name, lsp::CompletionItemKind::PROPERTY, Some((member.ty)().to_string()));
    completion.documentation = Some(lsp::Documentation::String(member.doc.to_string()));
    completion
}

fn function_item(name: &str, parameters: &usize, doc: Option<String>, builtin: bool) -> lsp::CompletionItem {
    let mut completion = item(
        name,
        lsp::CompletionItemKind::FUNCTION,
        Some(if builtin { "built-in function".into() } else { "function".into() }),
    );
    completion.documentation = doc.map(lsp::Documentation::String);
    completion.insert_text = Some(if *parameters == 0 { format!("{name}()") } else { format!("{name}($1)") });
    completion.insert_text_format = Some(lsp::InsertTextFormat::SNIPPET);
    completion
}

fn item_of_workflow(workflow: &WorkflowItem) -> lsp::CompletionItem {
    item(&workflow.name.name, lsp::CompletionItemKind::CLASS, workflow.label.as_ref().map(|label| label.value.clone()))
}
