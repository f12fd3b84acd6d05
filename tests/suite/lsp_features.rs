//! The language server in process (`flowc::lsp::handle_request` and
//! `handle_notification` on a `Server`), on real files in a temporary
//! directory: completion by context, several files, diagnostics, hover,
//! semantic tokens, folding, symbols, formatting, and requests at every
//! position of a broken file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowc::lsp::{handle_notification, handle_request, Server};
use lsp_server::{ErrorCode, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use serde_json::{json, Value};

/// Where the cursor is in a test text.
const CURSOR: &str = "‸";

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A server and a fresh directory for its files (removed on drop).
struct Session {
    server: Server,
    dir: PathBuf,
    next_id: i32,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Session {
    fn new() -> Session {
        let unique = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("flowc-lsp-features-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let dir = std::fs::canonicalize(&dir).expect("canonical temp dir");
        Session { server: Server::new(), dir, next_id: 1 }
    }

    /// Writes `name` into the session's directory; its `file://` URL.
    fn write(&self, name: &str, text: &str) -> lsp::Url {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write");
        lsp::Url::from_file_path(&path).expect("file url")
    }

    fn notify(&mut self, method: &str, params: Value) -> Vec<lsp::PublishDiagnosticsParams> {
        handle_notification(&mut self.server, Notification::new(method.into(), params))
    }

    /// Writes and opens `name`; the diagnostics published for it.
    fn open(&mut self, name: &str, text: &str) -> (lsp::Url, Vec<lsp::Diagnostic>) {
        let uri = self.write(name, text);
        let published = self.notify(
            lsp::notification::DidOpenTextDocument::METHOD,
            json!({ "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": text } }),
        );
        let diagnostics = diagnostics_for(&published, &uri).expect("diagnostics published for the opened document");
        (uri, diagnostics)
    }

    /// Replaces the whole text of an open document (not saved to disk).
    fn change(&mut self, uri: &lsp::Url, text: &str, version: i32) -> Vec<lsp::PublishDiagnosticsParams> {
        self.notify(
            lsp::notification::DidChangeTextDocument::METHOD,
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        )
    }

    fn close(&mut self, uri: &lsp::Url) -> Vec<lsp::PublishDiagnosticsParams> {
        self.notify(lsp::notification::DidCloseTextDocument::METHOD, json!({ "textDocument": { "uri": uri } }))
    }

    /// One request; a panic is reported as the server's `InternalError`.
    fn raw(&mut self, method: &str, params: Value) -> Response {
        let id = self.next_id;
        self.next_id += 1;
        let request = Request::new(id.into(), method.into(), params);
        let server = &mut self.server;
        catch_unwind(AssertUnwindSafe(|| handle_request(server, request))).unwrap_or_else(|_| {
            Response::new_err(id.into(), ErrorCode::InternalError as i32, "the server panicked".into())
        })
    }

    /// A request that must succeed; its typed result.
    fn request<R: lsp::request::Request>(&mut self, params: Value) -> R::Result {
        let response = self.raw(R::METHOD, params.clone());
        if let Some(error) = response.error {
            panic!("{} {params} failed: {} ({})", R::METHOD, error.message, error.code);
        }
        serde_json::from_value(response.result.unwrap_or(Value::Null)).expect("result of the right shape")
    }

    fn completion(&mut self, uri: &lsp::Url, position: lsp::Position) -> Vec<lsp::CompletionItem> {
        match self.request::<lsp::request::Completion>(json!({ "textDocument": { "uri": uri }, "position": position }))
        {
            Some(lsp::CompletionResponse::Array(items)) => items,
            Some(lsp::CompletionResponse::List(list)) => list.items,
            None => Vec::new(),
        }
    }

    fn hover(&mut self, uri: &lsp::Url, position: lsp::Position) -> Option<lsp::Hover> {
        self.request::<lsp::request::HoverRequest>(json!({ "textDocument": { "uri": uri }, "position": position }))
    }

    /// The markdown of a hover, or `None` when there is none.
    fn hover_text(&mut self, uri: &lsp::Url, position: lsp::Position) -> Option<String> {
        self.hover(uri, position).map(|hover| match hover.contents {
            lsp::HoverContents::Markup(markup) => markup.value,
            other => panic!("hover is not markdown: {other:?}"),
        })
    }

    fn definition(&mut self, uri: &lsp::Url, position: lsp::Position) -> Option<lsp::Location> {
        match self
            .request::<lsp::request::GotoDefinition>(json!({ "textDocument": { "uri": uri }, "position": position }))
        {
            Some(lsp::GotoDefinitionResponse::Scalar(location)) => Some(location),
            Some(lsp::GotoDefinitionResponse::Array(mut locations)) => locations.pop(),
            Some(other) => panic!("unexpected definition answer {other:?}"),
            None => None,
        }
    }

    fn references(&mut self, uri: &lsp::Url, position: lsp::Position) -> Vec<lsp::Location> {
        self.request::<lsp::request::References>(json!({
            "textDocument": { "uri": uri },
            "position": position,
            "context": { "includeDeclaration": true }
        }))
        .unwrap_or_default()
    }

    fn rename(&mut self, uri: &lsp::Url, position: lsp::Position, new_name: &str) -> lsp::WorkspaceEdit {
        self.request::<lsp::request::Rename>(
            json!({ "textDocument": { "uri": uri }, "position": position, "newName": new_name }),
        )
        .expect("a rename edit")
    }

    fn semantic_tokens(&mut self, uri: &lsp::Url) -> Vec<Token> {
        let answer = self.request::<lsp::request::SemanticTokensFullRequest>(json!({ "textDocument": { "uri": uri } }));
        let data = match answer {
            Some(lsp::SemanticTokensResult::Tokens(tokens)) => tokens.data,
            Some(lsp::SemanticTokensResult::Partial(partial)) => partial.data,
            None => Vec::new(),
        };
        decode(&data)
    }

    fn folding(&mut self, uri: &lsp::Url) -> Vec<lsp::FoldingRange> {
        self.request::<lsp::request::FoldingRangeRequest>(json!({ "textDocument": { "uri": uri } })).unwrap_or_default()
    }

    fn symbols(&mut self, uri: &lsp::Url) -> Vec<lsp::DocumentSymbol> {
        match self.request::<lsp::request::DocumentSymbolRequest>(json!({ "textDocument": { "uri": uri } })) {
            Some(lsp::DocumentSymbolResponse::Nested(symbols)) => symbols,
            Some(other) => panic!("flat symbols {other:?}"),
            None => Vec::new(),
        }
    }

    fn formatting(&mut self, uri: &lsp::Url) -> Option<Vec<lsp::TextEdit>> {
        self.request::<lsp::request::Formatting>(
            json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
    }
}

fn diagnostics_for(published: &[lsp::PublishDiagnosticsParams], uri: &lsp::Url) -> Option<Vec<lsp::Diagnostic>> {
    published.iter().find(|entry| &entry.uri == uri).map(|entry| entry.diagnostics.clone())
}

fn codes(diagnostics: &[lsp::Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|diagnostic| match &diagnostic.code {
            Some(lsp::NumberOrString::String(code)) => code.clone(),
            Some(lsp::NumberOrString::Number(code)) => code.to_string(),
            None => String::new(),
        })
        .collect()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("examples/{name}/{name}.flow")).expect("example")
}

fn data(path: &str) -> String {
    std::fs::read_to_string(format!("tests/data/{path}")).expect("test data")
}

/// `text` with the first `from` replaced by `to` (which must be there).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the text");
    text.replacen(from, to, 1)
}

/// The LSP position (UTF-16 column) of a byte offset.
fn position(text: &str, offset: usize) -> lsp::Position {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    lsp::Position { line: line as u32, character: before[line_start..].encode_utf16().count() as u32 }
}

fn offset_of(text: &str, needle: &str, nth: usize) -> usize {
    text.match_indices(needle).nth(nth).map(|(index, _)| index).unwrap_or_else(|| panic!("`{needle}` #{nth} not found"))
}

/// Position of the start of the first `needle`.
fn at(text: &str, needle: &str) -> lsp::Position {
    position(text, offset_of(text, needle, 0))
}

/// Position of the start of the `nth` `needle` (0-based).
fn at_nth(text: &str, needle: &str, nth: usize) -> lsp::Position {
    position(text, offset_of(text, needle, nth))
}

/// The text without its cursor mark, and the cursor's position.
fn cursor(marked: &str) -> (String, lsp::Position) {
    let offset = offset_of(marked, CURSOR, 0);
    (marked.replacen(CURSOR, "", 1), position(marked, offset))
}

fn labels(items: &[lsp::CompletionItem]) -> Vec<&str> {
    items.iter().map(|item| item.label.as_str()).collect()
}

/// Completion at the cursor of `marked`, opened as the only document.
fn complete(marked: &str) -> Vec<lsp::CompletionItem> {
    let (text, position) = cursor(marked);
    let mut session = Session::new();
    let (uri, _) = session.open("complete.flow", &text);
    session.completion(&uri, position)
}

#[track_caller]
fn assert_offers(items: &[lsp::CompletionItem], expected: &[&str]) {
    let offered = labels(items);
    let missing: Vec<&&str> = expected.iter().filter(|label| !offered.contains(label)).collect();
    assert!(missing.is_empty(), "missing {missing:?} among {offered:?}");
}

#[track_caller]
fn assert_not_offered(items: &[lsp::CompletionItem], unexpected: &[&str]) {
    let offered = labels(items);
    let present: Vec<&&str> = unexpected.iter().filter(|label| offered.contains(label)).collect();
    assert!(present.is_empty(), "{present:?} should not be offered: {offered:?}");
}

/// The expense example with its `const` moved after the form, so that the
/// form is the file's first item.
fn expense() -> String {
    let text = example("expense");
    let constant = "/// Above this amount a claim also needs the general manager (提示 on the form says so too).\nconst 大额标准 = 10000\n";
    let text = edit(&text, constant, "");
    edit(&text, "/// 费用报销流程", &format!("{constant}\n/// 费用报销流程"))
}

// ---------------------------------------------------------------- completion

#[test]
fn completion_after_an_arrow_offers_the_nodes_of_the_enclosing_workflow() {
    // In 财务审核, whose exit has no target yet.
    let items = complete(&edit(&expense(), "exit 同意 -> 出纳付款\n    return", "exit 同意 -> ‸\n    return"));
    let nodes = ["填写申请", "部门审批", "财务审核", "总经理审批", "出纳付款", "归档"];
    assert_offers(&items, &["填写申请", "部门审批", "总经理审批", "出纳付款", "归档"]);
    assert!(labels(&items).iter().all(|label| nodes.contains(label)), "only nodes: {:?}", labels(&items));
    let archive = items.iter().find(|item| item.label == "归档").expect("归档");
    assert_eq!(archive.kind, Some(lsp::CompletionItemKind::EVENT));
    assert_eq!(archive.detail.as_deref(), Some("archive node “归档”"));

    // A target being typed over, in a file that parses: every node.
    let items = complete(&edit(&expense(), "exit 同意 -> 出纳付款\n    return", "exit 同意 -> 出纳‸付款\n    return"));
    let mut offered = labels(&items);
    offered.sort();
    let mut expected = nodes.to_vec();
    expected.sort();
    assert_eq!(offered, expected, "exactly the workflow's nodes");
}

#[test]
fn completion_after_an_arrow_in_a_second_workflow_offers_only_its_own_nodes() {
    let text = format!(
        "{}\nworkflow 另一个 {{\n  form 报销单\n  node 开始: create {{\n    operators {{ everyone }}\n    exit 去 -> ‸\n  }}\n  node 中间: approve {{\n    operators {{ everyone }}\n    exit 去 -> 结束\n  }}\n  node 结束: archive\n}}\n",
        expense()
    );
    let items = complete(&text);
    assert_offers(&items, &["中间", "结束"]);
    assert_not_offered(&items, &["财务审核", "出纳付款", "填写申请"]);
}

#[test]
fn completion_after_an_employee_field_offers_employee_members() {
    let items = complete(&edit(&expense(), "batch 2 { 申请人.manager }", "batch 2 { 申请人.‸ }"));
    assert_offers(&items, &["id", "name", "manager", "department", "subcompany", "security", "roles", "subordinates"]);
    assert_not_offered(&items, &["head", "parent", "申请人", "sum"]);
    let manager = items.iter().find(|item| item.label == "manager").expect("manager");
    assert_eq!(manager.kind, Some(lsp::CompletionItemKind::PROPERTY));
    assert_eq!(manager.detail.as_deref(), Some("employee"));
    assert!(manager.documentation.is_some(), "members are documented");
}

#[test]
fn completion_after_a_semicolon_in_operators_is_completion_on_a_new_line() {
    // `;` separates operator lines (docs/language-extensions.md): the line after it completes
    // as a line of its own, members and names alike.
    let items = complete(&edit(&expense(), "batch 2 { 申请人.manager }", "batch 2 { 申请人.manager; 申请人.‸ }"));
    assert_offers(&items, &["manager", "department"]);
    let items = complete(&edit(&expense(), "batch 2 { 申请人.manager }", "batch 2 { 申请人.manager; ‸ }"));
    let on_a_new_line = complete(&edit(&expense(), "batch 2 { 申请人.manager }", "batch 2 { 申请人.manager\n‸ }"));
    assert_eq!(labels(&items), labels(&on_a_new_line));
    assert_offers(&items, &["申请人"]);
}

#[test]
fn completion_after_a_member_chain_follows_the_types() {
    let items = complete(&edit(
        &expense(),
        "部门: department \"报销部门\" = creator.department",
        "部门: department \"报销部门\" = creator.department.‸",
    ));
    assert_offers(&items, &["id", "name", "head", "parent", "subcompany", "members"]);
    assert_not_offered(&items, &["manager", "security"]);

    let items = complete(&edit(&expense(), "batch 3 { 部门.head }", "batch 3 { 部门.head.‸ }"));
    assert_offers(&items, &["manager", "department", "security"]);
}

#[test]
fn completion_after_a_node_name_offers_operator() {
    let items = complete(&edit(&expense(), "财务审核.operator\n", "财务审核.‸\n"));
    assert_offers(&items, &["operator"]);
}

#[test]
fn completion_after_a_detail_table_offers_its_columns() {
    let items = complete(&edit(&expense(), "sum(明细.金额)", "sum(明细.‸)"));
    let mut offered = labels(&items);
    offered.sort();
    let mut expected = vec!["费用日期", "摘要", "数量", "单价", "金额", "张数"];
    expected.sort();
    assert_eq!(offered, expected);
    let price = items.iter().find(|item| item.label == "单价").expect("单价");
    assert_eq!(price.kind, Some(lsp::CompletionItemKind::FIELD));
    assert_eq!(price.detail.as_deref(), Some("money “单价”"));
}

#[test]
fn completion_after_comparing_a_select_field_offers_its_options() {
    let items = complete(&edit(&expense(), "when 类别 == \"招待\" and", "when 类别 == ‸"));
    assert_eq!(
        labels(&items),
        vec!["\"差旅\"", "\"办公\"", "\"招待\"", "\"培训\"", "\"其他\""],
        "in declaration order"
    );
    let first = items.first().expect("an option");
    assert_eq!(first.kind, Some(lsp::CompletionItemKind::ENUM_MEMBER));
    assert_eq!(first.detail.as_deref(), Some("差旅费"), "the option's label");
    assert_eq!(first.filter_text.as_deref(), Some("差旅"));

    let items = complete(&edit(&expense(), "when 类别 != \"招待\"", "when 类别 != ‸"));
    assert_offers(&items, &["\"招待\""]);
    let items = complete(&edit(&expense(), "when 类别 == \"招待\" and", "when 类别 in [‸"));
    assert_offers(&items, &["\"差旅\"", "\"其他\""]);
}

#[test]
fn completion_after_a_field_colon_offers_field_types() {
    let items =
        complete(&edit(&expense(), "  预支: money \"已预支金额\"\n", "  预支: money \"已预支金额\"\n  新字段: ‸\n"));
    assert_offers(
        &items,
        &[
            "text",
            "int",
            "float",
            "money",
            "money_upper",
            "textarea",
            "employee",
            "department",
            "date",
            "check",
            "select",
            "attachment",
            "link",
            "note",
        ],
    );
    assert_not_offered(&items, &["create", "approve"]);
    let select = items.iter().find(|item| item.label == "select").expect("select");
    assert_eq!(select.kind, Some(lsp::CompletionItemKind::TYPE_PARAMETER));
    assert_eq!(select.insert_text_format, Some(lsp::InsertTextFormat::SNIPPET));
    assert!(select.insert_text.as_deref().is_some_and(|snippet| snippet.starts_with("select \"${1:label}\" {")));
    let money = items.iter().find(|item| item.label == "money").expect("money");
    assert_eq!(money.insert_text, None, "plain types insert their name");
}

#[test]
fn completion_after_a_node_colon_offers_node_kinds() {
    for head in ["node 新节点 \"新节点\": ‸", "node 新节点: ‸"] {
        let items = complete(&edit(
            &expense(),
            "  node 归档 \"归档\": archive",
            &format!("  {head}\n  node 归档 \"归档\": archive"),
        ));
        assert_eq!(labels(&items), vec!["create", "approve", "realize", "merge", "archive"], "after `{head}`");
    }
}

#[test]
fn completion_at_the_start_of_a_line_in_a_node_offers_node_items() {
    let items = complete(&edit(&expense(), "    required 财务意见\n", "    required 财务意见\n    ‸\n"));
    // `validate` too: a node may hold its own rules (issue 10).
    assert_offers(
        &items,
        &["operators", "editable", "required", "hidden", "validate", "before", "after", "exit", "return"],
    );
    assert_not_offered(&items, &["财务意见", "sum"]);
    // Typing the first letters does not change the context.
    let items = complete(&edit(&expense(), "    required 财务意见\n", "    required 财务意见\n    ed‸\n"));
    assert_offers(&items, &["editable", "exit"]);
}

#[test]
fn completion_at_the_start_of_a_line_elsewhere() {
    // Top level.
    let items = complete(&format!("{}\n‸", expense()));
    assert_offers(&items, &["use", "const", "fn", "form", "workflow"]);
    // In a workflow, between nodes.
    let items = complete(&edit(&expense(), "  remind sms, email\n", "  remind sms, email\n  ‸\n"));
    assert_offers(&items, &["node", "category", "form", "title", "remind"]);
    // In an action block: statements and the fields to assign.
    let items = complete(&edit(&expense(), "      已付款 = true\n", "      已付款 = true\n      ‸\n"));
    assert_offers(&items, &["if", "script", "出纳", "付款日期"]);
}

#[test]
fn completion_after_editable_offers_fields_and_details() {
    let items = complete(&edit(&expense(), "editable 财务意见, 明细.张数, 付款方式", "editable 财务意见, ‸"));
    assert_offers(&items, &["财务意见", "明细", "付款方式", "合计"]);
    assert_not_offered(&items, &["sum", "财务审核"]);
}

#[test]
fn completion_in_a_row_formula_offers_its_row_and_main_fields_but_not_other_details() {
    let text = edit(
        &expense(),
        "  合计: money \"报销金额\"",
        "  detail 借款 \"借款明细\" {\n    借款金额: money \"借款金额\"\n  }\n\n  合计: money \"报销金额\"",
    );
    // The cursor in a word of a formula that parses (see the bug list for `数量 * ‸`).
    let items = complete(&edit(&text, "= 数量 * 单价", "= 数量 * 单‸价"));
    assert_offers(&items, &["数量", "单价", "张数", "预支", "合计"]);
    assert_not_offered(&items, &["借款金额", "借款"]);
    assert_not_offered(&items, &["sum", "count"]);
    assert_offers(&items, &["round"]);
}

#[test]
fn completion_in_a_where_filter_offers_person_attributes() {
    let items = complete(&edit(&expense(), "everyone where security >= 10", "everyone where ‸"));
    assert_offers(&items, &["security", "manager", "department", "roles"]);
}

#[test]
fn completion_in_an_expression_offers_fields_functions_constants_and_keywords() {
    let items = complete(&edit(&expense(), "validate 合计 > 0 ", "validate 合计 > ‸ "));
    assert_offers(&items, &["合计", "预支", "明细", "sum", "round", "today", "大额标准", "and", "not", "null"]);
    let sum = items.iter().find(|item| item.label == "sum").expect("sum");
    assert_eq!(sum.kind, Some(lsp::CompletionItemKind::FUNCTION));
    assert_eq!(sum.detail.as_deref(), Some("built-in function"));
    assert_eq!(sum.insert_text.as_deref(), Some("sum($1)"));
    assert_eq!(sum.insert_text_format, Some(lsp::InsertTextFormat::SNIPPET));
    assert!(sum.documentation.is_some(), "built-ins carry their doc comment");
    let today = items.iter().find(|item| item.label == "today").expect("today");
    assert_eq!(today.insert_text.as_deref(), Some("today()"), "no parameter, no placeholder");
    let constant = items.iter().find(|item| item.label == "大额标准").expect("大额标准");
    assert_eq!(constant.kind, Some(lsp::CompletionItemKind::CONSTANT));
}

#[test]
fn completion_offers_user_functions_with_snippets() {
    // The form first: see the bug list for a form after a `fn`.
    let text = "form 单 {\n  价: money \"价\"\n  总: money \"总\" = ‸\n}\n\n/// 含税金额.\nfn 含税(金额: money, 税率: float) -> money = round(金额 * (1 + 税率), 2)\n";
    let items = complete(text);
    let function = items.iter().find(|item| item.label == "含税").expect("含税 offered");
    assert_eq!(function.detail.as_deref(), Some("function"));
    assert_eq!(function.insert_text.as_deref(), Some("含税($1)"));
    assert_offers(&items, &["价"]);
}

#[test]
fn completion_inside_comments_and_strings_offers_nothing() {
    assert!(complete(&edit(&expense(), "// 行字段规则", "// 行字‸段规则")).is_empty());
    assert!(complete(&edit(&expense(), "\"报销金额必须大于零\"", "\"报销金‸")).is_empty());
}

#[test]
fn completion_in_a_half_written_file_still_answers() {
    let text = expense();
    // Everything after the cursor is gone: braces are left open.
    let cut = offset_of(&text, "exit 大额 -> 总经理审批", 0) + "exit 大额 -> ".len();
    let marked = format!("{}‸", &text[..cut]);
    let items = complete(&marked);
    assert_offers(&items, &["填写申请", "部门审批"]);

    let cut = offset_of(&text, "batch 2 { 申请人.manager }", 0) + "batch 2 { 申请人.".len();
    let items = complete(&format!("{}‸", &text[..cut]));
    assert_offers(&items, &["manager", "department"]);

    let cut = offset_of(&text, "    required 财务意见\n", 0) + "    required 财务意见\n".len();
    let items = complete(&format!("{}    ‸", &text[..cut]));
    assert_offers(&items, &["exit", "return", "editable"]);
}

// ---------------------------------------------------------------- several files

const FORM_B: &str = "/// 请假单, shared.\nform 请假单 \"请假申请单\" {\n  申请人: employee \"申请人\" = creator\n  天数: int \"请假天数\"\n  事由: textarea \"请假事由\"\n}\n";

const WORKFLOW_A: &str = "use b\n\nworkflow 请假 \"请假流程\" {\n  form 请假单\n\n  node 申请: create {\n    operators { everyone }\n    editable 天数, 事由\n    required 天数\n    exit 提交 -> 审批 when 天数 > 0\n    exit 作废 -> 归档\n  }\n\n  node 审批: approve {\n    operators { 申请人.manager }\n    exit 同意 -> 归档\n    return 退回 -> 申请\n  }\n\n  node 归档: archive\n}\n";

#[test]
fn a_change_to_a_used_file_is_seen_by_the_file_that_uses_it() {
    let mut session = Session::new();
    let (b, b_diagnostics) = session.open("b.flow", FORM_B);
    assert_eq!(b_diagnostics, vec![]);
    let (a, a_diagnostics) = session.open("a.flow", WORKFLOW_A);
    assert_eq!(a_diagnostics, vec![], "a.flow checks clean with b.flow");

    // Remove 天数 from b.flow (unsaved): a.flow's uses are now unknown.
    let without = edit(FORM_B, "  天数: int \"请假天数\"\n", "");
    let published = session.change(&b, &without, 2);
    let a_diagnostics = diagnostics_for(&published, &a).expect("a.flow re-published");
    assert!(!a_diagnostics.is_empty(), "a.flow uses 天数");
    assert!(codes(&a_diagnostics).iter().all(|code| code == "E0501"), "{a_diagnostics:?}");
    let first = a_diagnostics.first().expect("a diagnostic");
    assert_eq!(first.range.start, at(WORKFLOW_A, "天数, 事由"), "the first use of 天数 in a.flow");
    assert_eq!(first.range.end.character - first.range.start.character, 2);
    assert!(first.message.contains("天数"), "{}", first.message);
    assert_eq!(diagnostics_for(&published, &b), Some(vec![]), "b.flow itself is fine");

    // Restored: cleared.
    let published = session.change(&b, FORM_B, 3);
    assert_eq!(diagnostics_for(&published, &a), Some(vec![]), "{published:?}");
}

#[test]
fn definition_references_and_rename_cross_files() {
    let mut session = Session::new();
    let (b, _) = session.open("b.flow", FORM_B);
    let (a, _) = session.open("a.flow", WORKFLOW_A);

    // Definition of the form used in a.flow is in b.flow.
    let location = session.definition(&a, at(WORKFLOW_A, "请假单")).expect("definition of 请假单");
    assert_eq!(location.uri, b);
    let start = at(FORM_B, "请假单 \"");
    assert_eq!(
        location.range,
        lsp::Range { start, end: lsp::Position { line: start.line, character: start.character + 3 } }
    );

    // Definition of a field used in a.flow.
    let location = session.definition(&a, at_nth(WORKFLOW_A, "天数", 2)).expect("definition of 天数");
    assert_eq!(location.uri, b);
    assert_eq!(location.range.start, at(FORM_B, "天数"));

    // References of 天数 asked in b.flow include a.flow's uses.
    let references = session.references(&b, at(FORM_B, "天数"));
    let in_a: Vec<lsp::Position> =
        references.iter().filter(|location| location.uri == a).map(|location| location.range.start).collect();
    let expected: Vec<lsp::Position> = (0..3).map(|nth| at_nth(WORKFLOW_A, "天数", nth)).collect();
    assert_eq!(in_a, expected, "{references:?}");
    assert!(references.iter().any(|location| location.uri == b && location.range.start == at(FORM_B, "天数")));

    // The same from a.flow.
    let from_a = session.references(&a, at_nth(WORKFLOW_A, "天数", 1));
    assert_eq!(from_a.len(), references.len());

    // Rename edits both files.
    let rename = session.rename(&b, at(FORM_B, "天数"), "日数");
    let changes = rename.changes.expect("changes");
    assert_eq!(changes.get(&b).map(Vec::len), Some(1), "{changes:?}");
    assert_eq!(changes.get(&a).map(Vec::len), Some(3), "{changes:?}");
    assert!(changes.values().flatten().all(|edit| edit.new_text == "日数"));
}

#[test]
fn a_used_file_that_is_not_open_is_read_from_disk() {
    let mut session = Session::new();
    let b = session.write("b.flow", FORM_B);
    let (a, diagnostics) = session.open("a.flow", WORKFLOW_A);
    assert_eq!(diagnostics, vec![]);
    let location = session.definition(&a, at(WORKFLOW_A, "请假单")).expect("definition of 请假单");
    assert_eq!(location.uri, b);
}

#[test]
fn files_with_chinese_names_keep_their_urls() {
    let mut session = Session::new();
    let workflow = WORKFLOW_A.replace("use b", "use 表单");
    let (form, _) = session.open("表单.flow", FORM_B);
    let (flow, diagnostics) = session.open("流程.flow", &workflow);
    assert_eq!(diagnostics, vec![]);
    assert!(form.as_str().ends_with("/%E8%A1%A8%E5%8D%95.flow"), "{form}");
    let location = session.definition(&flow, at(&workflow, "请假单")).expect("definition");
    assert_eq!(location.uri, form);
    let published = session.change(&form, &edit(FORM_B, "  天数: int \"请假天数\"\n", ""), 2);
    let listed: Vec<&str> = published.iter().map(|entry| entry.uri.as_str()).collect();
    assert_eq!(listed.len(), 2, "one entry per open document: {listed:?}");
    assert!(diagnostics_for(&published, &flow).is_some_and(|diagnostics| !diagnostics.is_empty()));
}

#[test]
fn saving_a_used_file_that_is_not_open_rechecks_the_users() {
    let mut session = Session::new();
    let b = session.write("b.flow", FORM_B);
    let (a, diagnostics) = session.open("a.flow", WORKFLOW_A);
    assert_eq!(diagnostics, vec![]);
    session.write("b.flow", &edit(FORM_B, "  天数: int \"请假天数\"\n", ""));
    let published = session.notify("textDocument/didSave", json!({ "textDocument": { "uri": b } }));
    let diagnostics = diagnostics_for(&published, &a).expect("a.flow re-published");
    assert!(codes(&diagnostics).contains(&"E0501".to_string()), "{diagnostics:?}");
    assert!(diagnostics_for(&published, &b).is_none(), "b.flow is not open: nothing is published for it");
}

#[test]
fn an_error_in_a_used_file_that_is_open_is_published_once() {
    let mut session = Session::new();
    let broken =
        edit(FORM_B, "  事由: textarea \"请假事由\"\n", "  事由: textarea \"请假事由\"\n  事由: text \"重复\"\n");
    let (b, diagnostics) = session.open("b.flow", &broken);
    assert_eq!(codes(&diagnostics), vec!["E0302"], "{diagnostics:?}");
    session.open("a.flow", WORKFLOW_A);
    let published = session.change(&b, &broken, 2);
    let diagnostics = diagnostics_for(&published, &b).expect("b.flow");
    assert_eq!(codes(&diagnostics), vec!["E0302"], "b.flow is both open and used: {diagnostics:?}");
}

#[test]
fn references_without_the_declaration_and_renames_that_are_refused() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);
    let declaration = at(&text, "合计: money");
    let with: Vec<lsp::Location> = session.references(&uri, declaration);
    let without: Vec<lsp::Location> = session
        .request::<lsp::request::References>(json!({
            "textDocument": { "uri": uri }, "position": declaration, "context": { "includeDeclaration": false }
        }))
        .unwrap_or_default();
    assert_eq!(without.len() + 1, with.len());
    assert!(!without.iter().any(|location| location.range.start == declaration));

    // Built-ins cannot be renamed; neither can anything into a reserved word or a non-name.
    let sum = at(&text, "sum(明细.金额)");
    let prepare = session
        .request::<lsp::request::PrepareRenameRequest>(json!({ "textDocument": { "uri": uri }, "position": sum }));
    assert_eq!(prepare, None);
    let refused = session
        .raw("textDocument/rename", json!({ "textDocument": { "uri": uri }, "position": sum, "newName": "总和" }));
    assert_eq!(refused.error.map(|error| error.code), Some(ErrorCode::InvalidParams as i32));
    for bad in ["when", "两 个", "1a", ""] {
        let refused = session.raw(
            "textDocument/rename",
            json!({ "textDocument": { "uri": uri }, "position": declaration, "newName": bad }),
        );
        assert_eq!(refused.error.map(|error| error.code), Some(ErrorCode::InvalidParams as i32), "`{bad}`");
    }
    // prepareRename gives the name's range and the name.
    let node = at(&text, "财务审核 \"");
    let prepare = session
        .request::<lsp::request::PrepareRenameRequest>(json!({ "textDocument": { "uri": uri }, "position": node }));
    assert_eq!(
        prepare,
        Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
            range: lsp::Range { start: node, end: lsp::Position { line: node.line, character: node.character + 4 } },
            placeholder: "财务审核".into()
        })
    );
}

#[test]
fn hover_on_creator_and_a_where_attribute() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);
    let creator = session.hover_text(&uri, at(&text, "creator\n")).expect("hover on creator");
    assert!(creator.contains("built-in value"), "{creator}");
    let security = session.hover_text(&uri, at(&text, "security >= 10")).expect("hover on a person attribute");
    assert!(security.contains(".security: int"), "{security}");
    assert!(security.contains("security level"), "{security}");
    assert_eq!(session.definition(&uri, at(&text, "security >= 10")), None, "a directory member has no source");
}

// ---------------------------------------------------------------- diagnostics

#[test]
fn syntax_errors_in_two_nodes_are_both_published_with_their_ranges() {
    let text = data("check/err/E0001_two_broken_nodes.flow");
    let mut session = Session::new();
    let (_, diagnostics) = session.open("broken.flow", &text);
    assert_eq!(codes(&diagnostics), vec!["E0001", "E0001"], "{diagnostics:?}");
    let first = &diagnostics[0];
    let start = at(&text, "审批                    //~");
    assert_eq!(
        first.range,
        lsp::Range { start, end: lsp::Position { line: start.line, character: start.character + 2 } }
    );
    assert_eq!(first.severity, Some(lsp::DiagnosticSeverity::ERROR));
    assert!(first.message.contains("expected `->`"), "{}", first.message);
    assert!(first.message.contains("help:"), "help is part of the message: {}", first.message);
    let second = &diagnostics[1];
    let start = at(&text, "approve {");
    assert_eq!(
        second.range,
        lsp::Range { start, end: lsp::Position { line: start.line, character: start.character + 7 } }
    );
    assert_eq!(second.source.as_deref(), Some("flowc"));
    assert!(second
        .code_description
        .as_ref()
        .is_some_and(|description| description.href.as_str().ends_with("docs/diagnostics/E0001.md")));
}

#[test]
fn a_second_create_node_points_at_the_first_one() {
    let text = data("check/err/E0101_two_create_nodes.flow");
    let mut session = Session::new();
    let (uri, diagnostics) = session.open("two_creates.flow", &text);
    assert_eq!(codes(&diagnostics), vec!["E0101"], "{diagnostics:?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic.range.start, at(&text, "二次创建: create"));
    let related = diagnostic.related_information.as_ref().expect("related information");
    assert_eq!(related.len(), 1, "{related:?}");
    assert_eq!(related[0].location.uri, uri);
    let start = at(&text, "申请: create");
    assert_eq!(
        related[0].location.range,
        lsp::Range { start, end: lsp::Position { line: start.line, character: start.character + 2 } }
    );
    assert_eq!(related[0].message, "the first create node");
}

#[test]
fn warnings_have_severity_warning_and_fixing_clears_them() {
    let text = data("check/err/W0107_unreachable_node.flow");
    let mut session = Session::new();
    let (uri, diagnostics) = session.open("warning.flow", &text);
    assert_eq!(codes(&diagnostics), vec!["W0107"], "{diagnostics:?}");
    assert_eq!(diagnostics[0].severity, Some(lsp::DiagnosticSeverity::WARNING));
    assert_eq!(diagnostics[0].range.start, at(&text, "补充审批"));

    // Lead an exit to the node: fixed, cleared.
    let fixed =
        edit(&text, "exit 提交 -> 审批", "exit 补充 -> 补充审批 when 天数 != null and 天数 > 3\n    exit 提交 -> 审批");
    let published = session.change(&uri, &fixed, 2);
    assert_eq!(diagnostics_for(&published, &uri), Some(vec![]), "{published:?}");
    let entry = published.iter().find(|entry| entry.uri == uri).expect("published");
    assert_eq!(entry.version, Some(2));
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let mut session = Session::new();
    let (uri, diagnostics) = session.open("broken.flow", &data("check/err/E0105_unknown_exit_target.flow"));
    assert!(!diagnostics.is_empty());
    let (other, _) = session.open("fine.flow", &example("leave"));
    let published = session.close(&uri);
    assert_eq!(diagnostics_for(&published, &uri), Some(vec![]), "{published:?}");
    // Closed: requests on it answer nothing rather than failing.
    let response = session.raw(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 3, "character": 3 } }),
    );
    assert!(response.error.is_none(), "{response:?}");
    // Closing again, or a clean file, publishes no clearing for it.
    let published = session.close(&other);
    assert!(diagnostics_for(&published, &uri).is_none(), "{published:?}");
}

#[test]
fn incremental_changes_are_applied_in_utf16_units() {
    let text = example("leave");
    let mut session = Session::new();
    let (uri, diagnostics) = session.open("leave.flow", &text);
    assert_eq!(diagnostics, vec![]);
    // Replace the exit target `部门审批` after `exit 提交 -> ` with `部门审`.
    let start = position(&text, offset_of(&text, "exit 提交 -> 部门审批", 0) + "exit 提交 -> ".len());
    let end = lsp::Position { line: start.line, character: start.character + 4 };
    let published = session.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "range": { "start": start, "end": end }, "text": "部门审" }] }),
    );
    let diagnostics = diagnostics_for(&published, &uri).expect("published");
    assert_eq!(codes(&diagnostics), vec!["E0105"], "{diagnostics:?}");
    assert_eq!(
        diagnostics[0].range,
        lsp::Range { start, end: lsp::Position { line: start.line, character: start.character + 3 } }
    );
    let document = session.server.document(&uri).expect("open");
    assert_eq!(document.text, edit(&text, "exit 提交 -> 部门审批", "exit 提交 -> 部门审"));
}

// ---------------------------------------------------------------- hover

#[test]
fn hover_on_fields_nodes_details_and_functions() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);

    let computed = session.hover_text(&uri, at(&text, "合计 > 0")).expect("hover on 合计");
    assert!(computed.starts_with("```flow\n合计: money \"报销金额\" = sum(明细.金额)\n```"), "{computed}");
    assert!(computed.contains("field of form `报销单` · label “报销金额” · type `money`"), "{computed}");
    assert!(computed.contains("**Computed**: `sum(明细.金额)`"), "{computed}");

    let editable = session.hover_text(&uri, at(&text, "事由: textarea")).expect("hover on 事由");
    assert!(editable.contains("editable at `填写申请` (费用报销)"), "{editable}");
    let required = session.hover_text(&uri, at(&text, "财务意见: textarea")).expect("hover on 财务意见");
    assert!(required.contains("editable at `财务审核`") && required.contains("required at `财务审核`"), "{required}");
    assert!(required.contains("hidden at `填写申请`"), "{required}");

    let node = session.hover_text(&uri, at(&text, "财务审核 \"财务审核\"")).expect("hover on node");
    assert!(
        node.starts_with("```flow\nnode 财务审核 \"财务审核\": approve\n```\nnode of workflow `费用报销`"),
        "{node}"
    );
    assert!(node.contains("**Operators**, any"), "{node}");
    assert!(node.contains("- `role(\"会计\", 部门) when 合计 <= 5000`"), "{node}");
    assert!(node.contains("**Exits**, tried in order:\n- `exit 大额 -> 总经理审批 when 合计 > 大额标准`"), "{node}");
    assert!(node.contains("- `return 退回 -> 填写申请`"), "{node}");

    let batches = session.hover_text(&uri, at(&text, "部门审批 \"")).expect("hover on batches");
    assert!(batches.contains("- batch 2: `申请人.manager`"), "{batches}");

    let detail = session.hover_text(&uri, at(&text, "明细 \"报销明细\"")).expect("hover on 明细");
    assert!(detail.contains("detail table of form `报销单`"), "{detail}");
    assert!(
        detail.contains(
            "columns: `费用日期`: date, `摘要`: text(100), `数量`: int, `单价`: money, `金额`: money, `张数`: int"
        ),
        "{detail}"
    );

    let constant = session.hover_text(&uri, at(&text, "大额标准\n")).expect("hover on the use of 大额标准");
    assert!(constant.starts_with("```flow\nconst 大额标准 = 10000\n```\nconstant"), "{constant}");
    assert!(constant.contains("Above this amount"), "the doc comment: {constant}");

    let member = session.hover_text(&uri, at(&text, "head }")).expect("hover on .head");
    assert!(member.starts_with("```flow\n"), "{member}");
    assert!(member.contains(".head: employee"), "{member}");
    let hover = session.hover(&uri, at(&text, "head }")).expect("hover");
    let start = at(&text, "head }");
    assert_eq!(
        hover.range,
        Some(lsp::Range { start, end: lsp::Position { line: start.line, character: start.character + 4 } })
    );
}

#[test]
fn hover_on_a_built_in_shows_its_signature_and_doc() {
    let text = example("leave");
    let mut session = Session::new();
    let (uri, _) = session.open("leave.flow", &text);
    let round = session.hover_text(&uri, at(&text, "round(天数")).expect("hover on round");
    assert!(
        round.starts_with("```flow\nfn round(value: number, places?: int) -> number\n```\nbuilt-in function"),
        "{round}"
    );
    assert!(round.contains("Rounds half away from zero"), "{round}");
}

#[test]
fn hover_on_a_user_function_and_a_parameter() {
    let text = "/// 含税金额.\nfn 含税(金额: money, 税率: float) -> money = round(金额 * (1 + 税率), 2)\n\nform 单 {\n  价: money \"价\"\n  总: money \"总\" = 含税(价, 0.13)\n}\n";
    let mut session = Session::new();
    let (uri, _) = session.open("fn.flow", text);
    let function = session.hover_text(&uri, at(text, "含税(价")).expect("hover on 含税");
    assert!(function.starts_with("```flow\nfn 含税(金额: money, 税率: float) -> money\n```\nfunction"), "{function}");
    assert!(function.contains("含税金额."), "{function}");
    let parameter = session.hover_text(&uri, at(text, "税率)")).expect("hover on a parameter");
    assert!(parameter.contains("税率: float"), "{parameter}");
    assert!(parameter.contains("parameter of `含税`"), "{parameter}");
}

#[test]
fn hover_on_nothing_answers_null_and_out_of_range_positions_do_not_fail() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);
    // Indentation, a comment, a blank line, a string.
    assert_eq!(session.hover(&uri, lsp::Position { line: at(&text, "  申请人:").line, character: 1 }), None);
    assert_eq!(session.hover(&uri, at(&text, "行字段规则")), None);
    assert_eq!(session.hover(&uri, at(&text, "// Expense claim")), None);
    assert_eq!(session.hover(&uri, at(&text, "报销金额必须大于零")), None);
    let blank = text.lines().position(str::is_empty).expect("a blank line") as u32;
    assert_eq!(session.hover(&uri, lsp::Position { line: blank, character: 0 }), None);
    // Past the end of a line, of the last line, and of the file.
    let lines = text.lines().count() as u32;
    for position in [
        lsp::Position { line: 0, character: 10_000 },
        lsp::Position { line: lines, character: 0 },
        lsp::Position { line: lines + 1, character: 3 },
        lsp::Position { line: u32::MAX, character: u32::MAX },
    ] {
        for method in
            ["textDocument/hover", "textDocument/definition", "textDocument/completion", "textDocument/prepareRename"]
        {
            let response = session.raw(method, json!({ "textDocument": { "uri": uri }, "position": position }));
            assert!(response.error.is_none(), "{method} at {position:?}: {response:?}");
        }
    }
}

// ---------------------------------------------------------------- semantic tokens

/// A decoded semantic token: line, UTF-16 start, UTF-16 length, type, modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    line: u32,
    start: u32,
    length: u32,
    kind: u32,
    modifiers: u32,
}

fn decode(data: &[lsp::SemanticToken]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let (mut line, mut start) = (0, 0);
    for token in data {
        if token.delta_line > 0 {
            line += token.delta_line;
            start = token.delta_start;
        } else {
            start += token.delta_start;
        }
        tokens.push(Token {
            line,
            start,
            length: token.length,
            kind: token.token_type,
            modifiers: token.token_modifiers_bitset,
        });
    }
    tokens
}

/// The index of a token type in the legend the server announces.
fn legend_index(kind: lsp::SemanticTokenType) -> u32 {
    let capabilities = flowc::lsp::capabilities();
    let Some(lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(options)) =
        capabilities.semantic_tokens_provider
    else {
        panic!("semantic tokens not announced")
    };
    options.legend.token_types.iter().position(|candidate| *candidate == kind).expect("type in the legend") as u32
}

#[track_caller]
fn token_at(tokens: &[Token], position: lsp::Position) -> Token {
    *tokens
        .iter()
        .find(|token| token.line == position.line && token.start == position.character)
        .unwrap_or_else(|| panic!("no token at {position:?}: {tokens:?}"))
}

#[test]
fn semantic_tokens_classify_and_measure_in_utf16() {
    let text = "// 注释 😀\nform 表 \"表😀\" {\n  数量: int \"数量😀\" = 3 // 数\n  总: int \"总\" = 数量 * 2\n}\n\nworkflow 流 {\n  form 表\n  node 甲: create {\n    operators { everyone }\n    exit 去 -> 乙\n  }\n  node 乙: archive\n}\n";
    let mut session = Session::new();
    let (uri, _) = session.open("tokens.flow", text);
    let tokens = session.semantic_tokens(&uri);

    // Sorted, non-overlapping.
    for pair in tokens.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(a.line < b.line || (a.line == b.line && a.start + a.length <= b.start), "{a:?} then {b:?}");
    }

    let comment = token_at(&tokens, at(text, "// 注释"));
    assert_eq!(comment.kind, legend_index(lsp::SemanticTokenType::COMMENT));
    assert_eq!(comment.length, "// 注释 😀".encode_utf16().count() as u32, "UTF-16 length, the emoji counts 2");
    assert_eq!(comment.length, 8);

    let keyword = token_at(&tokens, at(text, "form 表 \""));
    assert_eq!((keyword.kind, keyword.length), (legend_index(lsp::SemanticTokenType::KEYWORD), 4));

    let label = token_at(&tokens, at(text, "\"表😀\""));
    assert_eq!((label.kind, label.length), (legend_index(lsp::SemanticTokenType::STRING), 5));

    // After a Chinese label with an emoji on the same line.
    let number = token_at(&tokens, at(text, "3 //"));
    assert_eq!(at(text, "3 //").character, 19, "the test's own arithmetic");
    assert_eq!((number.kind, number.length), (legend_index(lsp::SemanticTokenType::NUMBER), 1));
    let trailing = token_at(&tokens, at(text, "// 数"));
    assert_eq!((trailing.kind, trailing.length), (legend_index(lsp::SemanticTokenType::COMMENT), 4));

    let reference = token_at(&tokens, at(text, "数量 * 2"));
    assert_eq!((reference.kind, reference.length), (legend_index(lsp::SemanticTokenType::PROPERTY), 2));
    let declaration = token_at(&tokens, at(text, "数量:"));
    assert_eq!(declaration.kind, legend_index(lsp::SemanticTokenType::PROPERTY));
    assert_eq!(declaration.modifiers & 1, 1, "a declaration");
    assert_eq!(reference.modifiers & 1, 0, "a use");

    let target = token_at(&tokens, at(text, "乙\n"));
    assert_eq!((target.kind, target.length), (legend_index(lsp::SemanticTokenType::EVENT), 1));

    let ty = token_at(&tokens, at(text, "int \"数量"));
    assert_eq!(ty.kind, legend_index(lsp::SemanticTokenType::TYPE));
    let form_use = token_at(&tokens, at(text, "表\n  node"));
    assert_eq!(form_use.kind, legend_index(lsp::SemanticTokenType::CLASS));
    let arrow = token_at(&tokens, at(text, "->"));
    assert_eq!((arrow.kind, arrow.length), (legend_index(lsp::SemanticTokenType::OPERATOR), 2));
}

#[test]
fn semantic_tokens_split_multi_line_block_comments() {
    let text = "/* 一\n二二 */\nconst 甲 = 1\n";
    let mut session = Session::new();
    let (uri, _) = session.open("block.flow", text);
    let tokens = session.semantic_tokens(&uri);
    let comment = legend_index(lsp::SemanticTokenType::COMMENT);
    assert_eq!(tokens[0], Token { line: 0, start: 0, length: 4, kind: comment, modifiers: 0 });
    assert_eq!(tokens[1], Token { line: 1, start: 0, length: 5, kind: comment, modifiers: 0 });
    let constant = token_at(&tokens, at(text, "甲"));
    assert_eq!(constant.kind, legend_index(lsp::SemanticTokenType::VARIABLE));
}

// ---------------------------------------------------------------- folding and symbols

#[test]
fn folding_ranges_cover_forms_nodes_and_blocks() {
    let text = example("leave");
    let mut session = Session::new();
    let (uri, _) = session.open("leave.flow", &text);
    let ranges = session.folding(&uri);
    let line = |needle: &str| at(&text, needle).line;
    let has = |start: u32, end: u32| ranges.iter().any(|range| range.start_line == start && range.end_line == end);
    let form_end = line("}\n\n/// 请假流程");
    assert!(has(line("form 请假单"), form_end - 1), "the form: {ranges:?}");
    assert!(has(line("类型: select"), line("  产假") + 1), "a select's options: {ranges:?}");
    assert!(has(line("workflow 请假"), text.lines().count() as u32 - 2), "the workflow: {ranges:?}");
    assert!(has(line("node 部门审批"), line("return 退回 -> 填写申请")), "a node: {ranges:?}");
    assert!(
        has(line("operators {\n      batch 1 { 部门.head }"), line("batch 2 { 申请人.manager }")),
        "operators: {ranges:?}"
    );
    assert!(has(line("exit 备案"), line("      }\n    }\n    return 年假不足")), "an exit block: {ranges:?}");
    assert!(has(line("    after {"), line("        人事意见 = ") + 1), "an after block: {ranges:?}");
    let comments: Vec<&lsp::FoldingRange> =
        ranges.iter().filter(|range| range.kind == Some(lsp::FoldingRangeKind::Comment)).collect();
    assert!(
        comments.iter().any(|range| range.start_line == 0 && range.end_line == 1),
        "the header comment: {comments:?}"
    );
    // One-line blocks (`operators { everyone }`) do not fold.
    assert!(!ranges.iter().any(|range| range.start_line == line("operators { everyone }") && range.kind.is_none()));
}

#[test]
fn document_symbols_nest_forms_details_workflows_and_exits() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);
    let symbols = session.symbols(&uri);
    let top: Vec<(&str, lsp::SymbolKind)> = symbols.iter().map(|symbol| (symbol.name.as_str(), symbol.kind)).collect();
    assert_eq!(
        top,
        vec![
            ("大额标准", lsp::SymbolKind::CONSTANT),
            ("报销单", lsp::SymbolKind::CLASS),
            ("费用报销", lsp::SymbolKind::MODULE)
        ]
    );
    let form = &symbols[1];
    assert_eq!(form.detail.as_deref(), Some("费用报销单"));
    assert_eq!(form.selection_range.start, at(&text, "报销单 \"费用报销单\""));
    assert_eq!(form.range.start, at(&text, "form 报销单"));
    let fields = form.children.as_ref().expect("fields");
    let names: Vec<&str> = fields.iter().map(|symbol| symbol.name.as_str()).collect();
    assert_eq!(&names[..5], &["申请人", "部门", "分部", "日期", "类别"]);
    assert!(!names.contains(&"金额"), "detail columns are under their detail");
    let first = &fields[0];
    assert_eq!(first.kind, lsp::SymbolKind::FIELD);
    assert_eq!(first.detail.as_deref(), Some("employee “报销人”"));
    let detail = fields.iter().find(|symbol| symbol.name == "明细").expect("明细");
    assert_eq!(detail.kind, lsp::SymbolKind::STRUCT);
    let columns: Vec<&str> = detail.children.iter().flatten().map(|symbol| symbol.name.as_str()).collect();
    assert_eq!(columns, vec!["费用日期", "摘要", "数量", "单价", "金额", "张数"]);

    let workflow = &symbols[2];
    assert_eq!(workflow.detail.as_deref(), Some("费用报销流程"));
    let nodes: Vec<(&str, Option<&str>)> =
        workflow.children.iter().flatten().map(|symbol| (symbol.name.as_str(), symbol.detail.as_deref())).collect();
    assert_eq!(
        nodes,
        vec![
            ("填写申请", Some("create")),
            ("部门审批", Some("approve")),
            ("财务审核", Some("approve")),
            ("总经理审批", Some("approve")),
            ("出纳付款", Some("realize")),
            ("归档", Some("archive"))
        ]
    );
    let review = workflow.children.iter().flatten().find(|symbol| symbol.name == "财务审核").expect("财务审核");
    assert_eq!(review.kind, lsp::SymbolKind::METHOD);
    let exits: Vec<(&str, Option<&str>)> =
        review.children.iter().flatten().map(|symbol| (symbol.name.as_str(), symbol.detail.as_deref())).collect();
    assert_eq!(
        exits,
        vec![
            ("大额", Some("exit -> 总经理审批")),
            ("招待", Some("exit -> 总经理审批")),
            ("同意", Some("exit -> 出纳付款")),
            ("退回", Some("return -> 填写申请"))
        ]
    );
    // Every child lies within its parent, every name within its symbol.
    fn check(symbol: &lsp::DocumentSymbol) {
        let inside = |inner: &lsp::Range, outer: &lsp::Range| {
            (inner.start.line, inner.start.character) >= (outer.start.line, outer.start.character)
                && (inner.end.line, inner.end.character) <= (outer.end.line, outer.end.character)
        };
        assert!(inside(&symbol.selection_range, &symbol.range), "{symbol:?}");
        for child in symbol.children.iter().flatten() {
            assert!(inside(&child.range, &symbol.range), "{} outside {}", child.name, symbol.name);
            check(child);
        }
    }
    symbols.iter().for_each(check);
}

// ---------------------------------------------------------------- robustness

#[test]
fn every_position_of_a_broken_file_answers_without_internal_errors() {
    let text = example("leave");
    // Delete the `}` closing the 部门审批 node's operators and add junk.
    let broken = edit(&text, "      batch 2 { 申请人.manager }\n    }\n", "      batch 2 { 申请人.manager }\n");
    let broken = edit(&broken, "    exit 三天以内", "    exit ->> 😀 when { \"未闭合\n    exit 三天以内");
    let broken = format!("{broken}\nnode ]] :: 😀 {{ . -> ");
    let mut session = Session::new();
    let (uri, diagnostics) = session.open("broken_leave.flow", &broken);
    assert!(!diagnostics.is_empty());
    let mut failures = Vec::new();
    let mut answered = 0;
    let mut positions: Vec<lsp::Position> =
        broken.char_indices().map(|(offset, _)| position(&broken, offset)).collect();
    positions.push(position(&broken, broken.len()));
    // The middle of a surrogate pair.
    for (offset, _) in broken.match_indices('😀') {
        let start = position(&broken, offset);
        positions.push(lsp::Position { line: start.line, character: start.character + 1 });
    }
    for position in positions {
        let at = json!({ "textDocument": { "uri": uri }, "position": position });
        let mut rename = at.clone();
        rename["newName"] = json!("新名字");
        let mut references = at.clone();
        references["context"] = json!({ "includeDeclaration": true });
        for (method, params) in [
            ("textDocument/hover", &at),
            ("textDocument/definition", &at),
            ("textDocument/completion", &at),
            ("textDocument/references", &references),
            ("textDocument/prepareRename", &at),
            ("textDocument/rename", &rename),
        ] {
            let response = session.raw(method, params.clone());
            match response.error {
                // A refused rename (built-in, nothing there) is a fine answer.
                Some(error) if method == "textDocument/rename" && error.code == ErrorCode::InvalidParams as i32 => {}
                Some(error) => failures.push(format!("{method} at {position:?}: {} {}", error.code, error.message)),
                None if method == "textDocument/hover"
                    && response.result.as_ref().is_some_and(|result| !result.is_null()) =>
                {
                    answered += 1
                }
                None => {}
            }
        }
    }
    assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), &failures[..failures.len().min(10)]);
    assert!(answered > 100, "the broken file is still analysed: {answered} hovers answered");
}

// ---------------------------------------------------------------- formatting

/// Applies text edits (UTF-16 ranges) to `text`.
fn apply(text: &str, edits: &[lsp::TextEdit]) -> String {
    let offset = |position: lsp::Position| {
        let mut line_start = 0;
        for _ in 0..position.line {
            line_start = text[line_start..].find('\n').map_or(text.len(), |index| line_start + index + 1);
        }
        let mut units = 0;
        for (index, character) in text[line_start..].char_indices() {
            if units >= position.character || character == '\n' {
                return line_start + index;
            }
            units += character.len_utf16() as u32;
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, &str)> =
        edits.iter().map(|edit| (offset(edit.range.start), offset(edit.range.end), edit.new_text.as_str())).collect();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    let mut result = text.to_string();
    for (start, end, new_text) in edits {
        result.replace_range(start..end, new_text);
    }
    result
}

#[test]
fn formatting_returns_the_formatter_output_and_nothing_for_formatted_files() {
    let messy = data("fmt/messy_form.flow");
    let mut session = Session::new();
    let (uri, _) = session.open("messy.flow", &messy);
    let edits = session.formatting(&uri).expect("edits");
    assert!(!edits.is_empty());
    assert_eq!(apply(&messy, &edits), flowc::format::format(&messy));

    // With astral characters and no trailing newline.
    let tricky = "form  表 \"😀\"{\n数量:int \"😀😀\"\n   }";
    let (uri, _) = session.open("tricky.flow", tricky);
    let edits = session.formatting(&uri).expect("edits");
    assert_eq!(apply(tricky, &edits), flowc::format::format(tricky));

    let formatted = example("leave");
    assert_eq!(flowc::format::format(&formatted), formatted, "the example is formatted");
    let (uri, _) = session.open("leave.flow", &formatted);
    assert_eq!(session.formatting(&uri), Some(vec![]));
}

// ---------------------------------------------------------------- KNOWN SERVER BUGS (not committed)

/// Bug A: a form that is not the file's first item (after `const`, `use` or `fn`) is not seen as a form.
#[test]
fn regression_completion_in_a_form_that_follows_a_const() {
    let original = example("expense");
    let items = complete(&edit(&original, "sum(明细.金额)", "sum(明细.‸)"));
    assert_offers(&items, &["费用日期", "摘要", "数量", "单价", "金额", "张数"]);
}

#[test]
fn regression_completion_in_a_validate_rule_of_a_form_that_follows_a_const() {
    let original = example("expense");
    let items = complete(&edit(&original, "validate 合计 > 0 ", "validate 合计 > ‸ "));
    assert_offers(&items, &["合计", "预支", "明细"]);
}

#[test]
fn regression_completion_at_a_line_start_in_a_form_that_follows_a_const() {
    let original = example("expense");
    let items = complete(&edit(&original, "  预支: money \"已预支金额\"\n", "  预支: money \"已预支金额\"\n  ‸\n"));
    assert_eq!(labels(&items), vec!["detail", "validate"]);
}

#[test]
fn regression_completion_in_a_form_that_follows_a_use() {
    let text = format!("use b\n\n{FORM_B}")
        .replace("  事由: textarea \"请假事由\"\n", "  事由: textarea \"请假事由\"\n  validate 天数 > ‸\n");
    let mut session = Session::new();
    session.write("b.flow", "const 无 = 0\n");
    let (text, position) = cursor(&text);
    let (uri, _) = session.open("a.flow", &text);
    let items = session.completion(&uri, position);
    assert_offers(&items, &["天数", "事由", "申请人"]);
}

#[test]
fn regression_completion_in_a_form_that_follows_a_fn() {
    let text = "/// 含税金额.\nfn 含税(金额: money, 税率: float) -> money = round(金额 * (1 + 税率), 2)\n\nform 单 {\n  价: money \"价\"\n  总: money \"总\" = ‸\n}\n";
    let items = complete(text);
    assert_offers(&items, &["价", "含税"]);
}

/// Bug B: the item being typed in is dropped by the parser's recovery, and completion reads the AST.
#[test]
fn regression_completion_in_a_row_formula_being_typed() {
    let items = complete(&edit(&expense(), "= 数量 * 单价", "= 数量 * ‸"));
    assert_offers(&items, &["数量", "单价", "张数"]);
}

#[test]
fn regression_completion_after_an_arrow_offers_the_node_being_edited() {
    let items = complete(&edit(&expense(), "exit 同意 -> 出纳付款\n    return", "exit 同意 -> ‸\n    return"));
    assert_offers(&items, &["财务审核"]);
}

#[test]
fn select_options_hover_and_find_their_uses_but_do_not_rename() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);
    // The string in `类别 == "招待"` resolves to the option `招待`.
    let use_site = at(&text, "\"招待\" and");
    let hover = session.hover_text(&uri, use_site).expect("a hover on an option string");
    assert!(
        hover.contains("option `招待`") && hover.contains("业务招待费") && hover.contains("select `类别`"),
        "{hover}"
    );
    let declaration = at(&text, "招待 \"业务招待费\"");
    let uses = session.references(&uri, declaration);
    assert!(uses.len() >= 3, "the declaration and the comparisons: {uses:?}");
    let refused =
        session.raw("textDocument/prepareRename", json!({ "textDocument": { "uri": uri }, "position": declaration }));
    assert_eq!(refused.result, Some(Value::Null), "options are not renamed: {refused:?}");
}

// ---------------------------------------------------------------- tests (docs/testing.md)

/// The expense example with a test after it, `‸` replacing `hole` in the test.
fn expense_with_test(hole: &str) -> String {
    let test = "\ntest 招待 {\n  workflow 费用报销\n  creator \"E0123\"\n  form { 类别 = \"招待\" }\n  submit \"E0123\"\n  expect node 部门审批, exit 提交\n  submit \"E0121\" refused R0203\n}\n";
    format!("{}{}", expense(), test.replacen(hole, "‸", 1))
}

#[test]
fn completion_in_a_test_offers_its_keywords_workflows_nodes_exits_fields_and_codes() {
    let items = complete(&expense_with_test("submit \"E0123\"\n"));
    assert_offers(&items, &["submit", "reject", "expect", "creator", "form"]);
    assert_not_offered(&items, &["if", "script"]);

    let items = complete(&expense_with_test("费用报销"));
    assert_offers(&items, &["费用报销"]);

    let items = complete(&expense_with_test("部门审批"));
    assert_offers(&items, &["部门审批", "财务审核", "归档"]);

    let items = complete(&expense_with_test("提交\n"));
    assert_offers(&items, &["提交", "招待", "退回财务"]);

    let items = complete(&expense_with_test("R0203"));
    assert_offers(&items, &["R0203", "R0302"]);
    assert_not_offered(&items, &["E0101"]);

    let items = complete(&expense_with_test("类别 = "));
    assert_offers(&items, &["类别", "事由", "明细"]);

    let items = complete(&expense_with_test("node 部门审批"));
    assert_offers(&items, &["node", "pending", "status", "exit", "合计"]);
}

#[test]
fn an_exit_no_test_takes_is_a_hint_on_the_workflow() {
    let mut session = Session::new();
    session.write("org.toml", &std::fs::read_to_string("examples/expense/org.toml").expect("org"));
    std::fs::create_dir_all(session.dir.join("scripts")).expect("scripts folder");
    let script = std::fs::read_to_string("examples/expense/scripts/post_to_ledger.rhai").expect("script");
    session.write("scripts/post_to_ledger.rhai", &script);
    let expense = example("expense");
    // One test, beside the workflow: it takes 提交 and 部门审批's 退回, nothing else.
    session.write(
        "expense.test.flow",
        "use expense\n\ntest 退回 {\n  workflow 费用报销\n  creator \"E0123\"\n  form { 日期 = \"2026-11-12\"; 类别 = \"差旅\"; 发票 = [\"a.pdf\"]; 明细 = [{ 费用日期: \"2026-11-10\", 数量: 1, 单价: \"100.00\", 张数: 1 }] }\n  submit \"E0123\"\n  reject \"E0121\"\n  expect exit 退回\n}\n",
    );
    let (_, diagnostics) = session.open("expense.flow", &expense);
    let hints: Vec<&str> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == Some(lsp::DiagnosticSeverity::HINT))
        .map(|diagnostic| diagnostic.message.as_str())
        .collect();
    assert!(
        hints.contains(&"no test takes exit `招待` of `财务审核` (flowc test --coverage)"),
        "{hints:?} {diagnostics:?}"
    );
    assert!(!hints.iter().any(|hint| hint.contains("`提交`")), "{hints:?}");
    assert!(!hints.iter().any(|hint| hint.contains("`退回` of `部门审批`")), "{hints:?}");
    assert_eq!(hints.len(), 9, "{hints:?}");
}

// ---------------------------------------------------------------- issue 10 keywords

#[test]
fn completion_offers_the_issue_10_keywords_where_they_stand() {
    // A workflow member at a line start: `supervisors` among the settings.
    let items = complete(&edit(&expense(), "  form 报销单\n", "  form 报销单\n  ‸\n"));
    assert_offers(&items, &["supervisors", "node", "remind"]);
    // A node member at a line start: `validate` among them.
    let items = complete(&edit(&expense(), "    exit 提交 -> 部门审批", "    ‸\n    exit 提交 -> 部门审批"));
    assert_offers(&items, &["validate", "required", "exit", "return"]);
    // Inside `supervisors { … }`: people, as inside `operators { … }`.
    let items = complete(&edit(&expense(), "  form 报销单\n", "  form 报销单\n  supervisors { ‸ }\n"));
    assert_offers(&items, &["role", "申请人"]);
    assert_not_offered(&items, &["node", "supervisors"]);
}

#[test]
fn hover_on_a_node_shows_its_routes() {
    let text = example("expense");
    let mut session = Session::new();
    let (uri, _) = session.open("expense.flow", &text);
    let node = session.hover_text(&uri, at(&text, "财务审核 \"财务审核\"")).expect("hover on node");
    assert!(node.contains("**Routes** (which requests take which exit):"), "{node}");
    assert!(node.contains("- `大额` → `总经理审批`: 合计 > 10000.00"), "{node}");
    assert!(node.contains("- `招待` → `总经理审批`: 3000.00 < 合计 <= 10000.00 and 类别 = 招待"), "{node}");
    assert!(node.contains("- no exit: none (proved)"), "{node}");
    assert!(node.contains("- batch 1 `role(\"财务经理\")`: 合计 > 5000.00"), "{node}");
}

// ---------------------------------------------------------------- forks and merges

fn forks() -> String {
    std::fs::read_to_string("tests/data/run/forks/forks.flow").expect("the forks case")
}

#[test]
fn completion_knows_forks_merges_and_waits() {
    // A node item: `fork` and `wait` are offered with the others.
    let items = complete(&edit(&forks(), "    editable 出库单号\n", "    editable 出库单号\n    ‸\n"));
    assert_offers(&items, &["fork", "wait", "exit", "operators"]);
    // Inside `fork { … }`: its exits.
    let items = complete(&edit(&forks(), "      exit 质检 -> 质检确认\n", "      exit 质检 -> 质检确认\n      ‸\n"));
    assert_eq!(labels(&items), vec!["exit"]);
    // A node kind: `merge` is one.
    let items = complete(&edit(&forks(), "node 汇合 \"发货汇合\": merge", "node 汇合 \"发货汇合\": ‸"));
    assert_offers(&items, &["create", "approve", "realize", "merge", "archive"]);
    // After `wait`: `all` and the branches of the fork merging here, not another fork's.
    let items =
        complete(&edit(&forks(), "    wait all\n    exit 继续 -> 到货确认", "    wait ‸\n    exit 继续 -> 到货确认"));
    assert_offers(&items, &["all", "物流", "库房"]);
    assert_not_offered(&items, &["质检", "顺丰"]);
    let branch = items.iter().find(|item| item.label == "库房").expect("库房");
    assert_eq!(branch.detail.as_deref(), Some("branch of the fork at `财务确认`"));
    // After `wait 物流,`: the branches again.
    let items = complete(&edit(
        &forks(),
        "    wait all\n    exit 继续 -> 到货确认",
        "    wait 物流, ‸\n    exit 继续 -> 到货确认",
    ));
    assert_offers(&items, &["物流", "库房"]);
}

#[test]
fn hover_explains_forks_merges_and_branches() {
    let text =
        edit(&forks(), "    wait all\n    exit 继续 -> 到货确认", "    wait 物流, 库房\n    exit 继续 -> 到货确认");
    let mut session = Session::new();
    let (uri, diagnostics) = session.open("forks.flow", &text);
    // The one finding is the gap the R0201 run case shows: 自提 and no 出库 start no branch.
    let codes: Vec<_> = diagnostics.iter().map(|diagnostic| format!("{:?}", diagnostic.code)).collect();
    assert_eq!(codes, vec![r#"Some(String("W0701"))"#.to_owned()], "{diagnostics:?}");
    assert!(diagnostics[0].message.contains("自提 = true and 需要出库 = false"), "{diagnostics:?}");

    let fork_node = session.hover_text(&uri, at(&text, "财务确认: approve")).expect("hover on the forking node");
    assert!(fork_node.contains("**Fork**: every exit that holds is taken, each starting a branch:\n- `exit 物流 -> 物流登记 when not 自提`"), "{fork_node}");
    assert!(fork_node.contains("**Exits**, tried in order:\n- `return 货款未到账 -> 申请`"), "{fork_node}");

    let in_branch = session.hover_text(&uri, at(&text, "质检确认: approve")).expect("hover on a branch node");
    assert!(in_branch.contains("In branch `库房/质检`."), "{in_branch}");

    let merge = session.hover_text(&uri, at(&text, "汇合 \"发货汇合\"")).expect("hover on the merge");
    assert!(merge.contains("**Merge** of the fork at `财务确认`, `wait 物流, 库房`"), "{merge}");

    let branch =
        session.hover_text(&uri, at(&text, "库房\n    exit 继续 -> 到货确认")).expect("hover on a waited branch");
    assert!(branch.contains("branch `库房` of the fork at node `财务确认`"), "{branch}");
    let definition = session.definition(&uri, at(&text, "库房\n    exit 继续 -> 到货确认")).expect("definition");
    assert_eq!(definition.range.start, at(&text, "库房 -> 库房出库"));

    for (needle, words) in [
        ("fork {\n      exit 物流", "A fork (分叉)"),
        ("wait 物流", "When a merge lets"),
        ("merge {\n    wait 物流", "A merge node (合并)"),
    ] {
        let hover = session.hover_text(&uri, at(&text, needle)).unwrap_or_else(|| panic!("hover on `{needle}`"));
        assert!(hover.contains(words), "{needle}: {hover}");
    }
}
