//! The fuzz targets' checks, as a library for the targets in `fuzz_targets/`. See
//! `docs/security.md` ("Fuzzing") for how to run them.

pub mod checks;
