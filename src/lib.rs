pub mod cli;
pub mod config;
pub mod gs1;
pub mod scan;
