//! Shared test data for the GS1 engine's integration tests.

pub mod values;
