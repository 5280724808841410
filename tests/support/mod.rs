pub mod daemon;
pub mod pg;
pub mod scanner;
pub mod story;
