//! Scan sources: turn device bytes into frames for the GS1 engine.

pub mod image;
