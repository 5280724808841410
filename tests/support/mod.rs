pub mod gs1_values;
