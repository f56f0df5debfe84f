//! Fuzz target `peer_state`: the body is shared with the corpus replay test (tests/fuzz_corpus.rs).
#![no_main]

#[path = "../../tests/fuzz_targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::peer_state(data));
