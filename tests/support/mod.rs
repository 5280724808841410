pub mod daemon;
pub mod gs1_values;
pub mod scanner;
