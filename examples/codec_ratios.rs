//! Prints the codec benchmark as a table of throughputs and ratios, one row per corpus stream.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench --bench codec -- --warm-up-time 1 --measurement-time 3
//! CARGO_TARGET_DIR=/work/target-bench cargo run --release --example codec_ratios
//! ```
//!
//! It reads criterion's `<target>/criterion/<stream>/<function>/new/{benchmark,estimates}.json`
//! (the target directory is `$CARGO_TARGET_DIR`, else `./target`; or pass the criterion
//! directory as an argument) and uses each function's median time. With `--fastest` it uses
//! each function's fastest sample instead (from `sample.json`), which is steadier than the
//! median on a machine other jobs are loading. Every ratio is a speed ratio (the other side's
//! time divided by ours), so higher is better for bitpeer:
//!
//! - `dec/sha`: bitpeer decode vs `sha256d-only` (goal ≥ 0.8, block streams ≥ 0.9);
//! - `dec/rb`: bitpeer decode vs rust-bitcoin decode (goal ≥ 2, block streams ≥ 3);
//! - `enc/rb`: bitpeer encode vs rust-bitcoin encode with checksum (goal ≥ 1.5);
//! - `enc/rb*`: bitpeer encode vs rust-bitcoin writing its cached checksum (no hashing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Time per iteration (ns) and throughput (bytes) of one benchmark.
struct Result {
    ns: f64,
    bytes: f64,
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn load(dir: &Path, fastest: bool) -> Option<(String, String, Result)> {
    let bench = read_json(&dir.join("new/benchmark.json"))?;
    let group = bench["group_id"].as_str()?.to_owned();
    let function = bench["function_id"].as_str()?.to_owned();
    let bytes = bench["throughput"]["Bytes"].as_f64()?;
    let ns = if fastest {
        let sample = read_json(&dir.join("new/sample.json"))?;
        let iters = sample["iters"].as_array()?;
        let times = sample["times"].as_array()?;
        iters
            .iter()
            .zip(times)
            .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
            .fold(f64::INFINITY, f64::min)
    } else {
        let est = read_json(&dir.join("new/estimates.json"))?;
        est["median"]["point_estimate"].as_f64()?
    };
    ns.is_finite()
        .then_some((group, function, Result { ns, bytes }))
}

fn main() {
    let mut fastest = false;
    let mut dir = None;
    for arg in std::env::args_os().skip(1) {
        if arg == "--fastest" {
            fastest = true;
        } else {
            dir = Some(PathBuf::from(arg));
        }
    }
    let root = dir.unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")));
        target.join("criterion")
    });
    let mut groups: BTreeMap<String, BTreeMap<String, Result>> = BTreeMap::new();
    let entries = std::fs::read_dir(&root).unwrap_or_else(|e| {
        eprintln!(
            "no criterion results at {}: {e}\nrun `cargo bench --bench codec` first",
            root.display()
        );
        std::process::exit(1);
    });
    for group_dir in entries.flatten() {
        let Ok(functions) = std::fs::read_dir(group_dir.path()) else {
            continue;
        };
        for f in functions.flatten() {
            if let Some((group, function, r)) = load(&f.path(), fastest) {
                groups.entry(group).or_default().insert(function, r);
            }
        }
    }
    groups.retain(|_, fs| fs.contains_key("bitpeer/decode"));
    if groups.is_empty() {
        eprintln!("no codec results under {}", root.display());
        std::process::exit(1);
    }

    let mbps = |r: Option<&Result>| r.map(|r| r.bytes / r.ns * 1e3);
    let ratio = |theirs: Option<&Result>, ours: Option<&Result>| match (theirs, ours) {
        (Some(t), Some(o)) => Some(t.ns / o.ns),
        _ => None,
    };
    let cell = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "-".to_owned(),
    };
    let mark = |v: Option<f64>, goal: f64| match v {
        Some(v) if v >= goal => " ",
        Some(_) => "!",
        None => " ",
    };

    let which = if fastest { "fastest-sample" } else { "median" };
    println!("{which} throughput in MB/s (10^6 bytes); ratios are speed ratios, higher is better;");
    println!(
        "'!' marks a ratio below its goal (dec/sha 0.8, blocks 0.9; dec/rb 2, blocks 3; enc/rb 1.5)"
    );
    println!();
    println!(
        "| {:<20} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} |",
        "stream",
        "decode",
        "sha256d",
        "rb dec",
        "encode",
        "rb enc",
        "dec/sha",
        "dec/rb",
        "enc/rb",
        "enc/rb*"
    );
    println!(
        "| {:-<20} | {:->8} | {:->8} | {:->8} | {:->8} | {:->8} | {:->8} | {:->8} | {:->8} | {:->8} |",
        ":", ":", ":", ":", ":", ":", ":", ":", ":", ":"
    );
    for (stream, fs) in &groups {
        let block = stream.ends_with(".frame");
        let dec = fs.get("bitpeer/decode");
        let sha = fs.get("sha256d-only");
        let rb_dec = fs.get("rust-bitcoin/decode");
        let enc = fs.get("bitpeer/encode");
        let rb_enc = fs.get("rust-bitcoin/encode");
        let rb_cached = fs.get("rust-bitcoin/encode-cached");
        let dec_sha = ratio(sha, dec);
        let dec_rb = ratio(rb_dec, dec);
        let enc_rb = ratio(rb_enc, enc);
        let enc_rbc = ratio(rb_cached, enc);
        println!(
            "| {:<20} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>7}{} | {:>7}{} | {:>7}{} | {:>8} |",
            stream,
            cell(mbps(dec), 0),
            cell(mbps(sha), 0),
            cell(mbps(rb_dec), 0),
            cell(mbps(enc), 0),
            cell(mbps(rb_enc), 0),
            cell(dec_sha, 2),
            mark(dec_sha, if block { 0.9 } else { 0.8 }),
            cell(dec_rb, 2),
            mark(dec_rb, if block { 3.0 } else { 2.0 }),
            cell(enc_rb, 2),
            mark(enc_rb, 1.5),
            cell(enc_rbc, 2),
        );
    }
}
