pub mod daemon;
pub mod http;
pub mod pg;
pub mod scanner;
pub mod story;
