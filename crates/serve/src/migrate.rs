//! `flowc serve --migrate`: the open requests stored on another version of the workflows move to
//! the one being served, each replayed under it as `flowc run --state --migrate` replays a state
//! (docs/serve.md, "Workflow versions"). Without `--migrate` a request stays on the version it
//! was created on. A request whose log does not replay under the new version stays where it was:
//! it is reported, not changed, and goes on under its own version.

use flowc::runtime::request::Runtime;

use crate::api::Service;
use crate::{clock, db, transition};

/// What one migration did: the requests moved, and those left on their version with why.
#[derive(Debug, Default)]
pub struct Moved {
    pub moved: Vec<i64>,
    pub kept: Vec<(i64, String)>,
}

/// Moves every open request on another version to the current one.
pub async fn open_requests(service: &Service) -> Result<Moved, sqlx::Error> {
    let mut outcome = Moved::default();
    let current = service.current.clone();
    for stored in db::open_on_other_versions(&service.pool, &current.hash).await? {
        let now = clock::now();
        let now_ms = clock::now_ms();
        // The runtime is not held across an await: the new row is computed first.
        let columns = {
            let runtime = Runtime::new(&current.compiled, &service.directory);
            match runtime.load_state(&stored.state, true, now) {
                Ok(request) => transition::columns(&runtime, &request, now, now_ms)
                    .map_err(|_| "its state cannot be written under the new version".to_owned()),
                Err(error) => Err(format!("{}: {}", error.code, error.message)),
            }
        };
        match columns {
            Ok(columns) => {
                if db::move_version(&service.pool, stored.id, stored.row_version, &current.hash, &columns).await? {
                    outcome.moved.push(stored.id);
                } else {
                    outcome.kept.push((stored.id, "someone acted on it meanwhile; run --migrate again".into()));
                }
            }
            Err(why) => outcome.kept.push((stored.id, why)),
        }
    }
    Ok(outcome)
}
