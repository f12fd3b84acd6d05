//! The HTTP JSON API (docs/serve.md): routes, the authenticated person, visibility, and the
//! one path every action takes — load the request and its version, apply the library's pure
//! transition, store what it returned in one transaction or answer 409.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value as Json};
use sqlx::AnyPool;

use flowc::org::{Directory, MemoryDirectory};
use flowc::runtime::error::RuntimeError;
use flowc::runtime::report::session::{self, RequestView, Resumed, RunResult};
use flowc::runtime::request::{Action, FormInput, NewRequest, Request, Runtime};
use flowc::runtime::values::dates::DateTime;

use crate::db;
use crate::metrics::Metrics;
use crate::program::{self, Version, Versions};
use crate::{auth, clock, report, transition};

/// What every handler shares.
pub struct Service {
    /// Reads.
    pub pool: AnyPool,
    /// Writes (on SQLite, one connection: `db::Pools`).
    pub writer: AnyPool,
    pub versions: Versions,
    pub current: Arc<Version>,
    pub directory: MemoryDirectory,
    /// People holding this role see every request and may search and read reports.
    pub admin_role: Option<String>,
    pub metrics: Metrics,
    pub tokens: auth::TokenCache,
    /// `--test-clock`: `POST /test/clock` sets the clock (tests of deadlines).
    pub test_clock: bool,
    /// `--identity-header NAME`: a trusted reverse proxy names the person in this header.
    pub identity_header: Option<axum::http::HeaderName>,
}

pub type Shared = Arc<Service>;

pub fn router(service: Shared, body_limit: usize) -> Router {
    let router = if service.test_clock { Router::new().route("/test/clock", post(set_clock)) } else { Router::new() };
    router
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/requests", post(create).get(search))
        .route("/requests/{id}", get(view))
        .route("/requests/{id}/actions", post(act))
        .route("/requests/{id}/log", get(log))
        .route("/inbox", get(|state, person| list(state, person, "pending")))
        .route("/done", get(|state, person| list(state, person, "handled")))
        .route("/mine", get(|state, person| list(state, person, "creator")))
        .route("/cc", get(|state, person| list(state, person, "cc")))
        .route("/reports", get(reports))
        .route("/outbox", get(outbox))
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(service)
}

/// A refusal: an HTTP status and the error document (`status: "error"`, or a run report with
/// `status: "refused"` for the runtime's own refusals).
pub struct ApiError {
    status: StatusCode,
    /// The JSON document, as text (a run report keeps its fields' order).
    body: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Option<&str>, message: &str) -> ApiError {
        let body = json!({ "status": "error", "error": { "code": code, "message": message } });
        ApiError { status, body: serde_json::to_string_pretty(&body).unwrap_or_default() }
    }

    /// Not there, or not for this person: the same answer either way, so it tells nothing.
    fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, None, "no such request")
    }

    pub(crate) fn internal(what: impl std::fmt::Display) -> ApiError {
        tracing::error!(%what, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "the server could not complete the call; it was logged")
    }

    fn bad_request(message: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, None, message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        ok_json(self.status, self.body)
    }
}

fn ok_json(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], text).into_response()
}

/// The authenticated person: the employee id a bearer token was issued to.
pub struct Person(pub String);

impl FromRequestParts<Shared> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Shared) -> Result<Person, ApiError> {
        let unauthorized = || {
            ApiError::new(StatusCode::UNAUTHORIZED, None, "missing or unknown bearer token (Authorization: Bearer …)")
        };
        // Only when configured: the proxy in front authenticated the person and names them.
        if let Some(name) = &service.identity_header {
            if let Some(value) = parts.headers.get(name) {
                let person = value.to_str().map(str::trim).unwrap_or_default();
                return match service.directory.employee(person) {
                    Some(_) if !person.is_empty() => Ok(Person(person.to_owned())),
                    _ => Err(ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        None,
                        "the identity header names nobody in the directory",
                    )),
                };
            }
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        match service.tokens.person(&service.pool, token.trim()).await? {
            Some(person) => Ok(Person(person)),
            None => Err(unauthorized()),
        }
    }
}

impl Service {
    fn is_admin(&self, person: &str) -> bool {
        self.admin_role.as_deref().is_some_and(|role| self.directory.role_holders(role, None).contains(person))
    }

    /// The version a stored request runs on: in memory, or rebuilt from the database.
    pub(crate) async fn version(&self, hash: &str) -> Result<Arc<Version>, ApiError> {
        if let Some(version) = self.versions.get(hash) {
            return Ok(version);
        }
        let (root, files) = db::stored_version(&self.pool, hash)
            .await?
            .ok_or_else(|| ApiError::internal(format!("version {hash} is not stored")))?;
        let version = program::load_stored(&root, files).map_err(ApiError::internal)?;
        Ok(self.versions.insert(version))
    }

    /// The stored request `id`, if `person` may see it.
    async fn visible(&self, id: &str, person: &str) -> Result<db::StoredRequest, ApiError> {
        let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
        let (stored, relates) = db::load_request_for(&self.pool, id, person).await?.ok_or_else(ApiError::not_found)?;
        if relates || self.is_admin(person) {
            Ok(stored)
        } else {
            Err(ApiError::not_found())
        }
    }
}

async fn healthz(State(service): State<Shared>) -> Result<Response, ApiError> {
    let schema = db::schema_version(&service.pool).await?;
    Ok(ok_json(
        StatusCode::OK,
        json!({ "status": "ok", "schema": schema, "version": service.current.hash }).to_string(),
    ))
}

async fn metrics(State(service): State<Shared>) -> Result<Response, ApiError> {
    let counts = db::request_counts(&service.pool).await?;
    let text = service.metrics.render(&counts);
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], text).into_response())
}

async fn openapi() -> Response {
    ok_json(StatusCode::OK, crate::OPENAPI.to_owned())
}

/// The body of `POST /requests`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    workflow: Option<String>,
    /// Only the authenticated person; present for symmetry with `flowc run`'s request file.
    #[serde(default)]
    creator: Option<String>,
    #[serde(default)]
    form: Option<Box<RawValue>>,
}

/// The body of `POST /requests/{id}/actions`: an action of `flowc run --actions`, `by` optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    #[serde(default)]
    by: Option<String>,
    #[serde(rename = "do")]
    kind: Box<RawValue>,
    #[serde(default)]
    opinion: Option<Box<RawValue>>,
    #[serde(default)]
    set: Option<Box<RawValue>>,
    #[serde(default)]
    to: Option<Box<RawValue>>,
    /// The node acted at, when a fork has the person pending at several.
    #[serde(default)]
    node: Option<Box<RawValue>>,
}

fn body_text(body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, None, "the body is larger than this server accepts")
        } else {
            ApiError::bad_request(&rejection.body_text())
        }
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::bad_request("the body is not UTF-8"))
}

fn refused_answer(status: StatusCode, report: String) -> ApiError {
    ApiError { status, body: report }
}

/// A run report as `flowc run --format json` prints it (fields in the same order), named by
/// the request's id, with the fields hidden at the request's node left out of its form unless
/// the asker is an administrator.
pub(crate) fn report_text(
    runtime: &Runtime<'_>,
    version: &Version,
    result: &RunResult,
    now: DateTime,
    admin: bool,
    id: Option<i64>,
) -> String {
    #[derive(serde::Serialize)]
    struct Answer<'r> {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<i64>,
        #[serde(flatten)]
        report: session::Report<'r>,
    }
    let mut report = session::report(runtime, result, now, &version.analysis.sources);
    let mut hidden = Vec::new();
    if let (false, Some(view)) = (admin, report.request.as_mut()) {
        hide_fields(view);
        hidden = view.hidden.clone();
    }
    let answer = Answer { id, report };
    if hidden.is_empty() {
        return serde_json::to_string_pretty(&answer).unwrap_or_default();
    }
    // The steps and the log say what changed too: a hidden field's values are not sent there either.
    let mut document = serde_json::to_value(&answer).unwrap_or_default();
    strip_hidden(&mut document, &hidden);
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// Removes, at any depth, what a document says of `hidden` fields: entries of a `changed` list
/// (`明细[2].单价` belongs to `明细`), and members of the `values` an exit's condition read.
pub(crate) fn strip_hidden(document: &mut Json, hidden: &[String]) {
    let is_hidden = |field: &str| {
        let base = field.split(['[', '.']).next().unwrap_or(field);
        hidden.iter().any(|name| name == field || name == base)
    };
    match document {
        Json::Object(members) => {
            for (key, value) in members.iter_mut() {
                match (key.as_str(), value) {
                    ("changed", Json::Array(changes)) => {
                        changes.retain(|change| !change.get("field").and_then(Json::as_str).is_some_and(is_hidden))
                    }
                    ("values", Json::Object(read)) => read.retain(|name, _| !is_hidden(name)),
                    (_, value) => strip_hidden(value, hidden),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|item| strip_hidden(item, hidden)),
        _ => {}
    }
}

/// Removes the `hidden` fields from a request view's form.
fn hide_fields(view: &mut RequestView) {
    let hidden = std::mem::take(&mut view.hidden);
    view.form.fields.0.retain(|(name, _)| !hidden.contains(name));
    view.form.summaries.retain(|(name, _)| !hidden.contains(name));
    view.hidden = hidden;
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn runtime_refusal(
    runtime: &Runtime<'_>,
    version: &Version,
    request: Option<Request>,
    resumed: Option<Resumed>,
    error: RuntimeError,
    step: usize,
    now: DateTime,
    admin: bool,
) -> ApiError {
    let result = RunResult { request, steps: Vec::new(), error: Some((step, error)), resumed };
    refused_answer(StatusCode::UNPROCESSABLE_ENTITY, report_text(runtime, version, &result, now, admin, None))
}

async fn create(
    State(service): State<Shared>,
    Person(person): Person,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let text = body_text(body)?;
    let body: CreateBody = serde_json::from_str(&text)
        .map_err(|error| ApiError::bad_request(&format!("the body is not a request: {error}")))?;
    if body.creator.as_deref().is_some_and(|creator| creator != person) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            None,
            "a request is created by the authenticated person: leave `creator` out",
        ));
    }
    let version = service.current.clone();
    let now = clock::now();
    let admin = service.is_admin(&person);
    // The runtime is not held across an await (it borrows the directory, which is not `Sync`).
    let refuse = |error| {
        runtime_refusal(
            &Runtime::new(&version.compiled, &service.directory),
            &version,
            None,
            None,
            error,
            0,
            now,
            admin,
        )
    };
    let workflow_index = version.compiled.workflow_index(body.workflow.as_deref()).map_err(refuse)?;
    let Some(workflow) = version.compiled.program.workflows.get(workflow_index) else {
        return Err(ApiError::internal("no workflow"));
    };
    let has_serial =
        version.compiled.program.forms.get(workflow.form).is_some_and(flowc::runtime::values::serial::has_serial);
    // The workflow's counter (流程编号) is kept in the database, shared by every server.
    let sequence =
        if has_serial { u64::try_from(db::next_serial(&service.writer, &workflow.name).await?).ok() } else { None };
    let form = body.form.map_or_else(FormInput::default, |form| FormInput::Text(form.get().to_owned()));
    let new =
        NewRequest { workflow: Some(workflow.name.clone()), creator: person.clone(), form, sequence, started_by: None };
    let (columns, rest, result) = {
        let runtime = Runtime::new(&version.compiled, &service.directory);
        let (request, step) = runtime.create(workflow_index, &new, now).map_err(refuse)?;
        let columns = transition::columns(&runtime, &request, now, clock::now_ms())?;
        let rest = transition::rest(&request, std::iter::once(&step), now, 0);
        (columns, rest, RunResult { request: Some(request), steps: vec![step], error: None, resumed: None })
    };
    let id = db::create_request(&service.writer, &workflow.name, &version.hash, &person, &columns, &rest).await?;
    let answer =
        report_text(&Runtime::new(&version.compiled, &service.directory), &version, &result, now, admin, Some(id));
    service.metrics.action(&workflow.name, "create", "ok", started.elapsed());
    Ok(ok_json(StatusCode::CREATED, answer))
}

/// The node a request stands at; after a fork, its branches' nodes (`物流安排, 库房出库`).
pub(crate) fn node_name(runtime: &Runtime<'_>, request: &Request) -> String {
    let Ok(workflow) = runtime.workflow(request) else { return String::new() };
    let name = |node: usize| workflow.nodes.get(node).map(|node| node.name.clone()).unwrap_or_default();
    if request.is_split() {
        request.positions.iter().map(|position| name(position.node)).collect::<Vec<_>>().join(", ")
    } else {
        name(request.node)
    }
}

/// The header a client sets so that a retried action is answered, not applied again.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

async fn act(
    State(service): State<Shared>,
    Person(person): Person,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let stored = service.visible(&id, &person).await?;
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(value) => {
            Some(value.to_str().ok().filter(|key| !key.is_empty() && key.len() <= 200).ok_or_else(|| {
                ApiError::bad_request("the Idempotency-Key header must be 1 to 200 visible ASCII characters")
            })?)
        }
        None => None,
    };
    if let Some(key) = key {
        if let Some((request_id, answer)) = db::idempotent_answer(&service.pool, &person, key).await? {
            if request_id != stored.id {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    "this Idempotency-Key was already used for another request",
                ));
            }
            let mut response = ok_json(StatusCode::OK, answer);
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(response);
        }
    }
    let text = body_text(body)?;
    let body: ActionBody = serde_json::from_str(&text)
        .map_err(|error| ApiError::bad_request(&format!("the body is not an action: {error}")))?;
    if body.by.as_deref().is_some_and(|by| by != person) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            None,
            "an action is taken by the authenticated person: leave `by` out",
        ));
    }
    // The action as `flowc run --actions` reads it, so the library validates it as it does there.
    let action_text = json!({
        "by": person,
        "do": body.kind,
        "opinion": body.opinion,
        "set": body.set,
        "to": body.to,
        "node": body.node,
    });
    let action_text = strip_nulls(action_text).to_string();
    let action: Action = serde_json::from_str(&action_text)
        .map_err(|error| ApiError::bad_request(&format!("the body is not an action: {error}")))?;
    let now = clock::now();
    let admin = service.is_admin(&person);
    let kind = action.kind.as_str();
    let change = transition::compute(&service, &stored, Some(&action), now, admin).await?;
    let workflow = change.workflow().to_owned();
    let refused = change.refusal.is_some();
    match transition::commit(&service, change, admin, key.map(|key| (person.as_str(), key))).await? {
        transition::Written::Conflict => {
            service.metrics.action(&workflow, kind, "conflict", started.elapsed());
            Err(ApiError::new(
                StatusCode::CONFLICT,
                None,
                "someone acted on this request at the same time; nothing was changed: read it again and retry",
            ))
        }
        // A refused action: the deadline timers that fired before it are kept.
        transition::Written::Answer(answer) if refused => {
            service.metrics.action(&workflow, kind, "refused", started.elapsed());
            Err(refused_answer(transition::REFUSED, answer))
        }
        transition::Written::Answer(answer) => {
            service.metrics.action(&workflow, kind, "ok", started.elapsed());
            Ok(ok_json(StatusCode::OK, answer))
        }
    }
}

/// An object without its null members.
fn strip_nulls(value: Json) -> Json {
    match value {
        Json::Object(fields) => Json::Object(fields.into_iter().filter(|(_, value)| !value.is_null()).collect()),
        other => other,
    }
}

async fn view(
    State(service): State<Shared>,
    Person(person): Person,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = service.visible(&id, &person).await?;
    let version = service.version(&stored.version_hash).await?;
    let runtime = Runtime::new(&version.compiled, &service.directory);
    let now = clock::now();
    let request =
        runtime.load_state(&stored.state, false, now).map_err(|error| ApiError::internal(error.message.clone()))?;
    let mut view = runtime.request_view(&request, now);
    let admin = service.is_admin(&person);
    if !admin {
        hide_fields(&mut view);
    }
    #[derive(serde::Serialize)]
    struct Viewed {
        id: i64,
        status: &'static str,
        request: RequestView,
    }
    let status = if request.archived { "archived" } else { "pending" };
    let hidden = if admin { Vec::new() } else { view.hidden.clone() };
    let mut document = serde_json::to_value(Viewed { id: stored.id, status, request: view }).unwrap_or_default();
    strip_hidden(&mut document, &hidden);
    Ok(ok_json(StatusCode::OK, serde_json::to_string_pretty(&document).unwrap_or_default()))
}

async fn log(
    State(service): State<Shared>,
    Person(person): Person,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = service.visible(&id, &person).await?;
    let steps: Vec<Json> =
        db::steps(&service.pool, stored.id).await?.iter().filter_map(|step| serde_json::from_str(step).ok()).collect();
    let mut document = json!({ "id": stored.id, "steps": steps });
    if !service.is_admin(&person) {
        // What is hidden at the request's current node is not sent in its history either.
        let version = service.version(&stored.version_hash).await?;
        let hidden = {
            let runtime = Runtime::new(&version.compiled, &service.directory);
            let request = runtime
                .load_state(&stored.state, false, clock::now())
                .map_err(|error| ApiError::internal(error.message.clone()))?;
            runtime.request_view(&request, clock::now()).hidden
        };
        strip_hidden(&mut document, &hidden);
    }
    Ok(ok_json(StatusCode::OK, document.to_string()))
}

async fn list(
    State(service): State<Shared>,
    Person(person): Person,
    relation: &'static str,
) -> Result<Response, ApiError> {
    let requests = db::list(&service.pool, &person, relation, 200).await?;
    Ok(ok_json(StatusCode::OK, json!({ "requests": requests }).to_string()))
}

/// `GET /requests?workflow=&status=&creator=&from=&to=` (dates: YYYY-MM-DD, at UTC+8).
#[derive(Deserialize)]
struct SearchQuery {
    workflow: Option<String>,
    status: Option<String>,
    creator: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
}

fn admin_only(service: &Service, person: &str) -> Result<(), ApiError> {
    if service.is_admin(person) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, None, "only administrators may search all requests and read reports"))
    }
}

async fn search(
    State(service): State<Shared>,
    Person(person): Person,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    admin_only(&service, &person)?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(&rejection.body_text()))?;
    let filter = db::Search {
        workflow: query.workflow,
        status: query.status,
        creator: query.creator,
        from_ms: clock::day_start_ms(query.from.as_deref(), "from")?,
        to_ms: clock::day_end_ms(query.to.as_deref(), "to")?,
        limit: query.limit,
    };
    let requests = db::search(&service.pool, &filter).await?;
    Ok(ok_json(StatusCode::OK, json!({ "requests": requests }).to_string()))
}

#[derive(Deserialize)]
struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn reports(
    State(service): State<Shared>,
    Person(person): Person,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    admin_only(&service, &person)?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(&rejection.body_text()))?;
    let from = clock::day_start_ms(query.from.as_deref(), "from")?;
    let to = clock::day_end_ms(query.to.as_deref(), "to")?;
    let report = report::compute(&service.pool, from, to).await?;
    Ok(ok_json(StatusCode::OK, serde_json::to_string_pretty(&report).unwrap_or_default()))
}

#[derive(Deserialize)]
struct OutboxQuery {
    request: Option<i64>,
    from: Option<String>,
    limit: Option<i64>,
}

/// `GET /outbox?request=&from=&limit=`: the reminders steps asked for (deadlines' `remind`,
/// `supervise`), oldest first, for a host to deliver. Administrators only.
async fn outbox(
    State(service): State<Shared>,
    Person(person): Person,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    admin_only(&service, &person)?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(&rejection.body_text()))?;
    let from = clock::day_start_ms(query.from.as_deref(), "from")?.unwrap_or(i64::MIN);
    let limit = query.limit.unwrap_or(1000).clamp(1, 10_000);
    let reminders = db::outbox(&service.pool, query.request, from, limit).await?;
    Ok(ok_json(StatusCode::OK, json!({ "reminders": reminders }).to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    now: String,
    /// Whether to fire what is due then (default: yes); no: as if the timer task had not
    /// looked yet, so that the next action fires it.
    #[serde(default = "yes")]
    tick: bool,
}

fn yes() -> bool {
    true
}

/// `POST /test/clock` (only with `--test-clock`, administrators): sets the clock and fires
/// what is due then, as the timer task's next tick would.
async fn set_clock(
    State(service): State<Shared>,
    Person(person): Person,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    admin_only(&service, &person)?;
    let text = body_text(body)?;
    let body: ClockBody =
        serde_json::from_str(&text).map_err(|error| ApiError::bad_request(&format!("not a clock: {error}")))?;
    let now = DateTime::parse(&body.now)
        .ok_or_else(|| ApiError::bad_request("`now` is a date and time (2026-11-28T09:00:00+08:00)"))?;
    clock::set_test_now(now);
    let fired = if body.tick { transition::tick(&service).await } else { Vec::new() };
    Ok(ok_json(StatusCode::OK, json!({ "now": clock::now().to_string(), "fired": fired }).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_fields_leave_no_trace_in_steps_and_log() {
        let mut document = json!({
            "request": { "log": [ { "changed": [
                { "field": "财务意见", "to": "票据不全" },
                { "field": "明细[2].单价", "to": "10" },
                { "field": "合计", "to": "10" } ] } ] },
            "steps": [ { "changed": [ { "field": "出纳", "to": "E0103" } ],
                         "exits_tried": [ { "values": { "财务意见": "票据不全", "合计": "10" } } ] } ]
        });
        strip_hidden(&mut document, &["财务意见".to_owned(), "出纳".to_owned(), "明细".to_owned()]);
        let text = document.to_string();
        assert!(!text.contains("票据不全") && !text.contains("E0103") && !text.contains("单价"), "{text}");
        assert!(text.contains("合计"), "what is not hidden stays: {text}");
    }
}
