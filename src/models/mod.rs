//! Reference models for the bundled data sets.

pub mod scm5;
