//! Chunking: every corpus stream fed to [`FrameDecoder`] in random chunk sizes decodes to exactly
//! the frames and messages it decodes to when fed whole, the decoder consumes every byte, its
//! `buffered()` count always equals the bytes of the frame in progress, and nothing is left
//! over at the end.
//!
//! Chunk sizes come from a seeded ChaCha RNG. A failing run prints its seed; rerun just that run
//! with `BITPEER_CHUNK_SEED=<seed> cargo test --test chunking`.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;

use bitpeer::Network;
use bitpeer::wire::{
    Command, Context, Frame, FrameDecoder, Message, MessageDecoder, UnknownCommands, encode_frame,
};
use bytes::BytesMut;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/corpus");
const NET: Network = Network::BITCOIN_MAINNET;
const CTX: Context = Context::BITCOIN;
const MAX_CHUNK: usize = 64 * 1024;
/// Random-size runs per file.
const RANDOM_RUNS: u64 = 4;

fn read_corpus(name: &str) -> Vec<u8> {
    let path = Path::new(CORPUS).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("corpus file {} missing: {e}", path.display()))
}

/// How a run picks its chunk sizes.
#[derive(Clone, Copy, Debug)]
enum Sizes {
    /// Always one byte.
    OneByte,
    /// Uniform in 1..=64 KiB.
    Uniform,
    /// Log-uniform in 1..=64 KiB: as many tiny chunks as large ones.
    LogUniform,
    /// Around the 24-byte header size and small multiples of it, to split headers every way.
    HeaderEdges,
}

impl Sizes {
    fn next(self, rng: &mut ChaCha8Rng) -> usize {
        match self {
            Sizes::OneByte => 1,
            Sizes::Uniform => rng.gen_range(1..=MAX_CHUNK),
            Sizes::LogUniform => {
                let bits = rng.gen_range(0..=16u32);
                rng.gen_range(1..=(1usize << bits).min(MAX_CHUNK))
            }
            Sizes::HeaderEdges => {
                let base = [1usize, 23, 24, 25, 47, 48, 49][rng.gen_range(0..7)];
                base + rng.gen_range(0..3)
            }
        }
    }
}

/// Feeds `data` in one call per frame (the whole rest of the stream each time).
fn decode_whole(name: &str, data: &[u8]) -> Vec<Frame> {
    let mut dec = FrameDecoder::new(NET);
    let mut input = data;
    let mut frames = Vec::new();
    while !input.is_empty() {
        let frame = dec
            .decode(&mut input)
            .unwrap_or_else(|e| panic!("{name}: whole-stream decode: {e}"))
            .unwrap_or_else(|| panic!("{name}: decoder wants more at the end of the stream"));
        frames.push(frame);
    }
    assert_eq!(dec.buffered(), 0, "{name}: partial frame left over");
    frames
}

/// Feeds `data` in chunks of `sizes` and checks the decoder's bookkeeping after every call.
fn decode_chunked(label: &str, data: &[u8], sizes: Sizes, seed: u64) -> Vec<Frame> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut dec = FrameDecoder::new(NET);
    let mut frames = Vec::new();
    let mut pos = 0;
    let mut frame_start = 0;
    while pos < data.len() {
        let n = sizes.next(&mut rng).min(data.len() - pos);
        let mut chunk = &data[pos..pos + n];
        loop {
            match dec.decode(&mut chunk) {
                Ok(Some(frame)) => {
                    let consumed = pos + n - chunk.len();
                    assert_eq!(
                        consumed - frame_start,
                        frame.wire_len(),
                        "{label}: frame #{} ended at byte {consumed}",
                        frames.len()
                    );
                    frame_start = consumed;
                    frames.push(frame);
                }
                Ok(None) => {
                    assert!(
                        chunk.is_empty(),
                        "{label}: Ok(None) with {} bytes unread",
                        { chunk.len() }
                    );
                    break;
                }
                Err(e) => panic!("{label}: error at byte {}: {e}", pos + n - chunk.len()),
            }
        }
        pos += n;
        assert_eq!(
            dec.buffered(),
            pos - frame_start,
            "{label}: buffered() after byte {pos}"
        );
    }
    assert_eq!(
        frame_start,
        data.len(),
        "{label}: stream did not end on a frame"
    );
    assert_eq!(dec.buffered(), 0, "{label}: partial frame left over");
    let mut empty: &[u8] = &[];
    assert_eq!(
        dec.decode(&mut empty),
        Ok(None),
        "{label}: frame out of nothing"
    );
    frames
}

/// Feeds `data` through a [`MessageDecoder`] in random chunks.
fn decode_messages_chunked(label: &str, data: &[u8], seed: u64) -> Vec<Message> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut dec = MessageDecoder::new(NET, CTX);
    let mut messages = Vec::new();
    let mut pos = 0;
    let mut wire = 0;
    while pos < data.len() {
        let n = Sizes::LogUniform.next(&mut rng).min(data.len() - pos);
        let mut chunk = &data[pos..pos + n];
        while let Some((msg, len)) = dec
            .decode(&mut chunk)
            .unwrap_or_else(|e| panic!("{label}: {e}"))
        {
            wire += len;
            messages.push(msg);
        }
        assert!(chunk.is_empty(), "{label}: bytes left unread");
        pos += n;
    }
    assert_eq!(wire, data.len(), "{label}: frame lengths do not add up");
    assert_eq!(
        dec.frames().buffered(),
        0,
        "{label}: partial frame left over"
    );
    messages
}

fn decode_messages(label: &str, frames: &[Frame]) -> Vec<Message> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Message::decode(f.command, f.payload.clone(), &CTX)
                .unwrap_or_else(|e| panic!("{label}: message #{i}: {e}"))
        })
        .collect()
}

fn assert_same_frames(label: &str, got: &[Frame], want: &[Frame]) {
    assert_eq!(got.len(), want.len(), "{label}: frame count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.command, w.command, "{label}: frame #{i} command");
        assert!(
            g.payload == w.payload,
            "{label}: frame #{i} payload differs"
        );
    }
}

/// Runs `f`; if it panics, prints how to rerun the seed and re-raises the panic.
fn with_seed<T>(name: &str, sizes: Sizes, seed: u64, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(panic) => {
            eprintln!(
                "chunking failure: file {name}, sizes {sizes:?}, seed {seed} \
                 (rerun with BITPEER_CHUNK_SEED={seed})"
            );
            resume_unwind(panic)
        }
    }
}

/// The runs of one file: one-byte chunks if asked, then `RANDOM_RUNS` seeded random runs
/// cycling through the size distributions, then a `MessageDecoder` run. With
/// `BITPEER_CHUNK_SEED` set, only random runs with that seed.
fn check_file(index: u64, name: &str, one_byte: bool) {
    let data = read_corpus(name);
    let start = std::time::Instant::now();
    let whole = decode_whole(name, &data);
    assert!(!whole.is_empty(), "{name}: empty corpus file");
    let messages = decode_messages(name, &whole);

    let mut runs: Vec<(Sizes, u64)> = Vec::new();
    let random = [Sizes::LogUniform, Sizes::Uniform, Sizes::HeaderEdges];
    match std::env::var("BITPEER_CHUNK_SEED") {
        Ok(seed) => {
            let seed: u64 = seed.parse().expect("BITPEER_CHUNK_SEED is a u64");
            runs.extend(random.iter().map(|&s| (s, seed)));
        }
        Err(_) => {
            if one_byte {
                runs.push((Sizes::OneByte, 0));
            }
            for run in 0..RANDOM_RUNS {
                let seed = 0xb17_9ee2_0000 + index * 100 + run;
                runs.push((random[run as usize % random.len()], seed));
            }
        }
    }
    for &(sizes, seed) in &runs {
        let label = format!("{name} ({sizes:?}, seed {seed})");
        with_seed(name, sizes, seed, || {
            let frames = decode_chunked(&label, &data, sizes, seed);
            assert_same_frames(&label, &frames, &whole);
            assert_eq!(
                decode_messages(&label, &frames),
                messages,
                "{label}: messages"
            );
        });
    }
    let seed = runs.last().map_or(0, |r| r.1) ^ 0x5eed;
    let label = format!("{name} (MessageDecoder, seed {seed})");
    let via_messages = with_seed(name, Sizes::LogUniform, seed, || {
        decode_messages_chunked(&label, &data, seed)
    });
    assert_eq!(via_messages, messages, "{label}: messages");
    println!(
        "{name}: {} frames, {} runs + MessageDecoder, {:.2?}",
        whole.len(),
        runs.len(),
        start.elapsed()
    );
}

#[test]
fn chunked_addr_stream() {
    check_file(0, "addr.stream", true);
}

#[test]
fn chunked_block413567_frame() {
    check_file(1, "block413567.frame", true);
}

#[test]
fn chunked_block702861_frame() {
    check_file(2, "block702861.frame", true);
}

#[test]
fn chunked_headers_stream() {
    check_file(3, "headers.stream", true);
}

#[test]
fn chunked_inv_stream() {
    check_file(4, "inv.stream", true);
}

#[test]
fn chunked_mixed_stream() {
    check_file(5, "mixed.stream", true);
}

#[test]
fn chunked_small_stream() {
    check_file(6, "small.stream", true);
}

#[test]
fn chunked_txs_stream() {
    check_file(7, "txs.stream", true);
}

#[test]
fn chunked_txs_witness_stream() {
    check_file(8, "txs_witness.stream", true);
}

/// Every framed file in the corpus directory has a test above.
#[test]
fn every_corpus_stream_is_chunked() {
    let dir = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("corpus directory {CORPUS} missing: {e}"));
    let mut found: Vec<String> = dir
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".stream") || n.ends_with(".frame"))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "addr.stream",
            "block413567.frame",
            "block702861.frame",
            "headers.stream",
            "inv.stream",
            "mixed.stream",
            "small.stream",
            "txs.stream",
            "txs_witness.stream",
        ]
    );
}

/// The first frames of `mixed.stream` interleaved with frames of unknown commands (empty, small
/// and larger than a chunk), chunked: with [`UnknownCommands::Skip`] exactly the known frames
/// come out and the unknown payloads are passed over; with [`UnknownCommands::Deliver`] every
/// frame comes out and the unknown ones decode to [`Message::Unknown`] with their payload.
#[test]
fn chunked_unknown_commands() {
    const UNKNOWN: [&str; 3] = ["xyzzy", "sendtxrcnc2", "getutxos"];
    let data = read_corpus("mixed.stream");
    let known = decode_whole("mixed.stream", &data);
    let known = &known[..300];
    let mut rng = ChaCha8Rng::seed_from_u64(0xb17_9ee2_0bad);
    let mut stream = BytesMut::new();
    let mut unknown = Vec::new();
    for (i, frame) in known.iter().enumerate() {
        encode_frame(NET, frame.command, &frame.payload, &mut stream).unwrap();
        if i % 3 == 0 {
            let len = [0, 1, 23, 24, 25, 700, 70_000][rng.gen_range(0..7)];
            let payload: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            let command = Command::new(UNKNOWN[unknown.len() % UNKNOWN.len()]).unwrap();
            encode_frame(NET, command, &payload, &mut stream).unwrap();
            unknown.push((command, payload));
        }
    }
    for (run, policy) in [UnknownCommands::Skip, UnknownCommands::Deliver]
        .into_iter()
        .enumerate()
    {
        let seed = 0xb17_9ee2_0c00 + run as u64;
        with_seed("mixed.stream + unknown", Sizes::LogUniform, seed, || {
            let label = format!("unknown commands, {policy:?}, seed {seed}");
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut dec = FrameDecoder::new(NET);
            dec.set_unknown_commands(policy);
            let mut frames = Vec::new();
            let mut pos = 0;
            while pos < stream.len() {
                let n = Sizes::LogUniform.next(&mut rng).min(stream.len() - pos);
                let mut chunk = &stream[pos..pos + n];
                while let Some(frame) = dec
                    .decode(&mut chunk)
                    .unwrap_or_else(|e| panic!("{label}: {e}"))
                {
                    frames.push(frame);
                }
                assert!(chunk.is_empty(), "{label}: bytes left unread");
                pos += n;
            }
            assert_eq!(dec.buffered(), 0, "{label}: partial frame left over");
            let (got_known, got_unknown): (Vec<Frame>, Vec<Frame>) = frames
                .into_iter()
                .partition(|f| !UNKNOWN.contains(&f.command.as_str()));
            assert_same_frames(&label, &got_known, known);
            match policy {
                UnknownCommands::Skip => assert!(got_unknown.is_empty(), "{label}"),
                _ => {
                    assert_eq!(got_unknown.len(), unknown.len(), "{label}");
                    for (f, (command, payload)) in got_unknown.iter().zip(&unknown) {
                        assert_eq!(f.command, *command, "{label}");
                        let msg = Message::decode(f.command, f.payload.clone(), &CTX).unwrap();
                        let Message::Unknown { payload: p, .. } = msg else {
                            panic!("{label}: {} is not unknown", f.command);
                        };
                        assert!(p[..] == payload[..], "{label}: unknown payload");
                    }
                }
            }
        });
    }
}
