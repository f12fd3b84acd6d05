//! PostgreSQL only: the two writes the service makes most — a new request, and an action that
//! changes one request and starts none — each as ONE statement (data-modifying `WITH` clauses),
//! which PostgreSQL runs as a transaction of its own. The statements are the same rows
//! `db.rs` writes in an explicit transaction (and still writes there on SQLite, which has no
//! data-modifying `WITH`, and for the rarer changes of several requests): one round trip
//! instead of five to seven (`BEGIN`, each statement, `COMMIT`), so a transaction is open for
//! a fraction of the time and concurrent actions hold their locks and connections for less.
//!
//! Every row the action writes is selected from the conditional update's `RETURNING`, so when
//! someone wrote the request since it was read (its `row_version` moved), the update matches
//! nothing and nothing else is written either: the optimistic check of `db::update_request`
//! holds for the whole statement. On READ COMMITTED the update locks the row and re-checks its
//! version after a concurrent writer commits, as the separate statement did.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

use crate::db::{Columns, DbResult, Rest};

/// PostgreSQL accepts at most this many parameters in one statement; a write needing more (a
/// change with thousands of steps or participants) goes through the explicit transaction.
const MAX_PARAMETERS: usize = 65_535;

/// Whether writing `rest` (and a request's columns, an idempotency key) fits in one statement:
/// an upper bound of the parameters the statements below bind.
pub fn fits_one_statement(rest: &Rest) -> bool {
    let relations = rest.relations.len() + 2 * rest.pending.len() + 1;
    let needed = 16 + 2 * relations + 8 * rest.steps.len() + 9 * rest.reminders.len();
    needed <= MAX_PARAMETERS
}

/// A parameter of a statement being built.
enum Param<'a> {
    Int(i64),
    MaybeInt(Option<i64>),
    Text(&'a str),
}

/// A statement's SQL and its parameters, numbered in the order they are added.
struct Statement<'a> {
    sql: String,
    params: Vec<Param<'a>>,
}

impl<'a> Statement<'a> {
    fn new() -> Statement<'a> {
        Statement { sql: String::from("WITH "), params: Vec::new() }
    }

    /// Adds a parameter; returns its placeholder (`$7`).
    fn param(&mut self, param: Param<'a>) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }

    fn text(&mut self, text: &'a str) -> String {
        self.param(Param::Text(text))
    }

    fn int(&mut self, value: i64) -> String {
        self.param(Param::Int(value))
    }

    /// A `VALUES` list of `rows`, each row's parameters added by `row`.
    fn values<T>(&mut self, rows: &'a [T], mut row: impl FnMut(&mut Self, &'a T) -> Vec<String>) -> String {
        let mut list = String::from("VALUES ");
        for (index, item) in rows.iter().enumerate() {
            if index > 0 {
                list.push_str(", ");
            }
            let placeholders = row(self, item);
            list.push('(');
            list.push_str(&placeholders.join(", "));
            list.push(')');
        }
        list
    }

    fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for param in &self.params {
            query = match param {
                Param::Int(value) => query.bind(*value),
                Param::MaybeInt(value) => query.bind(*value),
                Param::Text(value) => query.bind(*value),
            };
        }
        query
    }
}

/// Appends the clauses that write `rest` for the request whose id the clause `source` returns:
/// the pending rows no longer pending deleted (`replace_pending`), the relations and pending
/// rows added, the steps and the reminders.
fn write_rest<'a>(
    statement: &mut Statement<'a>,
    source: &str,
    rest: &'a Rest,
    relations: &'a [(String, &'static str)],
    replace_pending: bool,
) {
    if replace_pending {
        // Only the rows no longer pending: a row deleted and inserted again by one statement
        // would meet itself in the insert's conflict check.
        let kept: Vec<String> = rest.pending.iter().map(|person| statement.text(person)).collect();
        let kept = if kept.is_empty() { String::new() } else { format!(" AND person NOT IN ({})", kept.join(", ")) };
        statement.sql.push_str(&format!(
            ", gone AS (DELETE FROM participants WHERE request_id IN (SELECT id FROM {source}) \
             AND relation = 'pending'{kept})"
        ));
    }
    if !relations.is_empty() {
        let values = statement
            .values(relations, |statement, (person, relation)| vec![statement.text(person), statement.text(relation)]);
        statement.sql.push_str(&format!(
            ", related AS (INSERT INTO participants (request_id, person, relation) \
             SELECT {source}.id, v.person, v.relation FROM {source}, ({values}) AS v (person, relation) \
             ON CONFLICT DO NOTHING)"
        ));
    }
    if !rest.steps.is_empty() {
        let values = statement.values(&rest.steps, |statement, step| {
            vec![
                statement.int(step.number),
                statement.text(&step.person),
                statement.text(&step.action),
                statement.text(&step.node),
                statement.text(&step.at),
                statement.int(step.at_ms),
                statement.int(step.waited_ms),
                statement.text(&step.json),
            ]
        });
        statement.sql.push_str(&format!(
            ", stepped AS (INSERT INTO steps (request_id, number, person, action, node, at, at_ms, waited_ms, step) \
             SELECT {source}.id, v.* FROM {source}, ({values}) AS v)"
        ));
    }
    if !rest.reminders.is_empty() {
        let values = statement.values(&rest.reminders, |statement, reminder| {
            vec![
                statement.int(reminder.step_number),
                statement.int(reminder.position),
                statement.text(&reminder.at),
                statement.int(reminder.at_ms),
                statement.text(&reminder.channel),
                statement.text(&reminder.recipients),
                statement.text(&reminder.text),
                statement.text(&reminder.node),
                statement.text(&reminder.rule),
            ]
        });
        statement.sql.push_str(&format!(
            ", reminded AS (INSERT INTO outbox (request_id, step_number, position, at, at_ms, channel, recipients, \
             text, node, rule) SELECT {source}.id, v.* FROM {source}, ({values}) AS v)"
        ));
    }
}

/// The (person, relation) rows of a write, without duplicates (PostgreSQL's `ON CONFLICT`
/// refuses a row that one statement inserts twice).
pub fn relation_rows(rest: &Rest, extra: Option<(&str, &'static str)>) -> Vec<(String, &'static str)> {
    let pending = rest.pending.iter().map(|person| (person.clone(), "pending"));
    let extra = extra.map(|(person, relation)| (person.to_owned(), relation));
    let mut rows: Vec<(String, &'static str)> = rest.relations.iter().cloned().chain(pending).chain(extra).collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// Stores a new request (its id drawn from the sequence) with its rows in one statement, and
/// returns its id (only when [`fits_one_statement`]).
pub async fn create_request(
    pool: &AnyPool,
    workflow: &str,
    version_hash: &str,
    creator: &str,
    created_at: &str,
    columns: &Columns,
    rest: &Rest,
) -> DbResult<i64> {
    let relations = relation_rows(rest, Some((creator, "creator")));
    let mut statement = Statement::new();
    let placeholders = [
        statement.text(workflow),
        statement.text(version_hash),
        statement.text(creator),
        statement.text(&columns.title),
        statement.text(&columns.node),
        statement.text(columns.status),
        statement.text(&columns.state),
        statement.text(created_at),
        statement.int(columns.now_ms),
        statement.param(Param::MaybeInt(columns.next_due_ms)),
    ];
    let [workflow, version, creator, title, node, status, state, created_at, now_ms, next_due] = &placeholders;
    statement.sql.push_str(&format!(
        "created AS (INSERT INTO requests (id, workflow, version_hash, creator, title, node, status, state, \
         row_version, created_at, created_ms, updated_ms, parent_id, next_due_ms) \
         VALUES (nextval('request_ids'), {workflow}, {version}, {creator}, {title}, {node}, {status}, {state}, 1, \
         {created_at}, {now_ms}, {now_ms}, NULL, {next_due}) RETURNING id)"
    ));
    write_rest(&mut statement, "created", rest, &relations, false);
    statement.sql.push_str(" SELECT id FROM created");
    statement.query().fetch_one(pool).await?.try_get(0)
}

/// What an action writes to one request, in one statement.
pub struct OneRequest<'a> {
    pub id: i64,
    pub expected_version: i64,
    pub columns: &'a Columns,
    pub rest: &'a Rest,
    /// (person, key, answer): the answer stored under the person's idempotency key.
    pub answer: Option<(&'a str, &'a str, &'a str)>,
}

/// Writes an action's change of one request in one statement (only when
/// [`fits_one_statement`]), if nobody wrote the request since `expected_version`: `Ok(false)`:
/// someone did, and nothing was written.
pub async fn write_one_request(pool: &AnyPool, write: &OneRequest<'_>) -> DbResult<bool> {
    let columns = write.columns;
    let relations = relation_rows(write.rest, None);
    let mut statement = Statement::new();
    let placeholders = [
        statement.text(&columns.title),
        statement.text(&columns.node),
        statement.text(columns.status),
        statement.text(&columns.state),
        statement.int(columns.now_ms),
        statement.param(Param::MaybeInt(columns.next_due_ms)),
        statement.int(write.id),
        statement.int(write.expected_version),
    ];
    let [title, node, status, state, now_ms, next_due, id, expected] = &placeholders;
    statement.sql.push_str(&format!(
        "updated AS (UPDATE requests SET title = {title}, node = {node}, status = {status}, state = {state}, \
         updated_ms = {now_ms}, next_due_ms = {next_due}, row_version = row_version + 1 \
         WHERE id = {id} AND row_version = {expected} RETURNING id)"
    ));
    write_rest(&mut statement, "updated", write.rest, &relations, true);
    if let Some((person, key, answer)) = write.answer {
        let (person, key, answer) = (statement.text(person), statement.text(key), statement.text(answer));
        statement.sql.push_str(&format!(
            ", answered AS (INSERT INTO idempotency (person, idempotency_key, request_id, response) \
             SELECT {person}, {key}, updated.id, {answer} FROM updated)"
        ));
    }
    statement.sql.push_str(" SELECT COUNT(*) FROM updated");
    let written: i64 = statement.query().fetch_one(pool).await?.try_get(0)?;
    Ok(written == 1)
}
