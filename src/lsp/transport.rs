//! The base protocol, read and written by hand: JSON-RPC messages framed by
//! a `Content-Length` header. `lsp-server`'s reader ends the connection on
//! the first frame it cannot read; this one answers the error JSON-RPC 2.0
//! gives for it and reads on, so no input ends the server:
//!
//! * a frame whose header cannot be read (no `Content-Length`, a length that
//!   is not a number, a line that is not `Name: value`): -32700 with id
//!   `null`, then reading resumes at the next `Content-Length:` in the input
//!   (even in the middle of a line, so a body sent without its header does
//!   not hide the message after it);
//! * a length above [`MAX_MESSAGE_BYTES`]: -32600, nothing is allocated for
//!   it, and reading resumes at the next `Content-Length:`;
//! * a body that is not UTF-8 or not JSON (nesting deeper than 128 included):
//!   -32700 with id `null`; the length framed it, so the next frame follows;
//! * JSON that is not a request, notification or response: -32600 with the
//!   message's id when it has a usable one, else `null`.
//!
//! The reader allocates no more than what has arrived: a body grows as its
//! bytes come in, never to a length the header merely claims.

use std::io::{self, BufRead, Read, Write};

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use serde_json::Value;

/// The largest message read: 64 MiB, far above any real document (the
/// checker refuses much smaller files) and far below what would hurt.
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Longest header line: real ones are about 30 bytes.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// What the header names its length with, compared ignoring ASCII case.
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// One frame read from the client.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// Not a message: answer this error, then read on.
    Rejected(Rejection),
}

/// A JSON-RPC error answer to a frame that was not a usable message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The message's id if it had a usable one, else `null`.
    pub id: Value,
    pub code: i32,
    pub message: String,
}

impl Rejection {
    fn parse_error(message: impl Into<String>) -> Rejection {
        Rejection { id: Value::Null, code: ErrorCode::ParseError as i32, message: message.into() }
    }

    fn invalid_request(id: Value, message: impl Into<String>) -> Rejection {
        Rejection { id, code: ErrorCode::InvalidRequest as i32, message: message.into() }
    }
}

/// One line of input, newline included.
enum Line {
    Complete(Vec<u8>),
    /// [`MAX_HEADER_LINE`] bytes and still no newline.
    TooLong(Vec<u8>),
    /// The input ended (possibly in the middle of a line).
    End,
}

/// Reads frames from the client (stdin, or any bytes in tests).
pub struct Reader<R> {
    input: R,
    /// The first line of the next header, found while resynchronising.
    carried: Option<Vec<u8>>,
    /// The input ended while resynchronising: nothing more to read.
    ended: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader { input, carried: None, ended: false }
    }

    /// The next frame, or `None` when the input has ended (a frame cut off
    /// by the end of input is dropped: nobody is left to answer).
    pub fn next(&mut self) -> io::Result<Option<Incoming>> {
        if self.ended {
            return Ok(None);
        }
        let mut content_length: Option<u64> = None;
        let mut fields = 0usize;
        loop {
            let line = match self.carried.take() {
                Some(line) => Line::Complete(line),
                None => self.read_line()?,
            };
            let bytes = match line {
                Line::End => return Ok(None),
                Line::TooLong(bytes) => {
                    return self.malformed(&bytes, "a header line is longer than 8 KiB".into());
                }
                Line::Complete(bytes) => bytes,
            };
            let field = trim_line_end(&bytes);
            if field.is_empty() {
                // Blank lines between messages are tolerated.
                if fields == 0 {
                    continue;
                }
                break;
            }
            fields += 1;
            match header_field(field) {
                Ok(HeaderField::ContentLength(length)) => content_length = Some(length),
                Ok(HeaderField::Other) => {}
                Err(reason) => return self.malformed(&bytes, reason),
            }
        }
        let Some(length) = content_length else {
            return self.malformed(&[], "the header has no `Content-Length`".into());
        };
        if length > MAX_MESSAGE_BYTES {
            let rejection = Rejection::invalid_request(
                Value::Null,
                format!("a message of {length} bytes is larger than the limit of {MAX_MESSAGE_BYTES} bytes (64 MiB)"),
            );
            self.resynchronise(&[])?;
            return Ok(Some(Incoming::Rejected(rejection)));
        }
        let mut body = Vec::new();
        (&mut self.input).take(length).read_to_end(&mut body)?;
        if (body.len() as u64) < length {
            return Ok(None);
        }
        Ok(Some(message_of(&body)))
    }

    /// Answers a header that cannot be read with -32700 and finds the next
    /// header: in the rest of the bad line if it holds one, else further on.
    fn malformed(&mut self, line: &[u8], reason: String) -> io::Result<Option<Incoming>> {
        self.resynchronise(line)?;
        Ok(Some(Incoming::Rejected(Rejection::parse_error(format!("cannot read the message header: {reason}")))))
    }

    /// Sets `carried` to the next line starting with `Content-Length:`,
    /// searched for after the first byte of `line`, then in the input.
    fn resynchronise(&mut self, line: &[u8]) -> io::Result<()> {
        if let Some(start) = find_content_length(line.get(1..).unwrap_or_default()) {
            let rest = line.get(start + 1..).unwrap_or_default().to_vec();
            self.carried = Some(self.finish_line(rest)?);
            return Ok(());
        }
        if self.skip_to_content_length()? {
            self.carried = Some(self.finish_line(CONTENT_LENGTH.to_vec())?);
        } else {
            self.ended = true;
        }
        Ok(())
    }

    /// Completes a line whose start has been read.
    fn finish_line(&mut self, mut start: Vec<u8>) -> io::Result<Vec<u8>> {
        if start.ends_with(b"\n") {
            return Ok(start);
        }
        match self.read_line()? {
            Line::Complete(rest) | Line::TooLong(rest) => start.extend_from_slice(&rest),
            Line::End => {}
        }
        Ok(start)
    }

    /// Reads one line of at most [`MAX_HEADER_LINE`] bytes.
    fn read_line(&mut self) -> io::Result<Line> {
        let mut line = Vec::new();
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(Line::End);
            }
            let room = MAX_HEADER_LINE.saturating_sub(line.len());
            let window = available.get(..room.min(available.len())).unwrap_or_default();
            if let Some(newline) = window.iter().position(|&byte| byte == b'\n') {
                line.extend_from_slice(window.get(..=newline).unwrap_or_default());
                self.input.consume(newline + 1);
                return Ok(Line::Complete(line));
            }
            let taken = window.len();
            line.extend_from_slice(window);
            self.input.consume(taken);
            if line.len() >= MAX_HEADER_LINE {
                return Ok(Line::TooLong(line));
            }
        }
    }

    /// Consumes input up to and including the next `Content-Length:`
    /// (ASCII case ignored); false when the input ends first. Holds nothing
    /// but the reader's buffer, however much it skips.
    fn skip_to_content_length(&mut self) -> io::Result<bool> {
        let mut matched = 0usize;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(false);
            }
            let mut consumed = available.len();
            let mut found = false;
            for (index, byte) in available.iter().enumerate() {
                let byte = byte.to_ascii_lowercase();
                if CONTENT_LENGTH.get(matched) == Some(&byte) {
                    matched += 1;
                    if matched == CONTENT_LENGTH.len() {
                        consumed = index + 1;
                        found = true;
                        break;
                    }
                } else {
                    // No proper prefix of the needle is also its suffix,
                    // so a mismatch restarts at this byte.
                    matched = usize::from(CONTENT_LENGTH.first() == Some(&byte));
                }
            }
            self.input.consume(consumed);
            if found {
                return Ok(true);
            }
        }
    }
}

/// Where `Content-Length:` starts in `bytes` (ASCII case ignored).
fn find_content_length(bytes: &[u8]) -> Option<usize> {
    bytes.windows(CONTENT_LENGTH.len()).position(|window| window.eq_ignore_ascii_case(CONTENT_LENGTH))
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

enum HeaderField {
    ContentLength(u64),
    /// `Content-Type` and any other field: not needed.
    Other,
}

/// One `Name: value` line of a header.
fn header_field(line: &[u8]) -> Result<HeaderField, String> {
    let Some(colon) = line.iter().position(|&byte| byte == b':') else {
        return Err(format!("`{}` is not a `Name: value` field", shown(line)));
    };
    let name = line.get(..colon).unwrap_or_default();
    let value = line.get(colon + 1..).unwrap_or_default();
    if name.is_empty() || !name.iter().all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-') {
        return Err(format!("`{}` is not a `Name: value` field", shown(line)));
    }
    if !name.eq_ignore_ascii_case(b"content-length") {
        return Ok(HeaderField::Other);
    }
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("the Content-Length `{}` is not a number of bytes", shown(digits)));
    }
    // Only digits, so the one failure left is a number past u64: too large.
    Ok(HeaderField::ContentLength(
        std::str::from_utf8(digits).ok().and_then(|text| text.parse().ok()).unwrap_or(u64::MAX),
    ))
}

/// A header's bytes as text for a message, cut to a readable length.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.into_owned(),
    }
}

/// A body as a message, or the error that answers it.
fn message_of(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            let reason = if std::str::from_utf8(body).is_err() {
                "the message is not valid UTF-8".to_string()
            } else {
                format!("the message is not valid JSON: {error}")
            };
            return Incoming::Rejected(Rejection::parse_error(reason));
        }
    };
    match classify(value) {
        Ok(message) => Incoming::Message(message),
        Err(rejection) => Incoming::Rejected(rejection),
    }
}

/// Sorts JSON into a request, notification or response (JSON-RPC 2.0 §4–5).
fn classify(value: Value) -> Result<Message, Rejection> {
    let Value::Object(mut object) = value else {
        return Err(Rejection::invalid_request(
            Value::Null,
            "a message must be a JSON object (batches are not part of LSP)",
        ));
    };
    let id = object.remove("id");
    // The id to answer with: JSON-RPC ids are strings or numbers.
    let answer_id = match &id {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    match object.remove("method") {
        Some(Value::String(method)) => {
            let params = object.remove("params").unwrap_or(Value::Null);
            match id {
                None => Ok(Message::Notification(Notification { method, params })),
                Some(id) => match serde_json::from_value::<RequestId>(id) {
                    Ok(id) => Ok(Message::Request(Request { id, method, params })),
                    Err(_) => Err(Rejection::invalid_request(
                        answer_id,
                        "a request id must be a string or an integer that fits in 32 bits",
                    )),
                },
            }
        }
        Some(_) => Err(Rejection::invalid_request(answer_id, "`method` must be a string")),
        None if id.is_some() && (object.contains_key("result") || object.contains_key("error")) => {
            object.insert("id".into(), id.unwrap_or(Value::Null));
            serde_json::from_value::<Response>(Value::Object(object))
                .map(Message::Response)
                .map_err(|_| Rejection::invalid_request(answer_id, "malformed response"))
        }
        None => Err(Rejection::invalid_request(
            answer_id,
            "a message needs a `method` (or, for a response, `result` or `error`)",
        )),
    }
}

/// Writes framed messages to the client.
pub struct Writer<W> {
    output: W,
}

impl<W: Write> Writer<W> {
    pub fn new(output: W) -> Writer<W> {
        Writer { output }
    }

    pub fn send(&mut self, message: &Message) -> io::Result<()> {
        message.write(&mut self.output)
    }

    pub fn reject(&mut self, rejection: &Rejection) -> io::Result<()> {
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": rejection.id,
            "error": { "code": rejection.code, "message": rejection.message },
        })
        .to_string();
        write!(self.output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        self.output.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// Every frame of `input`: a method name, or `error CODE id`.
    fn read_all(input: &[u8]) -> Vec<String> {
        let mut reader = Reader::new(input);
        let mut out = Vec::new();
        while let Some(incoming) = reader.next().expect("reading from memory") {
            out.push(match incoming {
                Incoming::Message(Message::Request(request)) => request.method,
                Incoming::Message(Message::Notification(notification)) => notification.method,
                Incoming::Message(Message::Response(response)) => format!("response {}", response.id),
                Incoming::Rejected(rejection) => format!("error {} {}", rejection.code, rejection.id),
            });
        }
        out
    }

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{}}"#;

    #[test]
    fn well_formed_frames_are_read_in_order() {
        let input = format!("{}{}", frame(HOVER), frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#));
        assert_eq!(read_all(input.as_bytes()), ["textDocument/hover", "initialized"]);
    }

    #[test]
    fn header_names_ignore_case_and_other_fields_are_skipped() {
        let input = format!(
            "content-length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{HOVER}",
            HOVER.len()
        );
        assert_eq!(read_all(input.as_bytes()), ["textDocument/hover"]);
    }

    #[test]
    fn huge_lengths_are_refused_without_allocating_and_reading_goes_on() {
        for length in ["18446744073709551615", "4000000000", "99999999999", "99999999999999999999999"] {
            let input = format!("Content-Length: {length}\r\n\r\n{{\"a\":1}}{}", frame(HOVER));
            assert_eq!(read_all(input.as_bytes()), ["error -32600 null", "textDocument/hover"], "{length}");
        }
    }

    #[test]
    fn unreadable_headers_are_answered_and_the_next_header_is_found() {
        let cases = [
            format!("Content-Length: abc\r\n\r\n{HOVER}"),
            format!("Content-Length: -5\r\n\r\n{HOVER}"),
            format!("Content-Length:\r\n\r\n{HOVER}"),
            format!("Content-Type: text/plain\r\n\r\n{HOVER}"),
            format!("garbage without a colon\r\n\r\n{HOVER}"),
            // A body without its header, glued to the next frame.
            HOVER.to_string(),
            // No blank line after the header: the body runs into the next header.
            format!("Content-Length: {}\r\n{HOVER}", HOVER.len()),
            "x".repeat(20_000),
        ];
        for case in cases {
            let input = format!("{case}{}", frame(HOVER));
            assert_eq!(read_all(input.as_bytes()), ["error -32700 null", "textDocument/hover"], "{case:.80}");
        }
    }

    #[test]
    fn bodies_that_are_not_messages_get_the_json_rpc_error() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let cases: [(&[u8], &str); 9] = [
            (b"{not json", "error -32700 null"),
            (b"\xff\xfe{}", "error -32700 null"),
            (deep.as_bytes(), "error -32700 null"),
            (b"[]", "error -32600 null"),
            (b"42", "error -32600 null"),
            (br#"{"id":3}"#, "error -32600 3"),
            (br#"{"id":"x","method":5}"#, "error -32600 \"x\""),
            (br#"{"id":1.5,"method":"shutdown"}"#, "error -32600 1.5"),
            (br#"{"id":[1],"method":"shutdown"}"#, "error -32600 null"),
        ];
        for (body, expected) in cases {
            let mut input = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
            input.extend_from_slice(body);
            input.extend_from_slice(frame(HOVER).as_bytes());
            assert_eq!(read_all(&input), [expected, "textDocument/hover"], "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn responses_from_the_client_are_messages() {
        let input = frame(r#"{"jsonrpc":"2.0","id":4,"result":null}"#);
        assert_eq!(read_all(input.as_bytes()), ["response 4"]);
    }

    #[test]
    fn input_that_ends_inside_a_frame_ends_the_reading() {
        assert!(read_all(b"Content-Length: 100\r\n\r\n{\"id\":").is_empty());
        assert!(read_all(b"Content-Len").is_empty());
        assert_eq!(read_all(b"Content-Length: x\r\n\r\n"), ["error -32700 null"]);
    }

    #[test]
    fn rejections_are_written_as_json_rpc_errors() {
        let mut written = Vec::new();
        Writer::new(&mut written).reject(&Rejection::parse_error("bad")).expect("write to memory");
        let text = String::from_utf8(written).expect("utf-8");
        let (header, body) = text.split_once("\r\n\r\n").expect("a header");
        assert_eq!(header, format!("Content-Length: {}", body.len()));
        let value: Value = serde_json::from_str(body).expect("json");
        assert_eq!(
            value,
            serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32700, "message": "bad" } })
        );
    }
}
