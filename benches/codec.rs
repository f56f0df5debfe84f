//! Wire-codec throughput on the benchmark corpus (`../shared/vectors/corpus`).
//!
//! One criterion group per corpus stream, with these functions side by side (throughput is the
//! stream's size in bytes):
//!
//! - `bitpeer/decode`: the whole stream through a fresh [`FrameDecoder`] (checksums verified)
//!   and every frame through [`Message::decode`] (witness encoding, protocol 70016).
//! - `rust-bitcoin/decode`: `RawNetworkMessage::consensus_decode` over the same bytes
//!   (rust-bitcoin 0.32 verifies checksums too).
//! - `sha256d-only`: the physical limit: walk the frame headers and compute the double SHA-256
//!   of every payload (the same `sha256d` bitpeer uses) and compare its checksum, nothing else.
//! - `bitpeer/encode`: every pre-decoded message of the stream re-encoded with
//!   [`encode_message`] into one reused `BytesMut` (checksums computed).
//! - `rust-bitcoin/encode`: every pre-decoded `NetworkMessage` serialized with
//!   `consensus_encode` into one reused `Vec` behind a 24-byte header, the checksum computed
//!   with `bitcoin_hashes` and patched in: the work of `RawNetworkMessage::new` followed by
//!   `consensus_encode`, without the payload clone `new` would force.
//! - `rust-bitcoin/encode-cached`: `RawNetworkMessage::consensus_encode` alone. It writes the
//!   checksum that decoding cached and hashes nothing, so it is a lower bound that no real
//!   sender gets (a message to send has to be hashed once); reported for completeness.
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`; wall time where that
//! clock does not exist), not wall time: on a machine that other jobs share, wall time counts
//! the slices the benchmark spends descheduled, which differ from one function to the next and
//! make the ratios between them noise. On an idle machine both clocks agree.
//!
//! `cargo run --release --example codec_ratios` turns the results into a ratio table.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use bitcoin::consensus::{Decodable, Encodable};
use bitcoin::hashes::{Hash, sha256d as btc_sha256d};
use bitcoin::p2p::message::RawNetworkMessage;
use bitpeer::Network;
use bitpeer::wire::{Context, FrameDecoder, Message, encode_message, sha256d};
use bytes::BytesMut;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/corpus");
const NET: Network = Network::BITCOIN_MAINNET;
const CTX: Context = Context::BITCOIN;

/// Every `*.stream` and `*.frame` file of the corpus, sorted by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("corpus at {CORPUS}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("stream" | "frame")
            )
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read corpus file"))
        })
        .collect()
}

/// Decodes a whole stream with bitpeer; returns the number of messages.
fn bitpeer_decode(data: &[u8]) -> usize {
    let mut dec = FrameDecoder::new(NET);
    dec.set_protocol_version(CTX.version);
    let mut input = data;
    let mut n = 0;
    while let Some(frame) = dec.decode(&mut input).expect("valid frame") {
        let msg = Message::decode(frame.command, frame.payload, &CTX).expect("valid message");
        black_box(msg);
        n += 1;
    }
    assert!(input.is_empty() && dec.buffered() == 0);
    n
}

fn bitpeer_messages(data: &[u8]) -> Vec<Message> {
    let mut dec = FrameDecoder::new(NET);
    let mut input = data;
    let mut out = Vec::new();
    while let Some(frame) = dec.decode(&mut input).expect("valid frame") {
        out.push(Message::decode(frame.command, frame.payload, &CTX).expect("valid message"));
    }
    out
}

/// Decodes a whole stream with rust-bitcoin; returns the number of messages.
fn btc_decode(data: &[u8]) -> usize {
    let mut input = data;
    let mut n = 0;
    while !input.is_empty() {
        let msg = RawNetworkMessage::consensus_decode(&mut input).expect("rust-bitcoin decodes");
        black_box(msg);
        n += 1;
    }
    n
}

fn btc_messages(data: &[u8]) -> Vec<RawNetworkMessage> {
    let mut input = data;
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(RawNetworkMessage::consensus_decode(&mut input).expect("rust-bitcoin decodes"));
    }
    out
}

/// Walks the frames and verifies every checksum; returns the number of frames.
fn sha256d_only(data: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < data.len() {
        let h = &data[pos..pos + 24];
        let len = u32::from_le_bytes([h[16], h[17], h[18], h[19]]) as usize;
        let payload = &data[pos + 24..pos + 24 + len];
        let sum = sha256d(payload);
        assert!(sum[..4] == h[20..24], "checksum");
        pos += 24 + len;
        n += 1;
    }
    n
}

fn bitpeer_encode(msgs: &[Message], out: &mut BytesMut) {
    out.clear();
    for m in msgs {
        encode_message(NET, m, &CTX, out).expect("encodes");
    }
}

/// What a rust-bitcoin user does to send each message: header, payload, checksum.
fn btc_encode(msgs: &[RawNetworkMessage], out: &mut Vec<u8>) {
    out.clear();
    for m in msgs {
        let start = out.len();
        out.extend_from_slice(&m.magic().to_bytes());
        m.command().consensus_encode(out).expect("vec write");
        out.extend_from_slice(&[0; 8]);
        let len = m.payload().consensus_encode(out).expect("vec write");
        let sum = btc_sha256d::Hash::hash(&out[start + 24..]).to_byte_array();
        out[start + 16..start + 20].copy_from_slice(&(len as u32).to_le_bytes());
        out[start + 20..start + 24].copy_from_slice(&sum[..4]);
    }
}

fn btc_encode_cached(msgs: &[RawNetworkMessage], out: &mut Vec<u8>) {
    out.clear();
    for m in msgs {
        m.consensus_encode(out).expect("vec write");
    }
}

/// The calling thread's CPU time.
#[cfg(target_os = "linux")]
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn cpu_now() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Criterion measurement on the thread's CPU clock (see the module docs).
struct ThreadCpuTime;

static WALL: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn codec(c: &mut Criterion<ThreadCpuTime>) {
    for (name, data) in corpus() {
        let ours = bitpeer_messages(&data);
        let theirs = btc_messages(&data);
        // Sanity: all three walk the same frames, and both encoders reproduce the stream.
        let frames = sha256d_only(&data);
        assert_eq!(bitpeer_decode(&data), frames, "{name}");
        assert_eq!(btc_decode(&data), frames, "{name}");
        let mut ours_out = BytesMut::new();
        bitpeer_encode(&ours, &mut ours_out);
        assert!(
            ours_out[..] == data[..],
            "{name}: bitpeer re-encodes the stream"
        );
        let mut theirs_out = Vec::new();
        btc_encode(&theirs, &mut theirs_out);
        assert!(
            theirs_out == data,
            "{name}: rust-bitcoin re-encodes the stream"
        );
        btc_encode_cached(&theirs, &mut theirs_out);
        assert!(theirs_out == data, "{name}");

        let mut g = c.benchmark_group(&name);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function("bitpeer/decode", |b| {
            b.iter(|| bitpeer_decode(black_box(&data)))
        });
        g.bench_function("rust-bitcoin/decode", |b| {
            b.iter(|| btc_decode(black_box(&data)))
        });
        g.bench_function("sha256d-only", |b| {
            b.iter(|| sha256d_only(black_box(&data)))
        });
        g.bench_function("bitpeer/encode", |b| {
            b.iter(|| bitpeer_encode(black_box(&ours), &mut ours_out))
        });
        g.bench_function("rust-bitcoin/encode", |b| {
            b.iter(|| btc_encode(black_box(&theirs), &mut theirs_out))
        });
        g.bench_function("rust-bitcoin/encode-cached", |b| {
            b.iter(|| btc_encode_cached(black_box(&theirs), &mut theirs_out))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = codec
}
criterion_main!(benches);
