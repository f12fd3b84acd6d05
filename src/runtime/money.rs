//! Exact money arithmetic: rounding, 人民币大写, thousands separators.
