pub mod daemon;
pub mod scanner;
