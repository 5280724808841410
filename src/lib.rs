pub mod cli;
pub mod config;
pub mod gs1;
pub mod report;
pub mod scan;
pub mod site;
pub mod station;
pub mod store;
