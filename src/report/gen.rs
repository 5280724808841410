//! Synthetic sites for benchmarks and demos (filled in below).
