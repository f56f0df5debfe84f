//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) and every minimized crash
//! kept as a regression (`fuzz/regressions/<target>/`) through the very functions the cargo-fuzz
//! targets call (`tests/fuzz_targets/`), on stable, in an ordinary `cargo test`.

mod fuzz_targets;

use std::path::{Path, PathBuf};
use std::time::Instant;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn replay(kind: &str, name: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(name);
    let list = files(&dir);
    for path in &list {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            // A fuzzer running beside the test may have just replaced this file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let result = std::panic::catch_unwind(|| run(&data));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{} failed: {msg}", path.display());
        }
    }
    list.len()
}

fn replay_target(name: &str) {
    let run = fuzz_targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("a known target");
    let start = Instant::now();
    let corpus = replay("corpus", name, run);
    let regressions = replay("regressions", name, run);
    eprintln!(
        "{name}: {corpus} corpus files, {regressions} regressions in {:?}",
        start.elapsed()
    );
    assert!(corpus > 0, "fuzz/corpus/{name} is empty");
}

#[test]
fn frame_decoder_corpus() {
    replay_target("frame_decoder");
}

#[test]
fn message_payload_corpus() {
    replay_target("message_payload");
}

#[test]
fn roundtrip_corpus() {
    replay_target("roundtrip");
}

#[test]
fn differential_corpus() {
    replay_target("differential");
}

#[test]
fn peer_state_corpus() {
    replay_target("peer_state");
}

#[test]
fn every_target_has_a_corpus_directory() {
    for (name, _) in fuzz_targets::TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(name);
        assert!(dir.is_dir(), "{} missing", dir.display());
    }
}
