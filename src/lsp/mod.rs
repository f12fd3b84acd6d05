//! The bundled language server (`flowc lsp`, LSP over stdio). The only
//! module that knows LSP types. It keeps open documents in memory and
//! re-checks them all on every change with the same checker as
//! `flowc check`; requests are answered from that analysis. Frames are
//! read and written by `transport.rs`, which answers malformed input with
//! a JSON-RPC error instead of ending the server.

mod actions;
mod complete;
mod convert;
mod decls;
mod hover;
mod navigate;
mod outline;
mod server;
mod transport;

use std::panic::{catch_unwind, AssertUnwindSafe};

use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use serde_json::Value;

pub use server::Server;

/// What the server can do, sent in answer to `initialize`.
pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(lsp::TextDocumentSyncKind::INCREMENTAL)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), ">".into(), ":".into(), "\"".into(), " ".into()]),
            ..lsp::CompletionOptions::default()
        }),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
            lsp::SemanticTokensOptions {
                legend: lsp::SemanticTokensLegend {
                    token_types: outline::TOKEN_TYPES.to_vec(),
                    token_modifiers: outline::TOKEN_MODIFIERS.to_vec(),
                },
                full: Some(lsp::SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: Default::default(),
            },
        )),
        ..lsp::ServerCapabilities::default()
    }
}

/// Where the server is in the life cycle the protocol prescribes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    /// Before `initialize`: requests get -32002, notifications are dropped.
    Uninitialized,
    Running,
    /// After `shutdown`: requests are refused until `exit`.
    ShuttingDown,
}

/// Runs the server on stdin/stdout until the client says `exit` or closes
/// stdin. Fails only when stdout cannot be written, or when `exit` comes
/// without `shutdown` (the protocol asks for exit status 1 then).
pub fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    serve(stdin.lock(), stdout.lock())
}

/// The message loop, on any input and output (tests give it bytes).
pub fn serve(
    input: impl std::io::BufRead,
    output: impl std::io::Write,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut reader = transport::Reader::new(input);
    let mut writer = transport::Writer::new(output);
    let mut server = Server::new();
    let mut lifecycle = Lifecycle::Uninitialized;
    while let Some(incoming) = reader.next()? {
        let message = match incoming {
            transport::Incoming::Message(message) => message,
            transport::Incoming::Rejected(rejection) => {
                writer.reject(&rejection)?;
                continue;
            }
        };
        match message {
            Message::Request(request) => {
                let response = match (lifecycle, request.method.as_str()) {
                    (Lifecycle::Uninitialized, "initialize") => {
                        lifecycle = Lifecycle::Running;
                        Response::new_ok(request.id, initialize_result())
                    }
                    (Lifecycle::Uninitialized, _) => Response::new_err(
                        request.id,
                        ErrorCode::ServerNotInitialized as i32,
                        "the server has not received `initialize` yet".into(),
                    ),
                    (Lifecycle::ShuttingDown, _) => Response::new_err(
                        request.id,
                        ErrorCode::InvalidRequest as i32,
                        "the server is shutting down".into(),
                    ),
                    (Lifecycle::Running, "initialize") => Response::new_err(
                        request.id,
                        ErrorCode::InvalidRequest as i32,
                        "the server is already initialized".into(),
                    ),
                    (Lifecycle::Running, "shutdown") => {
                        lifecycle = Lifecycle::ShuttingDown;
                        Response::new_ok(request.id, Value::Null)
                    }
                    (Lifecycle::Running, _) => {
                        let id = request.id.clone();
                        match catch_unwind(AssertUnwindSafe(|| handle_request(&mut server, request))) {
                            Ok(response) => response,
                            Err(_) => Response::new_err(
                                id,
                                ErrorCode::InternalError as i32,
                                "flowc failed on this request".into(),
                            ),
                        }
                    }
                };
                writer.send(&Message::Response(response))?;
            }
            Message::Notification(notification) => {
                if notification.method == lsp::notification::Exit::METHOD {
                    if lifecycle == Lifecycle::ShuttingDown {
                        return Ok(());
                    }
                    return Err("the client sent `exit` without `shutdown`".into());
                }
                if lifecycle != Lifecycle::Running {
                    continue;
                }
                let published = catch_unwind(AssertUnwindSafe(|| handle_notification(&mut server, notification)))
                    .unwrap_or_default();
                for params in published {
                    let notification = Notification::new(lsp::notification::PublishDiagnostics::METHOD.into(), params);
                    writer.send(&Message::Notification(notification))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// The answer to `initialize`.
fn initialize_result() -> Value {
    serde_json::json!({
        "capabilities": serde_json::to_value(capabilities()).unwrap_or(Value::Null),
        "serverInfo": { "name": "flowc", "version": env!("CARGO_PKG_VERSION") },
    })
}

/// Document notifications; returns the diagnostics to publish.
pub fn handle_notification(server: &mut Server, notification: Notification) -> Vec<lsp::PublishDiagnosticsParams> {
    use lsp::notification::{DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument};
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let Ok(params) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(notification.params) else {
                return Vec::new();
            };
            server.open(params.text_document.uri, params.text_document.text, params.text_document.version);
        }
        DidChangeTextDocument::METHOD => {
            let Ok(params) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(notification.params) else {
                return Vec::new();
            };
            server.change(&params.text_document.uri, params.content_changes, params.text_document.version);
        }
        DidCloseTextDocument::METHOD => {
            let Ok(params) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(notification.params) else {
                return Vec::new();
            };
            server.close(&params.text_document.uri);
        }
        // A saved file that other open documents `use` changes what they see.
        DidSaveTextDocument::METHOD => {}
        _ => return Vec::new(),
    }
    server.analyze()
}

fn parse<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, Response> {
    serde_json::from_value(request.params.clone())
        .map_err(|error| Response::new_err(request.id.clone(), ErrorCode::InvalidParams as i32, error.to_string()))
}

fn reply<T: serde::Serialize>(request: &Request, result: T) -> Response {
    Response::new_ok(request.id.clone(), serde_json::to_value(result).unwrap_or(Value::Null))
}

/// Answers one request from the latest analysis.
pub fn handle_request(server: &mut Server, request: Request) -> Response {
    match answer(server, &request) {
        Ok(response) | Err(response) => response,
    }
}

fn answer(server: &mut Server, request: &Request) -> Result<Response, Response> {
    use lsp::request::*;
    Ok(match request.method.as_str() {
        HoverRequest::METHOD => {
            let params: lsp::HoverParams = parse(request)?;
            let position = params.text_document_position_params;
            let hover = server
                .locate(&position.text_document.uri, position.position)
                .and_then(|(analysis, file, offset)| hover::hover(analysis, file, offset));
            reply(request, hover)
        }
        GotoDefinition::METHOD => {
            let params: lsp::GotoDefinitionParams = parse(request)?;
            let position = params.text_document_position_params;
            let location = navigate::definition(server, &position.text_document.uri, position.position);
            reply(request, location.map(lsp::GotoDefinitionResponse::Scalar))
        }
        References::METHOD => {
            let params: lsp::ReferenceParams = parse(request)?;
            let position = params.text_document_position;
            reply(
                request,
                navigate::references(
                    server,
                    &position.text_document.uri,
                    position.position,
                    params.context.include_declaration,
                ),
            )
        }
        PrepareRenameRequest::METHOD => {
            let params: lsp::TextDocumentPositionParams = parse(request)?;
            reply(request, navigate::prepare_rename(server, &params.text_document.uri, params.position))
        }
        Rename::METHOD => {
            let params: lsp::RenameParams = parse(request)?;
            let position = params.text_document_position;
            match navigate::rename(server, &position.text_document.uri, position.position, &params.new_name) {
                Ok(edit) => reply(request, edit),
                Err(navigate::RenameError(message)) => {
                    Response::new_err(request.id.clone(), ErrorCode::InvalidParams as i32, message)
                }
            }
        }
        Completion::METHOD => {
            let params: lsp::CompletionParams = parse(request)?;
            let position = params.text_document_position;
            let items = server
                .locate(&position.text_document.uri, position.position)
                .map(|(analysis, file, offset)| complete::completion(analysis, file, offset))
                .unwrap_or_default();
            reply(request, lsp::CompletionResponse::Array(items))
        }
        DocumentSymbolRequest::METHOD => {
            let params: lsp::DocumentSymbolParams = parse(request)?;
            let symbols = server
                .locate(&params.text_document.uri, lsp::Position::default())
                .map(|(analysis, file, _)| outline::document_symbols(analysis, file))
                .unwrap_or_default();
            reply(request, lsp::DocumentSymbolResponse::Nested(symbols))
        }
        SemanticTokensFullRequest::METHOD => {
            let params: lsp::SemanticTokensParams = parse(request)?;
            let data = server
                .locate(&params.text_document.uri, lsp::Position::default())
                .map(|(analysis, file, _)| outline::semantic_tokens(analysis, file))
                .unwrap_or_default();
            reply(request, lsp::SemanticTokensResult::Tokens(lsp::SemanticTokens { result_id: None, data }))
        }
        FoldingRangeRequest::METHOD => {
            let params: lsp::FoldingRangeParams = parse(request)?;
            let ranges = server
                .locate(&params.text_document.uri, lsp::Position::default())
                .map(|(analysis, file, _)| outline::folding_ranges(analysis, file))
                .unwrap_or_default();
            reply(request, ranges)
        }
        Formatting::METHOD => {
            let params: lsp::DocumentFormattingParams = parse(request)?;
            reply(request, actions::format_document(server, &params.text_document.uri))
        }
        CodeActionRequest::METHOD => {
            let params: lsp::CodeActionParams = parse(request)?;
            reply(request, actions::quick_fixes(&params))
        }
        _ => Response::new_err(
            request.id.clone(),
            ErrorCode::MethodNotFound as i32,
            format!("flowc does not answer `{}`", request.method),
        ),
    })
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn frame(message: &Value) -> String {
        let body = message.to_string();
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// The bodies the server wrote, in order.
    fn answers(output: &[u8]) -> Vec<Value> {
        let text = std::str::from_utf8(output).expect("utf-8");
        text.split("Content-Length: ")
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (_, body) = part.split_once("\r\n\r\n").expect("a header");
                serde_json::from_str(body).expect("json")
            })
            .collect()
    }

    #[test]
    fn the_loop_answers_in_order_through_broken_frames_and_ends_on_exit() {
        let mut input = String::new();
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "hover" }));
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {} }));
        input += "Content-Length: nine\r\n\r\n{}";
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "id": 3, "method": "no/such/method" }));
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "id": 4, "method": "shutdown" }));
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "id": 5, "method": "textDocument/hover" }));
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "method": "exit" }));
        input += &frame(&serde_json::json!({ "jsonrpc": "2.0", "id": 6, "method": "shutdown" }));
        let mut output = Vec::new();
        serve(input.as_bytes(), &mut output).expect("exit after shutdown ends the loop without error");
        let answers = answers(&output);
        let summary: Vec<(Value, Value)> =
            answers.iter().map(|answer| (answer["id"].clone(), answer["error"]["code"].clone())).collect();
        assert_eq!(
            summary,
            [
                (1.into(), (-32002).into()),
                (2.into(), Value::Null),
                (Value::Null, (-32700).into()),
                (3.into(), (-32601).into()),
                (4.into(), Value::Null),
                (5.into(), (-32600).into()),
            ],
            "{answers:#?}"
        );
        assert!(answers[1]["result"]["capabilities"].is_object());
    }

    #[test]
    fn exit_without_shutdown_is_an_error_and_the_end_of_input_is_not() {
        let exit = frame(&serde_json::json!({ "jsonrpc": "2.0", "method": "exit" }));
        assert!(serve(exit.as_bytes(), Vec::new()).is_err());
        assert!(serve(&b""[..], Vec::new()).is_ok());
    }
}
