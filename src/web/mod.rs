//! HTTP plumbing that the site daemon and head office share, so both answer
//! errors and hold connections the same way: RFC 7807 problem documents
//! (`problem`) and the server loop with its timeouts and connection limit
//! (`server`). Neither knows anything of sites or head office.

mod idle;
pub mod problem;
pub mod server;
