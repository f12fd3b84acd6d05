//! The one integration test binary (one binary links faster than many).
//! Most tests are data: add a `.flow` file under `tests/data/` and it is
//! picked up.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod suite;
