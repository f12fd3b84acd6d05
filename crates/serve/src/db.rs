//! The database: one pool over SQLite or PostgreSQL (sqlx's `any` driver, chosen by the URL),
//! the versioned migrations of `migrations/` applied at start, and every query the service
//! makes. Portable SQL (`$1` parameters, `ON CONFLICT`, `RETURNING`), so both databases run
//! the same statements, but for how a request's id is drawn (a sequence on PostgreSQL, a
//! counter row on SQLite: [`draw_request_id`]) and the migration that made the sequence. On
//! PostgreSQL the most frequent writes go as one statement instead (`postgres_writes`).
//!
//! An action is one transaction whose first statement is the conditional update of the
//! request's row (`WHERE row_version = $n`): on PostgreSQL the row lock and the re-check of the
//! condition make a lost update impossible at READ COMMITTED; on SQLite the transaction takes
//! the write lock at that statement, so it never holds a stale snapshot.

use std::borrow::Cow;
use std::collections::BTreeMap;

use futures_core::future::BoxFuture;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row};

/// One versioned migration of the schema, compiled in.
pub struct SchemaMigration {
    pub version: i64,
    pub description: &'static str,
    /// The SQL both databases run.
    pub sql: &'static str,
    /// PostgreSQL's own SQL, where the two differ (a sequence has no SQLite equivalent).
    pub postgres: Option<&'static str>,
}

impl SchemaMigration {
    fn sql_for(&self, postgres: bool) -> &'static str {
        match (postgres, self.postgres) {
            (true, Some(sql)) => sql,
            _ => self.sql,
        }
    }
}

/// The schema's migrations: a server brings any older database up to date at start.
pub const MIGRATIONS: &[SchemaMigration] = &[
    SchemaMigration {
        version: 1,
        description: "requests",
        sql: include_str!("../migrations/0001_requests.sql"),
        postgres: None,
    },
    SchemaMigration {
        version: 2,
        description: "request lists",
        sql: include_str!("../migrations/0002_request_lists.sql"),
        postgres: None,
    },
    SchemaMigration {
        version: 3,
        description: "families and timers",
        sql: include_str!("../migrations/0003_families_and_timers.sql"),
        postgres: None,
    },
    SchemaMigration {
        version: 4,
        description: "request ids",
        sql: include_str!("../migrations/0004_request_ids.sql"),
        postgres: Some(include_str!("../migrations/0004_request_ids.postgres.sql")),
    },
];

/// The first `count` embedded migrations as sqlx's migrator reads them, for PostgreSQL or not.
#[derive(Debug)]
struct Embedded {
    count: usize,
    postgres: bool,
}

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(MIGRATIONS
                .iter()
                .take(self.count)
                .map(|migration| {
                    Migration::new(
                        migration.version,
                        Cow::Borrowed(migration.description),
                        MigrationType::Simple,
                        Cow::Borrowed(migration.sql_for(self.postgres)),
                        false,
                    )
                })
                .collect())
        })
    }
}

pub type DbResult<T> = Result<T, sqlx::Error>;

/// The URL of the default database: `flowc.db` in `folder`.
pub fn default_url(folder: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", folder.join("flowc.db").display())
}

/// The pools a server uses: `pool` for reads, `writer` for every write.
///
/// SQLite lets one connection write at a time; a transaction that finds the write lock taken
/// waits in SQLite's busy handler, which sleeps (up to 100 ms at a time) instead of being woken
/// when the lock is free: under load most of the latency was that sleep. So on SQLite the
/// writes of a server go through a pool of one connection, and the actions queue for it in
/// order (sqlx hands a freed connection to the oldest waiter); the busy handler is left for
/// another process on the same file. On PostgreSQL, which writes concurrently, both are the
/// same pool.
#[derive(Clone)]
pub struct Pools {
    pub pool: AnyPool,
    pub writer: AnyPool,
}

/// When SQLite's commit waits for the disk (`PRAGMA synchronous`, docs/serve.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSync {
    /// Every commit is flushed to disk before it is answered: it survives a power loss.
    Full,
    /// The write-ahead log is flushed at checkpoints only: a commit survives the server's crash
    /// (`kill -9`), not the machine's.
    Normal,
}

/// Opens the read pool (`connections`) and the write pool (see [`Pools`]).
pub async fn connect_pools(url: &str, connections: u32, sync: SqliteSync) -> DbResult<Pools> {
    let pool = connect_with(url, connections, sync).await?;
    let writer = if is_sqlite(url) { connect_with(url, 1, sync).await? } else { pool.clone() };
    Ok(Pools { pool, writer })
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Opens the pool. SQLite runs in WAL mode (readers never wait for the writer), flushes every
/// commit to disk, and waits for the write lock rather than failing at once.
pub async fn connect(url: &str, connections: u32) -> DbResult<AnyPool> {
    connect_with(url, connections, SqliteSync::Full).await
}

async fn connect_with(url: &str, connections: u32, sync: SqliteSync) -> DbResult<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = is_sqlite(url);
    let url = if sqlite && !url.contains("mode=") {
        format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
    } else {
        url.to_owned()
    };
    AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if sqlite {
                    connection.execute("PRAGMA journal_mode = WAL").await?;
                    connection
                        .execute(match sync {
                            SqliteSync::Full => "PRAGMA synchronous = FULL",
                            SqliteSync::Normal => "PRAGMA synchronous = NORMAL",
                        })
                        .await?;
                    connection.execute("PRAGMA busy_timeout = 10000").await?;
                    connection.execute("PRAGMA foreign_keys = ON").await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
}

/// Applies the first `count` migrations not yet applied (all of them: `MIGRATIONS.len()`).
pub async fn migrate(pool: &AnyPool, count: usize) -> Result<(), sqlx::migrate::MigrateError> {
    let migrator = Migrator::new(Embedded { count, postgres: is_postgres(pool) }).await?;
    migrator.run(pool).await
}

/// The newest migration applied, for `/healthz` and the tests.
pub async fn schema_version(pool: &AnyPool) -> DbResult<i64> {
    let row = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE").fetch_one(pool).await?;
    Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
}

pub async fn store_version(
    pool: &AnyPool,
    hash: &str,
    root: &str,
    files: &BTreeMap<String, String>,
    at: &str,
) -> DbResult<()> {
    let files = serde_json::to_string(files).unwrap_or_default();
    sqlx::query(
        "INSERT INTO versions (hash, root, files, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING",
    )
    .bind(hash)
    .bind(root)
    .bind(files)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

/// A stored version's root file and files.
pub async fn stored_version(pool: &AnyPool, hash: &str) -> DbResult<Option<(String, BTreeMap<String, String>)>> {
    let row = sqlx::query("SELECT root, files FROM versions WHERE hash = $1").bind(hash).fetch_optional(pool).await?;
    Ok(match row {
        Some(row) => {
            let files: String = row.try_get(1)?;
            Some((row.try_get(0)?, serde_json::from_str(&files).unwrap_or_default()))
        }
        None => None,
    })
}

pub async fn insert_token(pool: &AnyPool, hash: &str, person: &str, at: &str) -> DbResult<()> {
    sqlx::query("INSERT INTO tokens (hash, person, created_at) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(person)
        .bind(at)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn token_person(pool: &AnyPool, hash: &str) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT person FROM tokens WHERE hash = $1").bind(hash).fetch_optional(pool).await?;
    row.map(|row| row.try_get(0)).transpose()
}

/// A request's row, as an action reads it.
pub struct StoredRequest {
    pub id: i64,
    pub workflow: String,
    pub version_hash: String,
    pub creator: String,
    pub state: String,
    pub row_version: i64,
    pub updated_ms: i64,
    /// The request that started it (`start`), if any.
    pub parent_id: Option<i64>,
}

pub async fn load_request(pool: &AnyPool, id: i64) -> DbResult<Option<StoredRequest>> {
    let row = sqlx::query(
        "SELECT id, workflow, version_hash, creator, state, row_version, updated_ms, parent_id FROM requests \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| stored_request(&row)).transpose()
}

/// A request's row and whether `person` relates to it in any way that lets them see it, in one
/// query (the first thing every action asks).
pub async fn load_request_for(pool: &AnyPool, id: i64, person: &str) -> DbResult<Option<(StoredRequest, bool)>> {
    let row = sqlx::query(
        "SELECT id, workflow, version_hash, creator, state, row_version, updated_ms, parent_id, \
         (SELECT COUNT(*) FROM participants p WHERE p.request_id = requests.id AND p.person = $2) FROM requests \
         WHERE id = $1",
    )
    .bind(id)
    .bind(person)
    .fetch_optional(pool)
    .await?;
    row.map(|row| Ok((stored_request(&row)?, row.try_get::<i64, _>(8)? > 0))).transpose()
}

fn stored_request(row: &AnyRow) -> DbResult<StoredRequest> {
    Ok(StoredRequest {
        id: row.try_get(0)?,
        workflow: row.try_get(1)?,
        version_hash: row.try_get(2)?,
        creator: row.try_get(3)?,
        state: row.try_get(4)?,
        row_version: row.try_get(5)?,
        updated_ms: row.try_get(6)?,
        parent_id: row.try_get(7)?,
    })
}

/// The newest request of `workflow` that request `parent` started (the one its node waits for:
/// one a return left behind is older).
pub async fn latest_child(pool: &AnyPool, parent: i64, workflow: &str) -> DbResult<Option<i64>> {
    let row = sqlx::query("SELECT MAX(id) FROM requests WHERE parent_id = $1 AND workflow = $2")
        .bind(parent)
        .bind(workflow)
        .fetch_one(pool)
        .await?;
    row.try_get::<Option<i64>, _>(0)
}

/// The open requests stored on another version than `hash` (for `--migrate`).
pub async fn open_on_other_versions(pool: &AnyPool, hash: &str) -> DbResult<Vec<StoredRequest>> {
    let rows = sqlx::query(
        "SELECT id, workflow, version_hash, creator, state, row_version, updated_ms, parent_id FROM requests \
         WHERE status <> 'archived' AND version_hash <> $1 ORDER BY id",
    )
    .bind(hash)
    .fetch_all(pool)
    .await?;
    rows.iter().map(stored_request).collect()
}

/// Moves a request to version `hash` with its replayed state, if nobody wrote it since
/// `expected_version` (`Ok(false)`: someone did; nothing was written).
pub async fn move_version(
    pool: &AnyPool,
    id: i64,
    expected_version: i64,
    hash: &str,
    columns: &Columns,
) -> DbResult<bool> {
    let updated = sqlx::query(
        "UPDATE requests SET version_hash = $1, title = $2, node = $3, status = $4, state = $5, updated_ms = $6, \
         next_due_ms = $7, row_version = row_version + 1 WHERE id = $8 AND row_version = $9",
    )
    .bind(hash)
    .bind(&columns.title)
    .bind(&columns.node)
    .bind(columns.status)
    .bind(&columns.state)
    .bind(columns.now_ms)
    .bind(columns.next_due_ms)
    .bind(id)
    .bind(expected_version)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// A request's columns after a write (what its row holds besides who relates to it).
pub struct Columns {
    pub title: String,
    pub node: String,
    pub status: &'static str,
    pub state: String,
    pub now_ms: i64,
    /// When its next deadline timer falls (milliseconds since the epoch); none: no timer.
    pub next_due_ms: Option<i64>,
}

/// What a write stores besides the columns: who now relates to the request, its steps and the
/// reminders they asked for.
pub struct Rest {
    pub pending: Vec<String>,
    /// (person, relation) rows that accumulate: operator, handled, forwarded, cc.
    pub relations: Vec<(String, &'static str)>,
    pub steps: Vec<StepRow>,
    pub reminders: Vec<ReminderRow>,
}

pub struct StepRow {
    pub number: i64,
    pub person: String,
    pub action: String,
    pub node: String,
    pub at: String,
    pub at_ms: i64,
    pub waited_ms: i64,
    pub json: String,
}

/// One reminder of a step, for the outbox table.
pub struct ReminderRow {
    pub step_number: i64,
    pub position: i64,
    pub at: String,
    pub at_ms: i64,
    pub channel: String,
    /// The people to remind, as a JSON array.
    pub recipients: String,
    pub text: String,
    pub node: String,
    pub rule: String,
}

pub type Transaction = sqlx::Transaction<'static, sqlx::Any>;

pub async fn begin(pool: &AnyPool) -> DbResult<Transaction> {
    pool.begin().await
}

/// Whether a pool's database is PostgreSQL (several writers at once, sequences), not SQLite.
pub fn is_postgres(pool: &AnyPool) -> bool {
    pool.connect_options().database_url.scheme().starts_with("postgres")
}

/// Draws a new request's id inside the transaction that stores it. On PostgreSQL from the
/// `request_ids` sequence (migration 4): `nextval` takes no lock and commits nothing of its
/// own, so concurrent creates do not queue, and a create rolled back leaves a gap (ids are
/// unique and increasing, not dense). On SQLite, with one writer at a time, from the
/// `counters` row: dense, and no queue to avoid.
pub async fn draw_request_id(transaction: &mut Transaction, postgres: bool) -> DbResult<i64> {
    let sql = if postgres {
        "SELECT nextval('request_ids')"
    } else {
        "INSERT INTO counters (name, value) VALUES ('request', 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
    };
    sqlx::query(sql).fetch_one(&mut **transaction).await?.try_get(0)
}

/// Draws `count` new request ids from PostgreSQL's sequence, outside any transaction (for the
/// requests a change starts: their ids are in the answer, computed before the write).
pub async fn draw_request_ids(pool: &AnyPool, count: usize) -> DbResult<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    sqlx::query("SELECT nextval('request_ids') FROM generate_series(1, $1)")
        .bind(i64::try_from(count).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
}

/// Stores a new request's row (`parent`: the request that started it) and the rest.
#[allow(clippy::too_many_arguments)]
pub async fn insert_request(
    transaction: &mut Transaction,
    id: i64,
    workflow: &str,
    version_hash: &str,
    creator: &str,
    parent: Option<i64>,
    created_at: &str,
    columns: &Columns,
    rest: &Rest,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO requests (id, workflow, version_hash, creator, title, node, status, state, row_version, \
         created_at, created_ms, updated_ms, parent_id, next_due_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10, $11, $12)",
    )
    .bind(id)
    .bind(workflow)
    .bind(version_hash)
    .bind(creator)
    .bind(&columns.title)
    .bind(&columns.node)
    .bind(columns.status)
    .bind(&columns.state)
    .bind(created_at)
    .bind(columns.now_ms)
    .bind(parent)
    .bind(columns.next_due_ms)
    .execute(&mut **transaction)
    .await?;
    let mut relations = rest.relations.clone();
    relations.push((creator.to_owned(), "creator"));
    write_relations(transaction, id, &rest.pending, &relations, true).await?;
    write_steps(transaction, id, rest).await
}

/// Creates a request: draws its id, stores it with its creation step, in one transaction (on
/// PostgreSQL one statement: `postgres_writes`). Returns the id.
pub async fn create_request(
    pool: &AnyPool,
    workflow: &str,
    version_hash: &str,
    creator: &str,
    columns: &Columns,
    rest: &Rest,
) -> DbResult<i64> {
    let created_at = rest.steps.first().map_or("", |step| step.at.as_str());
    let postgres = is_postgres(pool);
    if postgres && crate::postgres_writes::fits_one_statement(rest) {
        return crate::postgres_writes::create_request(
            pool,
            workflow,
            version_hash,
            creator,
            created_at,
            columns,
            rest,
        )
        .await;
    }
    let mut transaction = begin(pool).await?;
    let id = draw_request_id(&mut transaction, postgres).await?;
    insert_request(&mut transaction, id, workflow, version_hash, creator, None, created_at, columns, rest).await?;
    transaction.commit().await?;
    Ok(id)
}

/// Draws the next number of a workflow's counter (a form's `serial` field).
pub async fn next_serial(pool: &AnyPool, workflow: &str) -> DbResult<i64> {
    sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(format!("serial:{workflow}"))
    .fetch_one(pool)
    .await?
    .try_get(0)
}

/// Updates a request's row only if nobody wrote it since `expected_version` (`Ok(false)`:
/// someone did; nothing was written, and the caller rolls the transaction back).
pub async fn update_request(
    transaction: &mut Transaction,
    id: i64,
    expected_version: i64,
    columns: &Columns,
) -> DbResult<bool> {
    let updated = sqlx::query(
        "UPDATE requests SET title = $1, node = $2, status = $3, state = $4, updated_ms = $5, next_due_ms = $6, \
         row_version = row_version + 1 WHERE id = $7 AND row_version = $8",
    )
    .bind(&columns.title)
    .bind(&columns.node)
    .bind(columns.status)
    .bind(&columns.state)
    .bind(columns.now_ms)
    .bind(columns.next_due_ms)
    .bind(id)
    .bind(expected_version)
    .execute(&mut **transaction)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// After `update_request`: who relates to the request now, its new steps and reminders.
pub async fn write_rest(transaction: &mut Transaction, id: i64, rest: &Rest) -> DbResult<()> {
    write_relations(transaction, id, &rest.pending, &rest.relations, false).await?;
    write_steps(transaction, id, rest).await
}

/// The answer of a successful action, under the person's idempotency key.
pub async fn store_answer(
    transaction: &mut Transaction,
    person: &str,
    key: &str,
    id: i64,
    response: &str,
) -> DbResult<()> {
    sqlx::query("INSERT INTO idempotency (person, idempotency_key, request_id, response) VALUES ($1, $2, $3, $4)")
        .bind(person)
        .bind(key)
        .bind(id)
        .bind(response)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Rows per multi-row `INSERT` (each row binds at most 10 parameters; both databases accept
/// many more than 10 × this).
const ROWS_PER_INSERT: usize = 100;

/// `INSERT INTO {into} VALUES (…), (…), …` for `rows` rows of `columns` parameters each, and
/// `suffix` after it.
fn insert_sql(into: &str, columns: usize, rows: usize, suffix: &str) -> String {
    let mut sql = format!("INSERT INTO {into} VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column + 1));
        }
        sql.push(')');
    }
    sql.push_str(suffix);
    sql
}

/// Who relates to the request now: the pending rows replaced (a new request has none to
/// replace: `fresh`), the others added. One multi-row statement, not one per person: in an
/// action's transaction every statement is a round trip, and on SQLite the one writer waits
/// for each.
async fn write_relations(
    transaction: &mut Transaction,
    id: i64,
    pending: &[String],
    relations: &[(String, &'static str)],
    fresh: bool,
) -> DbResult<()> {
    if !fresh {
        sqlx::query("DELETE FROM participants WHERE request_id = $1 AND relation = 'pending'")
            .bind(id)
            .execute(&mut **transaction)
            .await?;
    }
    let pending = pending.iter().map(|person| (person.clone(), "pending"));
    let mut rows: Vec<(String, &'static str)> = relations.iter().cloned().chain(pending).collect();
    // Duplicates within one statement are fine on SQLite but not on PostgreSQL's ON CONFLICT.
    rows.sort_unstable();
    rows.dedup();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql("participants (request_id, person, relation)", 3, chunk.len(), " ON CONFLICT DO NOTHING");
        let mut query = sqlx::query(&sql);
        for (person, relation) in chunk {
            query = query.bind(id).bind(person.as_str()).bind(*relation);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

async fn write_steps(transaction: &mut Transaction, id: i64, rest: &Rest) -> DbResult<()> {
    for chunk in rest.steps.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(
            "steps (request_id, number, person, action, node, at, at_ms, waited_ms, step)",
            9,
            chunk.len(),
            "",
        );
        let mut query = sqlx::query(&sql);
        for step in chunk {
            query = query
                .bind(id)
                .bind(step.number)
                .bind(step.person.as_str())
                .bind(step.action.as_str())
                .bind(step.node.as_str())
                .bind(step.at.as_str())
                .bind(step.at_ms)
                .bind(step.waited_ms)
                .bind(step.json.as_str());
        }
        query.execute(&mut **transaction).await?;
    }
    for chunk in rest.reminders.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(
            "outbox (request_id, step_number, position, at, at_ms, channel, recipients, text, node, rule)",
            10,
            chunk.len(),
            "",
        );
        let mut query = sqlx::query(&sql);
        for reminder in chunk {
            query = query
                .bind(id)
                .bind(reminder.step_number)
                .bind(reminder.position)
                .bind(reminder.at.as_str())
                .bind(reminder.at_ms)
                .bind(reminder.channel.as_str())
                .bind(reminder.recipients.as_str())
                .bind(reminder.text.as_str())
                .bind(reminder.node.as_str())
                .bind(reminder.rule.as_str());
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

/// The pending requests whose next deadline timer falls at or before `now_ms`, soonest first.
pub async fn due_requests(pool: &AnyPool, now_ms: i64, limit: i64) -> DbResult<Vec<i64>> {
    sqlx::query(
        "SELECT id FROM requests WHERE status = 'pending' AND next_due_ms IS NOT NULL AND next_due_ms <= $1 \
         ORDER BY next_due_ms, id LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| row.try_get(0))
    .collect()
}

/// One reminder of the outbox table.
#[derive(serde::Serialize)]
pub struct OutboxReminder {
    pub request: i64,
    pub step: i64,
    pub at: String,
    pub channel: String,
    pub to: serde_json::Value,
    pub text: String,
    pub node: String,
    pub rule: String,
}

/// The reminders asked for at or after `from_ms` (of one request, when given), oldest first.
pub async fn outbox(pool: &AnyPool, request: Option<i64>, from_ms: i64, limit: i64) -> DbResult<Vec<OutboxReminder>> {
    sqlx::query(
        "SELECT request_id, step_number, at, channel, recipients, text, node, rule FROM outbox \
         WHERE ($1 IS NULL OR request_id = $1) AND at_ms >= $2 ORDER BY at_ms, request_id, step_number, position \
         LIMIT $3",
    )
    .bind(request)
    .bind(from_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        let recipients: String = row.try_get(4)?;
        Ok(OutboxReminder {
            request: row.try_get(0)?,
            step: row.try_get(1)?,
            at: row.try_get(2)?,
            channel: row.try_get(3)?,
            to: serde_json::from_str(&recipients).unwrap_or_default(),
            text: row.try_get(5)?,
            node: row.try_get(6)?,
            rule: row.try_get(7)?,
        })
    })
    .collect()
}

/// The answer stored for an action carrying `key`, and the request it was for.
pub async fn idempotent_answer(pool: &AnyPool, person: &str, key: &str) -> DbResult<Option<(i64, String)>> {
    let row = sqlx::query("SELECT request_id, response FROM idempotency WHERE person = $1 AND idempotency_key = $2")
        .bind(person)
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
}

/// One line of a list (inbox, done, mine, cc'd, search).
#[derive(serde::Serialize)]
pub struct Summary {
    pub id: i64,
    pub workflow: String,
    pub title: String,
    pub creator: String,
    pub node: String,
    pub status: String,
    pub created_at: String,
}

fn summary(row: &AnyRow) -> DbResult<Summary> {
    Ok(Summary {
        id: row.try_get(0)?,
        workflow: row.try_get(1)?,
        title: row.try_get(2)?,
        creator: row.try_get(3)?,
        node: row.try_get(4)?,
        status: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

const SUMMARY_COLUMNS: &str = "r.id, r.workflow, r.title, r.creator, r.node, r.status, r.created_at";

/// The requests `person` relates to as `relation` (newest first, at most `limit`).
pub async fn list(pool: &AnyPool, person: &str, relation: &str, limit: i64) -> DbResult<Vec<Summary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM requests r JOIN participants p ON p.request_id = r.id \
         WHERE p.person = $1 AND p.relation = $2 ORDER BY r.id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql).bind(person).bind(relation).bind(limit).fetch_all(pool).await?;
    rows.iter().map(summary).collect()
}

/// The administrators' search; every filter optional.
#[derive(Default, serde::Deserialize)]
pub struct Search {
    pub workflow: Option<String>,
    pub status: Option<String>,
    pub creator: Option<String>,
    /// Created at or after (milliseconds since the epoch).
    pub from_ms: Option<i64>,
    /// Created before.
    pub to_ms: Option<i64>,
    pub limit: Option<i64>,
}

pub async fn search(pool: &AnyPool, filter: &Search) -> DbResult<Vec<Summary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM requests r WHERE ($1 IS NULL OR r.workflow = $1) AND ($2 IS NULL OR r.status = $2) \
         AND ($3 IS NULL OR r.creator = $3) AND r.created_ms >= $4 AND r.created_ms < $5 ORDER BY r.id DESC LIMIT $6"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.workflow.clone())
        .bind(filter.status.clone())
        .bind(filter.creator.clone())
        .bind(filter.from_ms.unwrap_or(i64::MIN))
        .bind(filter.to_ms.unwrap_or(i64::MAX))
        .bind(filter.limit.unwrap_or(100).clamp(1, 1000))
        .fetch_all(pool)
        .await?;
    rows.iter().map(summary).collect()
}

/// The log of a request: each step's JSON, in order.
pub async fn steps(pool: &AnyPool, id: i64) -> DbResult<Vec<String>> {
    let rows =
        sqlx::query("SELECT step FROM steps WHERE request_id = $1 ORDER BY number").bind(id).fetch_all(pool).await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// The rows the reports are computed from, over `[from_ms, to_ms)`.
pub struct ReportRows {
    /// (workflow, status) of each request created in the range.
    pub requests: Vec<(String, String)>,
    /// (workflow, node, person, action, waited_ms) of each step taken in the range after creation.
    pub steps: Vec<(String, String, String, String, i64)>,
    /// (id, workflow, title, node, updated_ms) of each pending request, oldest update first.
    pub waiting: Vec<(i64, String, String, String, i64)>,
}

pub async fn report_rows(pool: &AnyPool, from_ms: i64, to_ms: i64, waiting: i64) -> DbResult<ReportRows> {
    let requests = sqlx::query("SELECT workflow, status FROM requests WHERE created_ms >= $1 AND created_ms < $2")
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<DbResult<_>>()?;
    let steps = sqlx::query(
        "SELECT r.workflow, s.node, s.person, s.action, s.waited_ms FROM steps s JOIN requests r ON r.id = s.request_id \
         WHERE s.number > 0 AND s.person <> 'system' AND s.at_ms >= $1 AND s.at_ms < $2",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?)))
    .collect::<DbResult<_>>()?;
    let waiting = sqlx::query(
        "SELECT id, workflow, title, node, updated_ms FROM requests WHERE status = 'pending' ORDER BY updated_ms, id LIMIT $1",
    )
    .bind(waiting)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?)))
    .collect::<DbResult<_>>()?;
    Ok(ReportRows { requests, steps, waiting })
}

/// Requests by workflow and status, for `/metrics`.
pub async fn request_counts(pool: &AnyPool) -> DbResult<Vec<(String, String, i64)>> {
    sqlx::query("SELECT workflow, status, COUNT(*) FROM requests GROUP BY workflow, status ORDER BY workflow, status")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
}

/// Forgets a request's next timer (it could not fire); an action fires it, or refuses.
pub async fn clear_next_due(pool: &AnyPool, id: i64, row_version: i64) -> DbResult<()> {
    sqlx::query("UPDATE requests SET next_due_ms = NULL WHERE id = $1 AND row_version = $2")
        .bind(id)
        .bind(row_version)
        .execute(pool)
        .await?;
    Ok(())
}
