//! One change to the stored requests, made with the library's transitions as `flowc run` makes
//! it (`Runtime::fire_family`, `Runtime::act_in_family`, `Runtime::child_archived`), then
//! written in one transaction or not at all.
//!
//! A request is loaded as a family of one: the deadline timers due by now fire first (their
//! steps are `system`'s), then the action, if any, applies. The requests the steps started
//! (`start`) come out of the family as rows of their own (`parent_id`): the stored state of a
//! request never holds its children. A request archived while the request that started it waits
//! for it (`start … wait`) gives its fields back to that request in the same transaction, each
//! request's row written only if its version is still the one read.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use flowc::runtime::error::RuntimeError;
use flowc::runtime::report::session::{Resumed, RunResult};
use flowc::runtime::request::subflows::Child;
use flowc::runtime::request::{Action, Request, Runtime, Step};
use flowc::runtime::values::dates::DateTime;

use crate::api::{self, ApiError, Service};
use crate::clock;
use crate::db::{self, Columns, ReminderRow, Rest, StepRow, StoredRequest};
use crate::postgres_writes;
use crate::program::Version;

/// Which request of a change a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A stored request (index into `Change::rows`; 0: the one acted on).
    Row(usize),
    /// A request the change creates (index into `Change::born`).
    Born(usize),
}

/// A stored request changed in memory.
struct RowChange {
    id: i64,
    expected_version: i64,
    updated_ms: i64,
    request: Request,
}

/// A request started by a step of the change, not yet stored.
struct Born {
    parent: Owner,
    request: Request,
}

/// What a call or a timer tick did, in memory.
pub struct Change {
    version: Arc<Version>,
    rows: Vec<RowChange>,
    born: Vec<Born>,
    /// Every step in the order it happened, with its request and (when it started a request)
    /// the one it started.
    steps: Vec<(Owner, Step, Option<usize>)>,
    /// The action's refusal (or a timer's): the timers fired before it are kept.
    pub refusal: Option<RuntimeError>,
    resumed: Resumed,
    now: DateTime,
}

impl Change {
    /// Whether anything is to be written.
    pub fn changed(&self) -> bool {
        !self.steps.is_empty()
    }

    pub fn workflow(&self) -> &str {
        self.rows
            .first()
            .and_then(|row| self.version.compiled.program.workflows.get(row.request.workflow))
            .map_or("", |workflow| workflow.name.as_str())
    }
}

/// The outcome of writing a change.
pub enum Written {
    /// The answer, as `flowc run --format json` prints it (a refusal's document when refused).
    Answer(String),
    /// Someone wrote one of the requests since it was read: nothing was written.
    Conflict,
}

/// Fires the timers due by `now` on `stored` and applies `action` (if any); then, up the
/// family, gives the fields of a request it archived back to the request waiting for it.
pub async fn compute(
    service: &Service,
    stored: &StoredRequest,
    action: Option<&Action>,
    now: DateTime,
    admin: bool,
) -> Result<Change, ApiError> {
    let version = service.version(&stored.version_hash).await?;
    let mut change = Change {
        version: version.clone(),
        rows: Vec::new(),
        born: Vec::new(),
        steps: Vec::new(),
        refusal: None,
        resumed: Resumed { node: String::new(), after_step: 0 },
        now,
    };
    {
        let runtime = Runtime::new(&version.compiled, &service.directory);
        let request = load(&runtime, &stored.state, now)?;
        change.resumed = Resumed { node: api::node_name(&runtime, &request), after_step: request.log.actions() };
        let mut family = request;
        let mut steps = Vec::new();
        if let Err(error) = runtime.fire_family(&mut family, &mut steps, now) {
            change.refusal = Some(error);
        }
        if let (None, Some(action)) = (&change.refusal, action) {
            // As `flowc run`: formulas that read the clock see it again after timers fired.
            match runtime.act_in_family(&family, action, now, !steps.is_empty()) {
                Ok((next, done)) => {
                    family = next;
                    steps.extend(done);
                }
                Err(error) => change.refusal = Some(error),
            }
        }
        let request = take_family(family, steps, Owner::Row(0), &mut change);
        change.rows.push(RowChange {
            id: stored.id,
            expected_version: stored.row_version,
            updated_ms: stored.updated_ms,
            request,
        });
    }
    // Up the family: a request archived now gives its fields back to the one waiting for it.
    let mut current = 0;
    let mut parent_id = stored.parent_id;
    while let Some(row) = change.rows.get(current) {
        let acted = change.steps.iter().any(|(owner, _, _)| *owner == Owner::Row(current));
        let (true, true, Some(parent_id_now)) = (row.request.archived, acted, parent_id) else { break };
        let Some(parent) = db::load_request(&service.pool, parent_id_now).await? else { break };
        if parent.version_hash != version.hash {
            tracing::warn!(request = parent.id, "the parent of a started request is on another version");
            break;
        }
        // The node waits for the request its latest entry started; one a return left behind goes
        // on on its own. (Asked before the runtime exists: it is not held across an await.)
        let child_workflow =
            version.compiled.program.workflows.get(row.request.workflow).map_or("", |w| w.name.as_str()).to_owned();
        let awaited = db::latest_child(&service.pool, parent.id, &child_workflow).await? == Some(row.id);
        let runtime = Runtime::new(&version.compiled, &service.directory);
        let mut family = load(&runtime, &parent.state, now)?;
        let mut steps = Vec::new();
        if let Err(error) = runtime.fire_family(&mut family, &mut steps, now) {
            tracing::warn!(request = parent.id, code = %error.code, "a deadline timer of the parent could not fire");
        }
        let child = row.request.clone();
        if awaited && family.waiting.as_ref().is_some_and(|waiting| waiting.workflow == child.workflow) {
            let (next, step) = runtime
                .child_archived(&family, &child, &row.id.to_string(), now)
                .map_err(|error| refusal(&runtime, &version, &change, error, admin))?;
            family = next;
            steps.push(step);
        }
        let index = change.rows.len();
        let request = take_family(family, steps, Owner::Row(index), &mut change);
        change.rows.push(RowChange {
            id: parent.id,
            expected_version: parent.row_version,
            updated_ms: parent.updated_ms,
            request,
        });
        current = index;
        parent_id = parent.parent_id;
    }
    Ok(change)
}

fn load(runtime: &Runtime<'_>, state: &str, now: DateTime) -> Result<Request, ApiError> {
    runtime.load_state(state, false, now).map_err(|error| ApiError::internal(error.message.clone()))
}

/// A refusal that came up the family: the acted request's document with that error.
fn refusal(runtime: &Runtime<'_>, version: &Version, change: &Change, error: RuntimeError, admin: bool) -> ApiError {
    let request = change.rows.first().map(|row| row.request.clone());
    api::runtime_refusal(runtime, version, request, Some(change.resumed.clone()), error, 1, change.now, admin)
}

/// The family's root without its children; the children become requests to create, and each
/// step is given to its request.
fn take_family(mut family: Request, steps: Vec<Step>, root: Owner, change: &mut Change) -> Request {
    let mut locals = BTreeMap::new();
    flatten(std::mem::take(&mut family.children), root, &mut locals, &mut change.born);
    for step in steps {
        let owner = match &step.request {
            None => root,
            Some(local) => locals.get(local).map_or(root, |&index| Owner::Born(index)),
        };
        let started =
            step.started.as_ref().and_then(|started| started.request.as_ref()).and_then(|local| locals.get(local));
        change.steps.push((owner, step, started.copied()));
    }
    family
}

fn flatten(children: Vec<Child>, parent: Owner, locals: &mut BTreeMap<String, usize>, born: &mut Vec<Born>) {
    for child in children {
        let mut request = child.request;
        let grandchildren = std::mem::take(&mut request.children);
        let index = born.len();
        locals.insert(child.id, index);
        born.push(Born { parent, request });
        flatten(grandchildren, Owner::Born(index), locals, born);
    }
}

/// Writes a change in one transaction: every stored request only if its version is still
/// the one read, the requests it started with new ids, every step, and (for a successful
/// action with a key) the answer. `idempotency`: (person, key).
pub async fn commit(
    service: &Service,
    mut change: Change,
    admin: bool,
    idempotency: Option<(&str, &str)>,
) -> Result<Written, ApiError> {
    let version = change.version.clone();
    let now = change.now;
    let now_ms = clock::now_ms();
    if !change.changed() {
        let runtime = Runtime::new(&version.compiled, &service.directory);
        return Ok(Written::Answer(answer(&runtime, &version, &change, admin)));
    }
    let (row_columns, born_columns) = {
        let runtime = Runtime::new(&version.compiled, &service.directory);
        let rows: Vec<Columns> =
            change.rows.iter().map(|row| columns(&runtime, &row.request, now, now_ms)).collect::<Result<_, _>>()?;
        let born: Vec<Columns> =
            change.born.iter().map(|born| columns(&runtime, &born.request, now, now_ms)).collect::<Result<_, _>>()?;
        (rows, born)
    };
    let postgres = db::is_postgres(&service.writer);
    // The ids of the requests the change starts. On SQLite from the counter, inside the
    // transaction, which takes the write lock at its first statement, the conditional update
    // (so that it never holds a stale snapshot). On PostgreSQL from the sequence, before any
    // transaction: `nextval` is not transactional anyway.
    let mut transaction = None;
    let born_ids = if postgres {
        db::draw_request_ids(&service.writer, change.born.len()).await?
    } else {
        let Some(mut open) = begin_with_updates(service, &change, &row_columns).await? else {
            return Ok(Written::Conflict);
        };
        let mut ids = Vec::with_capacity(change.born.len());
        for _ in &change.born {
            ids.push(db::draw_request_id(&mut open, postgres).await?);
        }
        transaction = Some(open);
        ids
    };
    let row_ids: Vec<i64> = change.rows.iter().map(|row| row.id).collect();
    let id_of = |owner: Owner| match owner {
        Owner::Row(index) => row_ids.get(index).copied().unwrap_or(0),
        Owner::Born(index) => born_ids.get(index).copied().unwrap_or(0),
    };
    // The steps as answered: a step of another request than the one acted on names it.
    for (owner, step, started) in &mut change.steps {
        step.request = (*owner != Owner::Row(0)).then(|| id_of(*owner).to_string());
        if let (Some(started_request), Some(index)) = (step.started.as_mut(), started) {
            started_request.request = born_ids.get(*index).map(i64::to_string);
        }
    }
    let steps_of = |owner: Owner| {
        change.steps.iter().filter(move |(step_owner, ..)| *step_owner == owner).map(|(_, step, _)| step)
    };
    let row_rests: Vec<Rest> = change
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            rest(&row.request, steps_of(Owner::Row(index)), now, now_ms.saturating_sub(row.updated_ms).max(0))
        })
        .collect();
    let born_rests: Vec<Rest> = change
        .born
        .iter()
        .enumerate()
        .map(|(index, born)| rest(&born.request, steps_of(Owner::Born(index)), now, 0))
        .collect();
    let (text, born_rows) = {
        let runtime = Runtime::new(&version.compiled, &service.directory);
        let born_rows: Vec<(String, String, String, i64)> = change
            .born
            .iter()
            .map(|born| {
                let workflow = runtime.workflow(&born.request).map_or(String::new(), |workflow| workflow.name.clone());
                (workflow, born.request.creator.clone(), born.request.created_at.to_string(), id_of(born.parent))
            })
            .collect();
        (answer(&runtime, &version, &change, admin), born_rows)
    };
    let answer_to_store = match (&change.refusal, idempotency) {
        (None, Some((person, key))) => Some((person, key, text.as_str())),
        _ => None,
    };
    // On PostgreSQL a change of one request that starts none is one statement (postgres_writes).
    if let (true, [row], [columns], [rest], true) =
        (postgres, change.rows.as_slice(), row_columns.as_slice(), row_rests.as_slice(), change.born.is_empty())
    {
        if postgres_writes::fits_one_statement(rest) {
            let write = postgres_writes::OneRequest {
                id: row.id,
                expected_version: row.expected_version,
                columns,
                rest,
                answer: answer_to_store,
            };
            return Ok(if postgres_writes::write_one_request(&service.writer, &write).await? {
                Written::Answer(text)
            } else {
                Written::Conflict
            });
        }
    }
    let mut transaction = match transaction {
        Some(open) => open,
        None => match begin_with_updates(service, &change, &row_columns).await? {
            Some(open) => open,
            None => return Ok(Written::Conflict),
        },
    };
    for (id, rest) in row_ids.iter().zip(&row_rests) {
        db::write_rest(&mut transaction, *id, rest).await?;
    }
    for (((id, (workflow, creator, created_at, parent)), columns), rest) in
        born_ids.iter().zip(&born_rows).zip(&born_columns).zip(&born_rests)
    {
        db::insert_request(
            &mut transaction,
            *id,
            workflow,
            &version.hash,
            creator,
            Some(*parent),
            created_at,
            columns,
            rest,
        )
        .await?;
    }
    if let (Some((person, key, answer)), Some(id)) = (answer_to_store, row_ids.first()) {
        db::store_answer(&mut transaction, person, key, *id, answer).await?;
    }
    transaction.commit().await?;
    Ok(Written::Answer(text))
}

/// Begins the change's transaction with the conditional update of every stored request it
/// changed; `None` (rolled back, nothing written) when someone wrote one of them since it was
/// read.
async fn begin_with_updates(
    service: &Service,
    change: &Change,
    row_columns: &[Columns],
) -> Result<Option<db::Transaction>, ApiError> {
    let mut transaction = db::begin(&service.writer).await?;
    for (row, columns) in change.rows.iter().zip(row_columns) {
        if !db::update_request(&mut transaction, row.id, row.expected_version, columns).await? {
            transaction.rollback().await?;
            return Ok(None);
        }
    }
    Ok(Some(transaction))
}

/// The document answered for the acted request: its steps (and the steps of the requests the
/// change created or resumed, each naming its request), or its refusal.
fn answer(runtime: &Runtime<'_>, version: &Version, change: &Change, admin: bool) -> String {
    let result = RunResult {
        request: change.rows.first().map(|row| row.request.clone()),
        steps: change.steps.iter().map(|(_, step, _)| step.clone()).collect(),
        error: change.refusal.clone().map(|error| (1, error)),
        resumed: Some(change.resumed.clone()),
    };
    let id = change.rows.first().map(|row| row.id);
    api::report_text(runtime, version, &result, change.now, admin, if change.refusal.is_some() { None } else { id })
}

/// The columns of a request's row after a change.
pub fn columns(runtime: &Runtime<'_>, request: &Request, now: DateTime, now_ms: i64) -> Result<Columns, ApiError> {
    Ok(Columns {
        title: runtime.title(request, now),
        node: api::node_name(runtime, request),
        status: if request.archived { "archived" } else { "pending" },
        state: runtime.save_state(request).map_err(|error| ApiError::internal(error.message.clone()))?,
        now_ms,
        next_due_ms: next_due_ms(runtime, request),
    })
}

/// When the request's next deadline timer falls: the first not yet fired (none: no timer).
pub fn next_due_ms(runtime: &Runtime<'_>, request: &Request) -> Option<i64> {
    let end_of_time = DateTime::parse("9999-12-31T23:59:59+08:00")?;
    runtime.due(request, end_of_time).first().map(|timer| clock::to_ms(timer.at))
}

/// Who relates to a request after `steps`, the steps' rows and the reminders they asked for.
pub fn rest<'s>(request: &Request, steps: impl Iterator<Item = &'s Step>, now: DateTime, waited_ms: i64) -> Rest {
    let mut relations: Vec<(String, &'static str)> = Vec::new();
    relations.extend(request.operators.iter().map(|person| (person.clone(), "operator")));
    relations.extend(request.forwarded.iter().map(|person| (person.clone(), "forwarded")));
    relations.extend(request.notified.iter().map(|person| (person.clone(), "cc")));
    let mut rows = Vec::new();
    let mut reminders = Vec::new();
    for step in steps {
        let number = i64::try_from(step.number).unwrap_or(i64::MAX);
        // `system` (timers, a started request's return) handles nothing a person would list.
        if step.number > 0 && step.by != "system" {
            relations.push((step.by.clone(), "handled"));
        }
        let at = step.at.clone().unwrap_or_else(|| now.to_string());
        let at_ms = DateTime::parse(&at).map_or_else(clock::now_ms, clock::to_ms);
        for (position, reminder) in step.reminders.iter().enumerate() {
            let reminder_ms = DateTime::parse(&reminder.at).map_or(at_ms, clock::to_ms);
            reminders.push(ReminderRow {
                step_number: number,
                position: i64::try_from(position).unwrap_or(i64::MAX),
                at: reminder.at.clone(),
                at_ms: reminder_ms,
                channel: reminder.channel.clone(),
                recipients: serde_json::to_string(&reminder.to).unwrap_or_default(),
                text: reminder.text.clone(),
                node: reminder.node.clone(),
                rule: reminder.rule.clone(),
            });
        }
        rows.push(StepRow {
            number,
            person: step.by.clone(),
            action: step.action.clone(),
            // The node the step was taken at, for the per-node durations.
            node: step.from.clone(),
            at,
            at_ms,
            waited_ms,
            json: serde_json::to_string(step).unwrap_or_default(),
        });
    }
    Rest { pending: request.pending.clone(), relations, steps: rows, reminders }
}

/// Fires what is due now on every request whose next timer has fallen, each in its own
/// transaction (a conflict waits for the next tick). Returns the ids of the requests changed.
pub async fn tick(service: &Service) -> Vec<i64> {
    let mut fired = Vec::new();
    let due = match db::due_requests(&service.pool, clock::now_ms(), 1000).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!(%error, "cannot read the requests due");
            return fired;
        }
    };
    for id in due {
        match fire_one(service, id).await {
            Ok(true) => fired.push(id),
            Ok(false) => {}
            Err(_) => tracing::warn!(request = id, "its deadline timers could not fire; retried at the next tick"),
        }
    }
    fired
}

async fn fire_one(service: &Service, id: i64) -> Result<bool, ApiError> {
    let Some(stored) = db::load_request(&service.pool, id).await? else { return Ok(false) };
    let change = compute(service, &stored, None, clock::now(), true).await?;
    if let Some(error) = &change.refusal {
        tracing::warn!(request = id, code = %error.code, message = %error.message, "a deadline timer is refused");
    }
    if !change.changed() {
        // Nothing fell due after all (a timer refused): wait for an action to fire it.
        db::clear_next_due(&service.writer, id, stored.row_version).await?;
        return Ok(false);
    }
    match commit(service, change, true, None).await? {
        Written::Answer(_) => Ok(true),
        Written::Conflict => Ok(false),
    }
}

/// `--tick`: fires what is due at start, then every `period`.
pub async fn run_timers(service: Arc<Service>, period: std::time::Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once; the start's firing has been done by the caller.
    interval.tick().await;
    loop {
        interval.tick().await;
        let fired = tick(&service).await;
        if !fired.is_empty() {
            tracing::info!(requests = fired.len(), "deadline timers fired");
        }
    }
}

/// The status of a refused change's answer.
pub const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
