//! Framing: the 24-byte header, a streaming [`FrameDecoder`] and the frame encoder.
//!
//! The decoder is push-based and resumable. It reads the header, validates length, magic and
//! command (and the per-command cap) **before** buffering any payload, then hashes the payload
//! as it arrives and checks the checksum when the last byte is in. It never re-parses from the
//! start, and a 1-byte-at-a-time stream decodes exactly like a whole one.

use bytes::{BufMut, Bytes, BytesMut};

use super::Command;
use super::error::{EncodeError, FrameError, MessageError, ReadError};
use super::hash::{Sha256d, sha256d};
use super::message::{Context, Message, max_payload_len, min_version};
use crate::blake256::Blake256;
use crate::network::{Chain, Network};

/// Size of a frame header.
pub const HEADER_SIZE: usize = 24;

/// A validated frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The command.
    pub command: Command,
    /// Payload length.
    pub length: u32,
    /// The checksum the header carries.
    pub checksum: [u8; 4],
}

/// A complete frame: its command and payload (a slice of the decoder's receive buffer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The command.
    pub command: Command,
    /// The payload, checksum verified.
    pub payload: Bytes,
}

impl Frame {
    /// Bytes the frame occupied on the wire.
    pub fn wire_len(&self) -> usize {
        HEADER_SIZE + self.payload.len()
    }
}

/// What to do with frames whose command is well-formed but unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnknownCommands {
    /// Deliver them (checksum verified) so the caller can decode them as [`Message::Unknown`].
    #[default]
    Deliver,
    /// Skip their payload without buffering or hashing it.
    Skip,
}

#[derive(Clone)]
enum Hasher {
    Sha256d(Sha256d),
    Blake256(Blake256),
}

impl Hasher {
    #[inline]
    fn new(chain: Chain) -> Hasher {
        match chain {
            Chain::Bitcoin => Hasher::Sha256d(Sha256d::new()),
            Chain::Decred => Hasher::Blake256(Blake256::new()),
        }
    }

    #[inline]
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256d(h) => h.update(data),
            Hasher::Blake256(h) => h.update(data),
        }
    }

    #[inline]
    fn checksum(self) -> [u8; 4] {
        let full = match self {
            Hasher::Sha256d(h) => h.finish(),
            Hasher::Blake256(h) => h.finalize(),
        };
        [full[0], full[1], full[2], full[3]]
    }
}

/// The checksum of `payload` on `chain` (first four bytes of double SHA-256 or BLAKE-256).
#[inline]
pub fn checksum(chain: Chain, payload: &[u8]) -> [u8; 4] {
    let full = match chain {
        Chain::Bitcoin => sha256d(payload),
        Chain::Decred => {
            let mut h = Blake256::new();
            h.update(payload);
            h.finalize()
        }
    };
    [full[0], full[1], full[2], full[3]]
}

enum State {
    Header { buf: [u8; HEADER_SIZE], have: usize },
    Payload { header: FrameHeader, hasher: Hasher },
    Skip { left: usize },
}

/// A resumable frame decoder for one connection's inbound byte stream.
///
/// ```
/// use bitpeer::wire::{FrameDecoder, Message, Context, encode_message};
/// use bitpeer::Network;
/// let mut wire = bytes::BytesMut::new();
/// encode_message(Network::BITCOIN_MAINNET, &Message::Ping(7), &Context::BITCOIN, &mut wire).unwrap();
/// let mut dec = FrameDecoder::new(Network::BITCOIN_MAINNET);
/// let mut input: &[u8] = &wire;
/// let frame = dec.decode(&mut input).unwrap().expect("one whole frame");
/// assert_eq!(Message::decode(frame.command, frame.payload, &Context::BITCOIN), Ok(Message::Ping(7)));
/// ```
pub struct FrameDecoder {
    network: Network,
    version: u32,
    unknown: UnknownCommands,
    state: State,
    recv: BytesMut,
}

impl FrameDecoder {
    /// A decoder for `network`, enforcing per-command caps at the latest protocol version.
    pub fn new(network: Network) -> FrameDecoder {
        FrameDecoder {
            network,
            version: super::message::versions::LATEST,
            unknown: UnknownCommands::Deliver,
            state: State::Header {
                buf: [0; HEADER_SIZE],
                have: 0,
            },
            recv: BytesMut::new(),
        }
    }

    /// Sets what happens to unknown commands.
    pub fn set_unknown_commands(&mut self, policy: UnknownCommands) {
        self.unknown = policy;
    }

    /// Sets the protocol version whose per-command payload caps apply.
    pub fn set_protocol_version(&mut self, version: u32) {
        self.version = version;
    }

    /// The network this decoder expects.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Bytes of a partial frame currently held (header bytes plus buffered payload).
    pub fn buffered(&self) -> usize {
        match &self.state {
            State::Header { have, .. } => *have,
            State::Payload { .. } => HEADER_SIZE + self.recv.len(),
            State::Skip { .. } => 0,
        }
    }

    /// Heap bytes the receive buffer holds (capacity).
    pub fn heap_bytes(&self) -> usize {
        self.recv.capacity()
    }

    /// Gives the receive buffer back to the allocator when no partial payload is buffered, so
    /// an idle connection holds no receive chunk. Payloads already handed out keep their own
    /// bytes alive. Call it when the input source has gone quiet (e.g. after each socket read).
    pub fn release_idle_buffer(&mut self) {
        if !matches!(self.state, State::Payload { .. }) {
            self.recv = BytesMut::new();
        }
    }

    /// Consumes bytes from the front of `input` until one frame is complete (returned) or
    /// `input` is empty (`Ok(None)`; call again with more bytes). After an error the stream is
    /// out of sync and the connection should be dropped.
    pub fn decode(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, FrameError> {
        loop {
            match &mut self.state {
                State::Header { buf, have } => {
                    let header = match (*have, input.split_first_chunk::<HEADER_SIZE>()) {
                        // The whole header is in the input: parse it in place.
                        (0, Some((raw, rest))) => {
                            *input = rest;
                            parse_header(raw, self.network, self.version)?
                        }
                        _ => {
                            let take = (HEADER_SIZE - *have).min(input.len());
                            buf[*have..*have + take].copy_from_slice(&input[..take]);
                            *have += take;
                            *input = &input[take..];
                            if *have < HEADER_SIZE {
                                return Ok(None);
                            }
                            *have = 0;
                            let raw = *buf;
                            parse_header(&raw, self.network, self.version)?
                        }
                    };
                    if let Some(frame) = self.start_payload(header, input)? {
                        return Ok(Some(frame));
                    }
                }
                State::Payload { header, hasher } => {
                    let need = header.length as usize - self.recv.len();
                    let take = need.min(input.len());
                    if take == 0 {
                        return Ok(None);
                    }
                    let (data, rest) = input.split_at(take);
                    *input = rest;
                    absorb(hasher, &mut self.recv, data);
                    return self.try_complete();
                }
                State::Skip { left } => {
                    let take = (*left).min(input.len());
                    *left -= take;
                    *input = &input[take..];
                    if *left > 0 {
                        return Ok(None);
                    }
                    self.state = State::Header {
                        buf: [0; HEADER_SIZE],
                        have: 0,
                    };
                }
            }
        }
    }

    /// Acts on a validated header (WIRE.md 1.4 order): skips or refuses an unknown command,
    /// completes the frame at once when its whole payload is in `input`, or else prepares to
    /// receive the payload piece by piece.
    #[inline(always)]
    fn start_payload(
        &mut self,
        header: FrameHeader,
        input: &mut &[u8],
    ) -> Result<Option<Frame>, FrameError> {
        let len = header.length as usize;
        let known = min_version(header.command, self.network.chain()).is_some();
        if !known && self.unknown == UnknownCommands::Skip {
            self.state = State::Skip { left: len };
            return Ok(None);
        }
        let chain = self.network.chain();
        if !known && chain == Chain::Decred {
            return Err(FrameError::UnknownCommand(header.command));
        }
        if let Some((data, rest)) = input.split_at_checked(len) {
            // The common case: the whole payload is here. Hash it and copy it out in one pass,
            // without going through the partial-frame state.
            *input = rest;
            self.reserve(len, len);
            let actual = if len <= ABSORB_PIECE {
                self.recv.extend_from_slice(data);
                checksum(chain, data)
            } else {
                let mut hasher = Hasher::new(chain);
                absorb(&mut hasher, &mut self.recv, data);
                hasher.checksum()
            };
            return self.complete(header, actual);
        }
        // Reserve what is likely to arrive soon, not what the header claims: a peer that
        // announces 4 MB and trickles bytes holds only what it actually sent.
        self.reserve(len, input.len().max(64 * 1024));
        self.state = State::Payload {
            header,
            hasher: Hasher::new(chain),
        };
        Ok(None)
    }

    /// Makes room for the next payload (`len` bytes, of which about `soon` will arrive soon).
    /// Small payloads are carved from a shared chunk, so a stream of pings, inv or tx messages
    /// does not allocate per frame (the chunk is reused in place once its frames are dropped).
    #[inline]
    fn reserve(&mut self, len: usize, soon: usize) {
        if self.recv.capacity() - self.recv.len() >= len {
            return;
        }
        if len <= SMALL_PAYLOAD {
            self.recv.reserve(RECV_CHUNK);
        } else {
            self.recv.reserve(len.min(soon));
        }
    }

    fn try_complete(&mut self) -> Result<Option<Frame>, FrameError> {
        let State::Payload { header, .. } = &self.state else {
            return Ok(None);
        };
        if self.recv.len() < header.length as usize {
            return Ok(None);
        }
        let state = core::mem::replace(
            &mut self.state,
            State::Header {
                buf: [0; HEADER_SIZE],
                have: 0,
            },
        );
        let State::Payload { header, hasher } = state else {
            return Ok(None);
        };
        self.complete(header, hasher.checksum())
    }

    /// Hands out the buffered payload once its checksum is verified.
    #[inline(always)]
    fn complete(
        &mut self,
        header: FrameHeader,
        actual: [u8; 4],
    ) -> Result<Option<Frame>, FrameError> {
        let payload = if header.length == 0 {
            Bytes::new()
        } else {
            self.recv.split().freeze()
        };
        if actual != header.checksum {
            return Err(FrameError::BadChecksum {
                command: header.command,
                expected: header.checksum,
                actual,
            });
        }
        Ok(Some(Frame {
            command: header.command,
            payload,
        }))
    }
}

/// Payloads up to this size share a receive chunk; larger ones get a buffer of their own.
const SMALL_PAYLOAD: usize = 512;
/// Size of a shared receive chunk.
const RECV_CHUNK: usize = 4096;

/// Payloads up to this size are hashed in one call and then copied; larger ones go through
/// [`absorb`].
const ABSORB_PIECE: usize = 16 * 1024;

/// Hashes `data` and appends it to `recv`, a cache-sized piece at a time so that the copy
/// reads what the hash has just brought into cache.
#[inline]
fn absorb(hasher: &mut Hasher, recv: &mut BytesMut, data: &[u8]) {
    for piece in data.chunks(ABSORB_PIECE) {
        hasher.update(piece);
        recv.extend_from_slice(piece);
    }
}

/// Parses and validates a frame header in the order WIRE.md 1.4 gives: global length cap,
/// magic, command characters, per-command cap.
#[inline(always)]
pub fn parse_header(
    raw: &[u8; HEADER_SIZE],
    network: Network,
    version: u32,
) -> Result<FrameHeader, FrameError> {
    let word = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    let magic = word(0);
    let length = word(16);
    let chain = network.chain();
    let global = chain.max_frame_payload();
    if length > global {
        return Err(FrameError::PayloadTooLarge {
            len: length,
            max: global,
        });
    }
    if magic != network.magic() {
        return Err(FrameError::WrongNetwork {
            magic,
            expected: network.magic(),
        });
    }
    let Some(command) = Command::from_header(raw) else {
        let mut cmd = [0u8; 12];
        cmd.copy_from_slice(&raw[4..16]);
        return Err(FrameError::MalformedCommand(cmd));
    };
    let max = max_payload_len(command, version, chain);
    if length > max {
        return Err(FrameError::PayloadTooLargeForCommand {
            command,
            len: length,
            max,
        });
    }
    Ok(FrameHeader {
        command,
        length,
        checksum: [raw[20], raw[21], raw[22], raw[23]],
    })
}

/// Appends a frame (header and `payload`) to `out`.
pub fn encode_frame(
    network: Network,
    command: Command,
    payload: &[u8],
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let max = network.chain().max_frame_payload() as usize;
    if payload.len() > max {
        return Err(EncodeError::PayloadTooLarge {
            command,
            len: payload.len(),
            max,
        });
    }
    out.reserve(HEADER_SIZE + payload.len());
    out.put_slice(&network.magic_bytes());
    out.put_slice(&command.to_wire());
    out.put_u32_le(payload.len() as u32);
    out.put_slice(&checksum(network.chain(), payload));
    out.put_slice(payload);
    Ok(())
}

/// Encodes `msg` as a complete frame appended to `out`, in a single pass: the payload is written
/// after a reserved header which is then filled in. On error `out` is left as it was.
pub fn encode_message(
    network: Network,
    msg: &Message,
    ctx: &Context,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let start = out.len();
    out.put_bytes(0, HEADER_SIZE);
    if let Err(e) = msg.encode_payload(out, ctx) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - HEADER_SIZE;
    let command = msg.command();
    let max = max_payload_len(command, ctx.version, network.chain()) as usize;
    if len > max {
        out.truncate(start);
        return Err(EncodeError::PayloadTooLarge { command, len, max });
    }
    let sum = checksum(network.chain(), &out[start + HEADER_SIZE..]);
    let header = &mut out[start..start + HEADER_SIZE];
    header[0..4].copy_from_slice(&network.magic_bytes());
    header[4..16].copy_from_slice(&command.to_wire());
    header[16..20].copy_from_slice(&(len as u32).to_le_bytes());
    header[20..24].copy_from_slice(&sum);
    Ok(())
}

/// A frame decoder plus message decoding: bytes in, [`Message`]s out.
pub struct MessageDecoder {
    frames: FrameDecoder,
    ctx: Context,
}

impl MessageDecoder {
    /// A decoder for `network` with codec context `ctx`.
    pub fn new(network: Network, ctx: Context) -> MessageDecoder {
        let mut frames = FrameDecoder::new(network);
        frames.set_protocol_version(ctx.version);
        MessageDecoder { frames, ctx }
    }

    /// Changes the codec context (after version negotiation).
    pub fn set_context(&mut self, ctx: Context) {
        self.frames.set_protocol_version(ctx.version);
        self.ctx = ctx;
    }

    /// The underlying frame decoder.
    pub fn frames(&mut self) -> &mut FrameDecoder {
        &mut self.frames
    }

    /// Consumes bytes from `input` until a message is complete or `input` is empty.
    /// Returns the message and the bytes its frame occupied.
    pub fn decode(&mut self, input: &mut &[u8]) -> Result<Option<(Message, usize)>, ReadError> {
        let Some(frame) = self.frames.decode(input)? else {
            return Ok(None);
        };
        let len = frame.wire_len();
        let command = frame.command;
        let msg = Message::decode(command, frame.payload, &self.ctx)
            .map_err(|error| MessageError { command, error })?;
        Ok(Some((msg, len)))
    }
}
