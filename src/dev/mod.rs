//! Developer-only code: synthetic data for tests, benchmarks and demos.
//! Not part of the product.
//!
//! The developer tools (`dev-append`, `gen-data`, `loadtest`) are the
//! second binary, `scantrail-dev` (`src/bin/scantrail-dev/`), never
//! subcommands of `scantrail`: the binary operators install has no way in
//! here, and `cargo install --path . --bin scantrail` leaves the tools out.
//!
//! Why this module is in the library at all: examples, benches and tests
//! build the same synthetic movements and sites the tools write (e.g. a
//! benchmark compares `Journal::commit` with `scantrail-dev dev-append`), and
//! those targets can only link the library, not a binary. So the data
//! generators live here, and only the tools' command lines live in the
//! binary. Nothing under `src/` outside this module may use it.

pub mod gen;
pub mod synthetic;
