//! The tutorial examples of messagedb. Each topic is a directory with the same program in Rust
//! (`cargo run --example <name>`), Bun (`main.ts`) and Python (`main.py`), and the output all three
//! print (`expected.txt`); see `examples/README.md`. This library holds nothing: it is here because
//! a package needs a target besides its examples.
