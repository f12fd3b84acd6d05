//! flowc's runtime as a durable service (`flowc serve`): requests kept in a database, an HTTP
//! JSON API over the library's pure transitions. The library never depends on this crate.
