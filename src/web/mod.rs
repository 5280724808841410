//! HTTP plumbing that the site daemon and head office share, so both answer
//! errors and hold connections the same way: RFC 7807 problem documents
//! (`problem`), the server loop with its timeouts and connection limit
//! (`server`) and the served certificate (`tls`). None of them knows
//! anything of sites or head office.

mod idle;
pub mod problem;
pub mod server;
pub mod stream;
pub mod tls;
