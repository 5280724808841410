pub mod config;
pub mod gs1;
