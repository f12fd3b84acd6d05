//! flowc's runtime as a durable service (`flowc serve`): requests kept in SQLite or
//! PostgreSQL, an HTTP JSON API over the library's pure transitions (`Runtime::create`,
//! `Runtime::apply`), which stay the one place where the rules live: this crate stores what
//! they return. The library never depends on this crate.
//!
//! - `cli`: `flowc serve`, `flowc serve token create`, `flowc report`;
//! - `program`: the workflows served, and each stored version by source hash;
//! - `db`: the schema's migrations and every query;
//! - `postgres_writes`: on PostgreSQL, a create or a one-request action as one statement;
//! - `api`: routes, authentication, visibility;
//! - `transition`: one change (timers, an action, started and resumed requests) in one transaction;
//! - `migrate`: `--migrate`, open requests moved to the version served;
//! - `auth`, `clock`, `metrics`, `report`: tokens, time, `/metrics`, reports.

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod db;
pub mod metrics;
pub mod migrate;
pub mod postgres_writes;
pub mod program;
pub mod report;
pub mod transition;

/// The OpenAPI document served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");
