//! A saved state checked against its log: the log's actions are applied
//! again, each as it was given and at its time, and the state written from
//! the result must be the state that was read, but for computed values
//! (recomputed on load). The first difference is named (R0503), so a state
//! is only ever what its actions made it.
//!
//! Replay mirrors the runs that wrote the log: a run that continues a state
//! recomputes the form at its clock before its first action, so replay
//! recomputes before an action whose time differs from the line before it
//! (at the same time, recomputing changes nothing: after every action the
//! computed values are current). Each action costs what `apply` costs, so
//! replay is linear in the log.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value as Json;

use crate::diag::Code;
use crate::runtime::error::RuntimeError;
use crate::runtime::report::state::LineIn;
use crate::runtime::request::{Action, ActionKind, Continued, FormInput, Log, NewRequest, Request, Runtime};
use crate::runtime::values::dates::DateTime;

/// How many characters of a value a message quotes.
const QUOTED_VALUE: usize = 80;

const HELP: &str = "a state is what its actions made it: change a request by running an action, not by editing \
                    its state; if the directory changed since the state was saved, `--migrate` replays the \
                    actions under the current one";

fn mismatch(message: String) -> RuntimeError {
    RuntimeError::new(Code::R0503, message).with_help(HELP)
}

fn malformed(message: String) -> RuntimeError {
    RuntimeError::new(Code::R0502, message)
}

fn parse_time(text: &str, place: &str) -> Result<DateTime, RuntimeError> {
    DateTime::parse(text).ok_or_else(|| malformed(format!("`{place}.time` `{text}` is not a datetime")))
}

impl<'a> Runtime<'a> {
    /// The request a state's log gives: from the creation on its first line
    /// (or from `start`), each line's action applied as given, at its time.
    pub(super) fn replay(
        &self,
        workflow_index: usize,
        start: Option<Continued>,
        lines: Vec<LineIn>,
        sequence: Option<u64>,
    ) -> Result<Request, RuntimeError> {
        let mut lines = lines.into_iter().enumerate();
        let (mut request, mut previous_time) = match start {
            Some(start) => {
                let at = start.at;
                let mut request = start.request.clone();
                request.log = Log::continuing(start);
                (request, at)
            }
            None => {
                let Some((_, first)) = lines.next() else {
                    return Err(mismatch(
                        "the state's log is empty: it does not begin with the request's creation".into(),
                    ));
                };
                if first.action != "create" {
                    return Err(mismatch(format!(
                        "the state's log does not begin with the request's creation: `log[1]` is a `{}`",
                        first.action
                    )));
                }
                let form = first
                    .form
                    .ok_or_else(|| malformed("`log[1]`, the creation, has no `form` (the form as created)".into()))?;
                let time = parse_time(&first.time, "log[1]")?;
                let new = NewRequest {
                    workflow: None,
                    creator: first.by,
                    form: FormInput::Text(form.get().to_owned()),
                    sequence,
                    started_by: first.started_by.clone(),
                };
                let (request, _) = self.create(workflow_index, &new, time).map_err(|error| {
                    mismatch(format!(
                        "the state's log does not replay: its creation (`log[1]`) is refused: {}: {}",
                        error.code, error.message
                    ))
                })?;
                (request, time)
            }
        };
        for (index, line) in lines {
            let place = format!("log[{}]", index + 1);
            let time = parse_time(&line.time, &place)?;
            if line.by == "system" && line.action == "child_archived" {
                // The values the started request gave back are in the line: no need for it here.
                let child = match line.to.first() {
                    Some(crate::runtime::request::Recipient::Person(id)) => id.clone(),
                    _ => String::new(),
                };
                let values =
                    FormInput::Text(line.set.as_ref().map_or_else(|| "{}".to_owned(), |raw| raw.get().to_owned()));
                request = match self.resume(&request, &values, &child, time) {
                    Ok((next, _)) => next,
                    Err(error) => {
                        return Err(mismatch(format!(
                            "the state's log does not replay: `{place}` (the started request {child} archived) is refused: {}: {}",
                            error.code, error.message
                        )))
                    }
                };
                previous_time = time;
                continue;
            }
            if line.by == "system" && matches!(line.action.as_str(), "remind" | "take" | "hand") {
                request = self.replay_timer(request, &line.action, time, &place)?;
                previous_time = time;
                continue;
            }
            let kind = match (line.action.as_str(), ActionKind::from_name(&line.action)) {
                (_, Some(kind)) => kind,
                ("create", None) => return Err(mismatch(format!("`{place}` is a second creation of the request"))),
                (other, None) => return Err(malformed(format!("`{place}.do` `{other}` is not an action"))),
            };
            if time != previous_time {
                let workflow = self.workflow(&request)?;
                self.recompute(workflow, &mut request, time)?;
            }
            let set = line.set.map(|raw| FormInput::Text(raw.get().to_owned()));
            let action = Action {
                by: line.by,
                kind,
                opinion: line.opinion,
                set,
                to: line.to,
                node: line.node.clone(),
                at: None,
                request: None,
            };
            request = match self.apply(&request, &action, time) {
                Ok((next, _)) => next,
                Err(error) => {
                    let at = line.node.map(|node| format!(" at `{node}`")).unwrap_or_default();
                    return Err(mismatch(format!(
                        "the state's log does not replay: `{place}` ({} {}{at}) is refused: {}: {}",
                        action.by,
                        kind.as_str(),
                        error.code,
                        error.message
                    )));
                }
            };
            previous_time = time;
        }
        Ok(request)
    }

    /// A fired timer of the log: the first timer due at its time must be of its kind.
    fn replay_timer(&self, request: Request, kind: &str, time: DateTime, place: &str) -> Result<Request, RuntimeError> {
        let timer = self.due(&request, time).into_iter().next().filter(|timer| timer.at == time);
        let Some(timer) = timer else {
            return Err(mismatch(format!(
                "the state's log does not replay: `{place}` ({kind} by system at {time}) is no deadline rule due then"
            )));
        };
        match self.fire(&request, &timer) {
            Ok((next, step)) if step.action == kind => Ok(next),
            Ok((_, step)) => Err(mismatch(format!(
                "the state's log does not replay: `{place}` is a `{kind}` by system, but the rule due then is a `{}`",
                step.action
            ))),
            Err(error) => Err(mismatch(format!(
                "the state's log does not replay: `{place}` ({kind} by system) is refused: {}: {}",
                error.code, error.message
            ))),
        }
    }

    /// Refuses a state (`text`) that is not the state of `replayed`, the request its log gives.
    pub(super) fn check_against_log(&self, text: &str, replayed: &Request) -> Result<(), RuntimeError> {
        let written = self.save_state(replayed)?;
        // A state as flowc wrote it is the same text: no need to build either document.
        if written == text {
            return Ok(());
        }
        let given: Json = serde_json::from_str(&written)
            .map_err(|error| malformed(format!("internal error: the state written is not JSON: {error}")))?;
        let stored: Json = serde_json::from_str(text)
            .map_err(|error| malformed(format!("the state file is not a flowc state: {error}")))?;
        let shape = Shape::of(self, replayed)?;
        match shape.first_difference(String::new(), Some(&stored), Some(&given), Place::Top) {
            None => Ok(()),
            Some(difference) => Err(mismatch(format!("the state does not match its log: {difference}"))),
        }
    }
}

/// Where a JSON value sits in a state, which decides the order its members are compared in
/// and which are skipped.
#[derive(Clone, Copy)]
enum Place<'s> {
    Top,
    Start,
    Form,
    Table(&'s str),
    Row(&'s str),
    Lines,
    Line,
    Other,
}

const CONTENT_ORDER: [&str; 11] = [
    "creator",
    "created_at",
    "node",
    "archived",
    "operators",
    "pending",
    "batch",
    "forwarded",
    "notified",
    "node_operators",
    "form",
];
const LINE_ORDER: [&str; 11] =
    ["time", "by", "do", "node", "opinion", "form", "set", "changed", "exit", "to_node", "to"];

/// The form's names in written order, and which are computed (not compared).
struct Shape<'c> {
    fields: Vec<&'c str>,
    computed: HashSet<&'c str>,
    columns: HashMap<&'c str, Vec<&'c str>>,
    computed_columns: HashMap<&'c str, HashSet<&'c str>>,
}

struct Difference {
    path: String,
    stored: Option<Json>,
    given: Option<Json>,
    lengths: Option<(usize, usize)>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = &self.path;
        if let Some((stored, given)) = self.lengths {
            return write!(formatter, "`{path}` has {stored} entries in the state, but its actions give {given}");
        }
        match (&self.stored, &self.given) {
            (None, Some(given)) => {
                write!(formatter, "`{path}` is missing from the state, but its actions give {}", quote(given))
            }
            (Some(stored), None) => {
                write!(formatter, "`{path}` is {} in the state, but its actions give nothing there", quote(stored))
            }
            (Some(stored), Some(given)) => {
                write!(formatter, "`{path}` is {} in the state, but its actions give {}", quote(stored), quote(given))
            }
            (None, None) => write!(formatter, "`{path}` differs"),
        }
    }
}

fn quote(value: &Json) -> String {
    let text = value.to_string();
    match text.char_indices().nth(QUOTED_VALUE) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

impl<'c> Shape<'c> {
    fn of(runtime: &Runtime<'c>, request: &Request) -> Result<Shape<'c>, RuntimeError> {
        let workflow = runtime.workflow(request)?;
        let form = runtime
            .compiled
            .program
            .forms
            .get(workflow.form)
            .ok_or_else(|| malformed("internal error: unknown form".into()))?;
        let mut shape = Shape {
            fields: Vec::new(),
            computed: HashSet::new(),
            columns: HashMap::new(),
            computed_columns: HashMap::new(),
        };
        for field in &form.fields {
            match field.detail.and_then(|table| form.details.get(table)) {
                None => {
                    shape.fields.push(&field.name);
                    if field.formula.is_some() {
                        shape.computed.insert(&field.name);
                    }
                }
                Some(detail) => {
                    if !shape.fields.contains(&detail.name.as_str()) {
                        shape.fields.push(&detail.name);
                    }
                    shape.columns.entry(&detail.name).or_default().push(&field.name);
                    if field.formula.is_some() {
                        shape.computed_columns.entry(&detail.name).or_default().insert(&field.name);
                    }
                }
            }
        }
        Ok(shape)
    }

    /// The members of two objects in the order they are compared: the written order of the
    /// place, then any others by name.
    fn keys<'j>(
        &self,
        place: Place<'_>,
        stored: &'j serde_json::Map<String, Json>,
        given: &'j serde_json::Map<String, Json>,
    ) -> Vec<&'j str> {
        let preferred: Vec<&str> = match place {
            Place::Top => ["flowc_state", "workflow", "source_hash"]
                .into_iter()
                .chain(CONTENT_ORDER)
                .chain(["start", "log"])
                .collect(),
            Place::Start => std::iter::once("at").chain(CONTENT_ORDER).chain(["log"]).collect(),
            Place::Form => self.fields.clone(),
            Place::Row(table) => self.columns.get(table).cloned().unwrap_or_default(),
            Place::Line => LINE_ORDER.to_vec(),
            Place::Table(_) | Place::Lines | Place::Other => Vec::new(),
        };
        let all: BTreeSet<&str> = stored.keys().chain(given.keys()).map(String::as_str).collect();
        let mut keys: Vec<&'j str> = preferred
            .iter()
            .filter_map(|&key| stored.get_key_value(key).or_else(|| given.get_key_value(key)))
            .map(|(key, _)| key.as_str())
            .collect();
        keys.extend(all.iter().filter(|key| !preferred.contains(key)));
        keys
    }

    fn skipped(&self, place: Place<'_>, key: &str) -> bool {
        match place {
            Place::Form => self.computed.contains(key),
            Place::Row(table) => self.computed_columns.get(table).is_some_and(|columns| columns.contains(key)),
            _ => false,
        }
    }

    fn inside<'k>(&self, place: Place<'k>, key: &'k str) -> Place<'k> {
        match (place, key) {
            (Place::Top, "start") => Place::Start,
            (Place::Top | Place::Start, "form") => Place::Form,
            (Place::Top | Place::Start, "log") => Place::Lines,
            (Place::Form, table) if self.columns.contains_key(table) => Place::Table(table),
            _ => Place::Other,
        }
    }

    fn first_difference(
        &self,
        path: String,
        stored: Option<&Json>,
        given: Option<&Json>,
        place: Place<'_>,
    ) -> Option<Difference> {
        match (stored, given) {
            (Some(Json::Object(stored)), Some(Json::Object(given))) => {
                for key in self.keys(place, stored, given) {
                    if self.skipped(place, key) {
                        continue;
                    }
                    let inner = if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
                    let found = self.first_difference(inner, stored.get(key), given.get(key), self.inside(place, key));
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            (Some(Json::Array(stored)), Some(Json::Array(given)))
                if stored.iter().chain(given).any(Json::is_object) =>
            {
                let element = match place {
                    Place::Table(table) => Place::Row(table),
                    Place::Lines => Place::Line,
                    _ => Place::Other,
                };
                for (index, (one, two)) in stored.iter().zip(given).enumerate() {
                    let found = self.first_difference(format!("{path}[{}]", index + 1), Some(one), Some(two), element);
                    if found.is_some() {
                        return found;
                    }
                }
                (stored.len() != given.len()).then_some(Difference {
                    path,
                    stored: None,
                    given: None,
                    lengths: Some((stored.len(), given.len())),
                })
            }
            (stored, given) if stored == given => None,
            (stored, given) => Some(Difference { path, stored: stored.cloned(), given: given.cloned(), lengths: None }),
        }
    }
}
