//! `frame_decoder`: an arbitrary byte stream through [`FrameDecoder`] in arbitrary chunks,
//! checked step by step against a reference model of the stream built with `parse_header` and
//! `checksum`; every frame is then decoded with `Message::decode`.
//!
//! Input layout: `[flags, chunking, stream...]`.
//! * `flags` bits 0-1: network (Bitcoin mainnet, Decred mainnet, Bitcoin regtest, Bitcoin
//!   testnet3); bit 2: skip unknown commands; bits 3-7: protocol version (index into
//!   `VERSIONS`); the encoding is witness when the version index is even.
//! * `chunking`: top two bits choose the mode (whole stream, one byte at a time, random sizes in
//!   1..=32, random sizes in 1..=4096), the rest seeds the sizes.
//!
//! Asserts: no panic; each frame, error and the stream position at which it happens are exactly
//! the model's; [`FrameDecoder::buffered`] is exactly the bytes of the current partial frame and
//! never exceeds the header plus the cap for the current frame's command; `Ok(None)` only once
//! the chunk is used up.

use bitpeer::Network;
use bitpeer::network::Chain;
use bitpeer::wire::{
    Context, Encoding, FrameDecoder, FrameError, HEADER_SIZE, Message, UnknownCommands, checksum,
    max_payload_len, parse_header,
};

use super::VERSIONS;

/// What the model says happens next in the stream.
#[derive(Debug)]
enum Step {
    /// A frame of `command` whose payload is `stream[start..end]`.
    Frame {
        command: bitpeer::wire::Command,
        start: usize,
        end: usize,
    },
    /// An unknown command whose frame ends at `end`, skipped.
    Skipped { end: usize },
    /// The decoder fails once the byte before `at` is consumed.
    Error { at: usize },
}

struct Model {
    steps: Vec<Step>,
    /// Where the last, incomplete frame starts, and the payload cap of its header if complete.
    tail_start: usize,
    tail_header: Option<(usize, bool)>,
}

fn model(stream: &[u8], network: Network, version: u32, skip_unknown: bool) -> Model {
    let chain = network.chain();
    let mut steps = Vec::new();
    let mut pos = 0;
    loop {
        if stream.len() - pos < HEADER_SIZE {
            return Model {
                steps,
                tail_start: pos,
                tail_header: None,
            };
        }
        let mut raw = [0u8; HEADER_SIZE];
        raw.copy_from_slice(&stream[pos..pos + HEADER_SIZE]);
        let header = match parse_header(&raw, network, version) {
            Ok(h) => h,
            Err(_) => {
                steps.push(Step::Error {
                    at: pos + HEADER_SIZE,
                });
                return Model {
                    steps,
                    tail_start: stream.len(),
                    tail_header: None,
                };
            }
        };
        let known = known_command(&raw, network, version);
        let len = header.length as usize;
        let start = pos + HEADER_SIZE;
        let end = start + len;
        if !known && skip_unknown {
            if end > stream.len() {
                return Model {
                    steps,
                    tail_start: pos,
                    tail_header: Some((len, true)),
                };
            }
            steps.push(Step::Skipped { end });
            pos = end;
            continue;
        }
        if !known && chain == Chain::Decred {
            steps.push(Step::Error { at: start });
            return Model {
                steps,
                tail_start: stream.len(),
                tail_header: None,
            };
        }
        if end > stream.len() {
            return Model {
                steps,
                tail_start: pos,
                tail_header: Some((len, false)),
            };
        }
        if checksum(chain, &stream[start..end]) != header.checksum {
            steps.push(Step::Error { at: end });
            return Model {
                steps,
                tail_start: stream.len(),
                tail_header: None,
            };
        }
        steps.push(Step::Frame {
            command: header.command,
            start,
            end,
        });
        pos = end;
    }
}

/// Whether the dialect knows the command of a valid header: a fresh decoder with unknown
/// commands skipped holds the header of a known one (or completes its empty frame) and holds
/// nothing for an unknown one.
fn known_command(raw: &[u8; HEADER_SIZE], network: Network, version: u32) -> bool {
    let mut probe = FrameDecoder::new(network);
    probe.set_protocol_version(version);
    probe.set_unknown_commands(UnknownCommands::Skip);
    let mut input: &[u8] = raw;
    match probe.decode(&mut input) {
        Ok(Some(_)) => true,
        Ok(None) => probe.buffered() == HEADER_SIZE,
        Err(_) => true,
    }
}

/// A tiny deterministic generator for chunk sizes.
struct Sizes(u32);

impl Sizes {
    fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        1 + (self.0 as usize % max)
    }
}

/// The bytes the decoder should hold when `consumed` bytes of the stream have been fed.
fn expected_buffered(model: &Model, consumed: usize) -> usize {
    // Inside a completed step: the position is at a frame boundary or inside a frame that the
    // model completed later.
    let mut frame_start = 0;
    for step in &model.steps {
        let end = match step {
            Step::Frame { end, .. } | Step::Skipped { end } => *end,
            // The failing frame: whatever of it has been fed is held until the failure.
            Step::Error { .. } => return consumed - frame_start,
        };
        if consumed < end {
            return match step {
                Step::Skipped { .. } if consumed >= frame_start + HEADER_SIZE => 0,
                _ => consumed - frame_start,
            };
        }
        frame_start = end;
    }
    match model.tail_header {
        Some((_, true)) if consumed >= model.tail_start + HEADER_SIZE => 0,
        _ => consumed.saturating_sub(model.tail_start),
    }
}

pub fn frame_decoder(data: &[u8]) {
    let [flags, chunking, stream @ ..] = data else {
        return;
    };
    let network = match flags & 3 {
        0 => Network::BITCOIN_MAINNET,
        1 => Network::DECRED_MAINNET,
        2 => Network::BITCOIN_REGTEST,
        _ => Network::BITCOIN_TESTNET3,
    };
    let skip_unknown = flags & 4 != 0;
    let vi = usize::from(flags >> 3) % VERSIONS.len();
    let version = VERSIONS[vi];
    let ctx = Context {
        chain: network.chain(),
        version,
        encoding: if vi % 2 == 0 {
            Encoding::Witness
        } else {
            Encoding::Base
        },
    };
    let mut dec = FrameDecoder::new(network);
    dec.set_protocol_version(version);
    if skip_unknown {
        dec.set_unknown_commands(UnknownCommands::Skip);
    }
    let model = model(stream, network, version, skip_unknown);
    let chain_cap = network.chain().max_frame_payload() as usize;

    let mode = chunking >> 6;
    let mut sizes = Sizes(u32::from(*chunking).wrapping_mul(0x9e37_79b9) | 1);
    let mut consumed = 0;
    let mut steps = model.steps.iter();
    let mut current_cap = chain_cap;
    while consumed < stream.len() {
        let n = match mode {
            0 => stream.len(),
            1 => 1,
            2 => sizes.next(32),
            _ => sizes.next(4096),
        }
        .min(stream.len() - consumed);
        let mut chunk = &stream[consumed..consumed + n];
        loop {
            let before = chunk.len();
            let result = dec.decode(&mut chunk);
            consumed += before - chunk.len();
            match result {
                Ok(Some(frame)) => {
                    let step = loop {
                        match steps.next() {
                            Some(Step::Skipped { .. }) => continue,
                            other => break other,
                        }
                    };
                    match step {
                        Some(Step::Frame {
                            command,
                            start,
                            end,
                        }) => {
                            assert_eq!(frame.command, *command);
                            assert_eq!(&frame.payload[..], &stream[*start..*end]);
                            assert_eq!(consumed, *end, "frame returned at its last byte");
                            assert!(
                                frame.payload.len()
                                    <= max_payload_len(frame.command, version, network.chain())
                                        as usize
                            );
                        }
                        other => panic!("decoder gave {frame:?}, model expects {other:?}"),
                    }
                    // Decoding the payload must never panic; what it yields is checked by the
                    // message_payload and roundtrip targets.
                    let _ = Message::decode(frame.command, frame.payload, &ctx);
                }
                Ok(None) => {
                    assert!(chunk.is_empty(), "Ok(None) with input left");
                }
                Err(e) => {
                    let step = loop {
                        match steps.next() {
                            Some(Step::Skipped { .. }) => continue,
                            other => break other,
                        }
                    };
                    match step {
                        Some(Step::Error { at }) => assert_eq!(consumed, *at, "{e}"),
                        other => panic!("decoder failed with {e:?}, model expects {other:?}"),
                    }
                    if let FrameError::UnknownCommand(_) = e {
                        assert_eq!(network.chain(), Chain::Decred);
                    }
                    return;
                }
            }
            // The current frame's cap, from the header the decoder is working on.
            let held = dec.buffered();
            assert_eq!(
                held,
                expected_buffered(&model, consumed),
                "buffered bytes at {consumed}"
            );
            if held >= HEADER_SIZE {
                let start = consumed - held;
                let mut raw = [0u8; HEADER_SIZE];
                raw.copy_from_slice(&stream[start..start + HEADER_SIZE]);
                let header = parse_header(&raw, network, version).expect("header was accepted");
                current_cap = max_payload_len(header.command, version, network.chain()) as usize;
                assert!(held <= HEADER_SIZE + header.length as usize);
            }
            assert!(
                held <= HEADER_SIZE + current_cap.min(chain_cap),
                "holding {held} bytes"
            );
            if chunk.is_empty() {
                break;
            }
        }
    }
    // Whatever the model still expects must be an incomplete frame.
    for step in steps {
        assert!(
            matches!(step, Step::Skipped { .. }),
            "stream ended but the model expects {step:?}"
        );
    }
}
