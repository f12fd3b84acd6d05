//! The organisation directory (组织架构): loading, validation, indexes.
