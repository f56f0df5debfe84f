//! The Decred dialect of the codec (dcrd's `wire`, WIRE.md sections 3.2 and 5), selected by
//! [`Context::chain`] == [`Chain::Decred`].
//!
//! Messages whose command string Bitcoin also uses but whose layout differs decode to the
//! `Dcr`-prefixed variants of [`Message`] (`headers`, `block`, `tx`, `addrv2`, `cfilter`,
//! `getcfheaders`, `cfheaders`); messages with the same layout on both chains reuse the Bitcoin
//! variants (`version`, `inv`, `getblocks`, …) with Decred's rules (ping and pong always carry
//! the nonce, `addr` entries always carry a time, `version` strings are printable ASCII and the
//! relay byte is always written). Decred-only commands have plain names
//! ([`Message::MiningState`], [`Message::Mix`], …).
//!
//! `reject` is not in dcrd's stream decode table: a `FrameDecoder` on a Decred network treats
//! it as an unknown command. [`Message::decode`] still decodes a `reject` payload below
//! protocol 9 (strict ASCII), and [`Message::encode_payload`] writes one below protocol 9.

pub mod addr;
pub mod cfilter;
pub mod header;
pub mod mix;
pub mod state;
pub mod tx;

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use super::encode::{Reader, check_count, put_compact_size};
use super::error::{DecodeError, EncodeError, Field};
use super::message::{Context, MAX_INV_PER_MSG, Message};
use super::msg::block::{GetBlocks, MAX_HEADERS};
use super::msg::reject::Reject;
use super::msg::version::Version;
use super::{Command, Hash256, InvVect};
use crate::network::Chain;

pub use addr::{DcrAddrV2, DcrAddress};
pub use cfilter::{CFilterV2, DcrCFHeaders, DcrCFilter, DcrGetCFHeaders, GetCFilter, GetCFsV2};
pub use header::DcrBlockHeader;
pub use mix::{MixBody, MixKind, MixMessage};
pub use state::{GetInitState, InitState, MiningState};
pub use tx::{DcrBlock, DcrTx, DcrTxIn, DcrTxInWitness, DcrTxOut, DcrTxs, TxSerType, max_tree_txs};

/// Decred protocol versions at which messages and fields appear (WIRE.md 3.2).
pub mod versions {
    /// The first protocol version.
    pub const INITIAL: u32 = 1;
    /// SFNodeBloom is meaningful.
    pub const NODE_BLOOM: u32 = 2;
    /// `sendheaders`.
    pub const SEND_HEADERS: u32 = 3;
    /// `block` and `tx` may be 1 310 720 bytes (1 000 000 before).
    pub const MAX_BLOCK_SIZE: u32 = 4;
    /// `feefilter`.
    pub const FEE_FILTER: u32 = 5;
    /// Version-1 committed filters (`getcfilter`, `getcfheaders`, `getcftypes`, `cfilter`,
    /// `cfheaders`, `cftypes`).
    pub const NODE_CF: u32 = 6;
    /// `getcfilterv2` / `cfilterv2`.
    pub const CFILTER_V2: u32 = 7;
    /// `getinitstate` / `initstate`.
    pub const INIT_STATE: u32 = 8;
    /// `reject` is gone from this version on.
    pub const REMOVE_REJECT: u32 = 9;
    /// The mixing messages.
    pub const MIX: u32 = 10;
    /// `getcfsv2` / `cfiltersv2`.
    pub const BATCHED_CFILTERS_V2: u32 = 11;
    /// `addrv2` replaces `addr`.
    pub const ADDRV2: u32 = 12;
    /// The newest Decred protocol version this crate speaks.
    pub const LATEST: u32 = 12;
}

/// Largest timestamp dcrd accepts in `version` and `addrv2` (seconds): larger values, read as
/// unsigned, are [`DecodeError::InvalidTimestamp`].
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64 - 62_135_596_800;

/// Largest `block` / `tx` payload from protocol 4.
pub const MAX_BLOCK_PAYLOAD: u32 = 1_310_720;
/// Largest `block` / `tx` payload up to protocol 3.
pub const MAX_BLOCK_PAYLOAD_V3: u32 = 1_000_000;

const fn command(name: &str) -> Command {
    match Command::new(name) {
        Some(c) => c,
        None => panic!("invalid built-in command"),
    }
}

/// Decred-only commands.
impl Command {
    /// `getminings` (Decred)
    pub const GETMININGSTATE: Command = command("getminings");
    /// `miningstate` (Decred)
    pub const MININGSTATE: Command = command("miningstate");
    /// `getcfilter` (Decred)
    pub const GETCFILTER: Command = command("getcfilter");
    /// `getcftypes` (Decred)
    pub const GETCFTYPES: Command = command("getcftypes");
    /// `cftypes` (Decred)
    pub const CFTYPES: Command = command("cftypes");
    /// `getcfilterv2` (Decred)
    pub const GETCFILTERV2: Command = command("getcfilterv2");
    /// `cfilterv2` (Decred)
    pub const CFILTERV2: Command = command("cfilterv2");
    /// `getcfsv2` (Decred)
    pub const GETCFSV2: Command = command("getcfsv2");
    /// `cfiltersv2` (Decred)
    pub const CFILTERSV2: Command = command("cfiltersv2");
    /// `getinitstate` (Decred)
    pub const GETINITSTATE: Command = command("getinitstate");
    /// `initstate` (Decred)
    pub const INITSTATE: Command = command("initstate");
    /// `mixpairreq` (Decred)
    pub const MIXPAIRREQ: Command = command("mixpairreq");
    /// `mixkeyxchg` (Decred)
    pub const MIXKEYXCHG: Command = command("mixkeyxchg");
    /// `mixcphrtxt` (Decred)
    pub const MIXCPHRTXT: Command = command("mixcphrtxt");
    /// `mixslotres` (Decred)
    pub const MIXSLOTRES: Command = command("mixslotres");
    /// `mixfactpoly` (Decred)
    pub const MIXFACTPOLY: Command = command("mixfactpoly");
    /// `mixdcnet` (Decred)
    pub const MIXDCNET: Command = command("mixdcnet");
    /// `mixconfirm` (Decred)
    pub const MIXCONFIRM: Command = command("mixconfirm");
    /// `mixsecrets` (Decred)
    pub const MIXSECRETS: Command = command("mixsecrets");
}

/// Whether every byte is printable ASCII (0x20..=0x7e), dcrd's "strict ASCII".
pub(crate) fn is_strict_ascii(b: &[u8]) -> bool {
    b.iter().all(|c| (0x20..=0x7e).contains(c))
}

/// A count-prefixed list of hashes, the count checked against `max` before allocating; each
/// hash read as one field.
pub(crate) fn read_hashes(
    r: &mut Reader<'_>,
    max: usize,
    field: Field,
) -> Result<Vec<Hash256>, DecodeError> {
    let count = r.read_count(max as u64, field)?;
    let mut list = Vec::with_capacity(r.capacity_for(count, 32));
    for _ in 0..count {
        list.push(r.read_hash()?);
    }
    Ok(list)
}

pub(crate) fn put_hashes(
    out: &mut BytesMut,
    list: &[Hash256],
    max: usize,
    field: Field,
) -> Result<(), EncodeError> {
    check_count(list.len(), max, field)?;
    put_compact_size(out, list.len() as u64);
    for h in list {
        out.put_slice(&h.0);
    }
    Ok(())
}

fn decode_inv(r: &mut Reader<'_>) -> Result<Vec<InvVect>, DecodeError> {
    let count = r.read_count(MAX_INV_PER_MSG as u64, Field::InvVectors)?;
    let mut list = Vec::with_capacity(r.capacity_for(count, InvVect::SIZE));
    for _ in 0..count {
        list.push(InvVect::decode(r)?);
    }
    Ok(list)
}

fn encode_inv(list: &[InvVect], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_INV_PER_MSG, Field::InvVectors)?;
    put_compact_size(out, list.len() as u64);
    out.reserve(list.len() * InvVect::SIZE);
    for iv in list {
        iv.encode(out);
    }
    Ok(())
}

/// `headers`: at most 2000 headers, each followed by a transaction count that must be zero.
fn decode_headers(r: &mut Reader<'_>) -> Result<Vec<DcrBlockHeader>, DecodeError> {
    let count = r.read_count(MAX_HEADERS as u64, Field::Headers)?;
    let mut headers = Vec::with_capacity(r.capacity_for(count, DcrBlockHeader::SIZE + 1));
    for _ in 0..count {
        headers.push(DcrBlockHeader::decode(r)?);
        let txs = r.read_compact_size()?;
        if txs != 0 {
            return Err(DecodeError::HeaderContainsTxs(txs));
        }
    }
    Ok(headers)
}

fn encode_headers(headers: &[DcrBlockHeader], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(headers.len(), MAX_HEADERS, Field::Headers)?;
    put_compact_size(out, headers.len() as u64);
    out.reserve(headers.len() * (DcrBlockHeader::SIZE + 1));
    for h in headers {
        h.encode(out);
        out.put_u8(0);
    }
    Ok(())
}

/// The lowest Decred protocol version at which `command` exists in dcrd's stream decode table,
/// or `None` for commands dcrd does not know (which includes `reject`, see the module docs).
/// `addr` additionally stops existing at [`versions::ADDRV2`].
pub(crate) fn min_version(command: Command) -> Option<u32> {
    Some(match command {
        Command::VERSION
        | Command::VERACK
        | Command::GETADDR
        | Command::ADDR
        | Command::INV
        | Command::GETDATA
        | Command::NOTFOUND
        | Command::GETBLOCKS
        | Command::GETHEADERS
        | Command::HEADERS
        | Command::BLOCK
        | Command::TX
        | Command::PING
        | Command::PONG
        | Command::MEMPOOL
        | Command::GETMININGSTATE
        | Command::MININGSTATE => 0,
        Command::SENDHEADERS => versions::SEND_HEADERS,
        Command::FEEFILTER => versions::FEE_FILTER,
        Command::GETCFILTER
        | Command::GETCFHEADERS
        | Command::GETCFTYPES
        | Command::CFILTER
        | Command::CFHEADERS
        | Command::CFTYPES => versions::NODE_CF,
        Command::GETCFILTERV2 | Command::CFILTERV2 => versions::CFILTER_V2,
        Command::GETINITSTATE | Command::INITSTATE => versions::INIT_STATE,
        Command::GETCFSV2 | Command::CFILTERSV2 => versions::BATCHED_CFILTERS_V2,
        Command::ADDRV2 => versions::ADDRV2,
        _ => MixKind::from_command(command).map(|_| versions::MIX)?,
    })
}

/// The largest payload `command` may carry at Decred protocol `version` (WIRE.md section 5):
/// zero where the message does not exist at that version, as dcrd has it. Commands dcrd's
/// stream reader does not know (including `reject`) get the global 32 MiB cap, so that a frame
/// decoder reports them as unknown rather than oversized.
pub(crate) fn max_payload_len(command: Command, version: u32) -> u32 {
    let global = Chain::Decred.max_frame_payload();
    let from = |min: u32, len: u32| if version >= min { len } else { 0 };
    match command {
        Command::VERSION => 358,
        Command::VERACK
        | Command::GETADDR
        | Command::MEMPOOL
        | Command::GETMININGSTATE
        | Command::SENDHEADERS
        | Command::GETCFTYPES => 0,
        Command::ADDR => {
            if version < versions::ADDRV2 {
                30_003
            } else {
                0
            }
        }
        Command::ADDRV2 => from(versions::ADDRV2, 51_003),
        Command::INV | Command::GETDATA | Command::NOTFOUND => 1_800_003,
        Command::GETBLOCKS | Command::GETHEADERS => 16_039,
        Command::HEADERS => 362_003,
        Command::BLOCK | Command::TX => {
            if version < versions::MAX_BLOCK_SIZE {
                MAX_BLOCK_PAYLOAD_V3
            } else {
                MAX_BLOCK_PAYLOAD
            }
        }
        Command::PING | Command::PONG => 8,
        Command::MININGSTATE => 1546,
        Command::FEEFILTER => from(versions::FEE_FILTER, 8),
        Command::GETCFILTER => from(versions::NODE_CF, 33),
        Command::GETCFHEADERS => from(versions::NODE_CF, 16_036),
        Command::CFILTER => from(versions::NODE_CF, 262_182),
        Command::CFHEADERS => from(versions::NODE_CF, 64_036),
        Command::CFTYPES => from(versions::NODE_CF, 259),
        Command::GETCFILTERV2 => from(versions::CFILTER_V2, 32),
        Command::CFILTERV2 => from(versions::CFILTER_V2, 263_210),
        Command::GETINITSTATE => from(versions::INIT_STATE, 1057),
        Command::INITSTATE => from(versions::INIT_STATE, 1763),
        Command::GETCFSV2 => from(versions::BATCHED_CFILTERS_V2, 64),
        Command::CFILTERSV2 => from(versions::BATCHED_CFILTERS_V2, 26_321_001),
        _ => match MixKind::from_command(command) {
            Some(kind) => from(versions::MIX, kind.max_payload_len()),
            None => global,
        },
    }
}

/// Decodes a Decred payload (see [`Message::decode`]).
pub(crate) fn decode(
    command: Command,
    payload: Bytes,
    ctx: &Context,
) -> Result<Message, DecodeError> {
    let version = ctx.version;
    let invalid = DecodeError::InvalidForVersion { command, version };
    let known = min_version(command);
    let Some(min) = known.or((command == Command::REJECT).then_some(0)) else {
        return Ok(Message::Unknown { command, payload });
    };
    let too_late = match command {
        Command::REJECT => version >= versions::REMOVE_REJECT,
        Command::ADDR => version >= versions::ADDRV2,
        _ => false,
    };
    if version < min || too_late {
        return Err(invalid);
    }
    if command == Command::BLOCK {
        return DcrBlock::from_bytes(payload, version).map(Message::DcrBlock);
    }
    if command == Command::TX {
        return DcrTx::from_bytes(payload).map(Message::DcrTx);
    }
    if let Some(kind) = MixKind::from_command(command) {
        return MixMessage::new(kind, payload).map(Message::Mix);
    }
    let mut r = Reader::new(&payload);
    let msg = decode_body(command, &mut r, &payload)?;
    r.finish()?;
    Ok(msg)
}

fn decode_body(
    command: Command,
    r: &mut Reader<'_>,
    payload: &Bytes,
) -> Result<Message, DecodeError> {
    Ok(match command {
        Command::VERSION => {
            // dcrd rejects the timestamp as it reads it, before any later field.
            if let Some(ts) = payload.get(12..20) {
                let mut b = [0u8; 8];
                b.copy_from_slice(ts);
                let ts = u64::from_le_bytes(b);
                if ts > MAX_TIMESTAMP {
                    return Err(DecodeError::InvalidTimestamp(ts));
                }
            }
            Message::Version(Version::decode(r, true)?)
        }
        Command::VERACK => Message::Verack,
        Command::GETADDR => Message::GetAddr,
        Command::MEMPOOL => Message::MemPool,
        Command::SENDHEADERS => Message::SendHeaders,
        Command::GETMININGSTATE => Message::GetMiningState,
        Command::GETCFTYPES => Message::GetCFTypes,
        Command::ADDR => Message::Addr(addr::decode_addr(r)?),
        Command::ADDRV2 => Message::DcrAddrV2(addr::decode_addrv2(r)?),
        Command::INV => Message::Inv(decode_inv(r)?),
        Command::GETDATA => Message::GetData(decode_inv(r)?),
        Command::NOTFOUND => Message::NotFound(decode_inv(r)?),
        Command::GETBLOCKS => Message::GetBlocks(GetBlocks::decode(r)?),
        Command::GETHEADERS => Message::GetHeaders(GetBlocks::decode(r)?),
        Command::HEADERS => Message::DcrHeaders(decode_headers(r)?),
        Command::PING => Message::Ping(r.read_u64()?),
        Command::PONG => Message::Pong(r.read_u64()?),
        Command::REJECT => Message::Reject(Reject::decode(r, true)?),
        Command::FEEFILTER => Message::FeeFilter(r.read_i64()?),
        Command::MININGSTATE => Message::MiningState(MiningState::decode(r)?),
        Command::GETCFILTER => Message::GetCFilter(GetCFilter::decode(r)?),
        Command::GETCFHEADERS => Message::DcrGetCFHeaders(DcrGetCFHeaders::decode(r)?),
        Command::CFILTER => Message::DcrCFilter(DcrCFilter::decode(r, payload)?),
        Command::CFHEADERS => Message::DcrCFHeaders(DcrCFHeaders::decode(r)?),
        Command::CFTYPES => Message::CFTypes(cfilter::decode_cftypes(r)?),
        Command::GETCFILTERV2 => Message::GetCFilterV2(r.read_hash()?),
        Command::CFILTERV2 => Message::CFilterV2(CFilterV2::decode(r, payload)?),
        Command::GETCFSV2 => Message::GetCFsV2(GetCFsV2::decode(r)?),
        Command::CFILTERSV2 => Message::CFiltersV2(cfilter::decode_cfilters_v2(r, payload)?),
        Command::GETINITSTATE => Message::GetInitState(GetInitState::decode(r)?),
        Command::INITSTATE => Message::InitState(InitState::decode(r)?),
        _ => Message::Unknown {
            command,
            payload: payload.clone(),
        },
    })
}

/// Whether `msg` is a Bitcoin message with no Decred counterpart of that layout.
fn bitcoin_only(msg: &Message) -> bool {
    matches!(
        msg,
        Message::SendAddrV2
            | Message::WtxidRelay
            | Message::AddrV2(_)
            | Message::Headers(_)
            | Message::Block(_)
            | Message::Tx(_)
            | Message::MerkleBlock(_)
            | Message::FilterLoad(_)
            | Message::FilterAdd(_)
            | Message::FilterClear
            | Message::GetCFilters(_)
            | Message::CFilter(_)
            | Message::GetCFHeaders(_)
            | Message::CFHeaders(_)
            | Message::GetCFCheckpt(_)
            | Message::CFCheckpt(_)
            | Message::SendCmpct(_)
            | Message::CmpctBlock(_)
            | Message::GetBlockTxn(_)
            | Message::BlockTxn(_)
            | Message::SendTxRcncl(_)
            | Message::Alert(_)
    )
}

/// Encodes a Decred payload (see [`Message::encode_payload`]).
pub(crate) fn encode_payload(
    msg: &Message,
    out: &mut BytesMut,
    ctx: &Context,
) -> Result<(), EncodeError> {
    let command = msg.command();
    let version = ctx.version;
    if bitcoin_only(msg) {
        return Err(EncodeError::InvalidForChain(command));
    }
    let exists = match msg {
        Message::Unknown { .. } => true,
        Message::Reject(_) => version < versions::REMOVE_REJECT,
        Message::Addr(_) => version < versions::ADDRV2,
        _ => min_version(command).is_some_and(|min| version >= min),
    };
    if !exists {
        return Err(EncodeError::InvalidForVersion { command, version });
    }
    match msg {
        Message::Version(v) => {
            if !is_strict_ascii(v.user_agent.as_bytes()) {
                return Err(EncodeError::Unrepresentable(
                    "Decred user agents must be printable ASCII",
                ));
            }
            if v.timestamp as u64 > MAX_TIMESTAMP {
                return Err(EncodeError::Unrepresentable(
                    "version timestamp out of range",
                ));
            }
            v.encode(out, version, true)?
        }
        Message::Verack
        | Message::GetAddr
        | Message::MemPool
        | Message::SendHeaders
        | Message::GetMiningState
        | Message::GetCFTypes => {}
        Message::Addr(list) => addr::encode_addr(list, out)?,
        Message::DcrAddrV2(list) => addr::encode_addrv2(list, out)?,
        Message::Inv(list) | Message::GetData(list) | Message::NotFound(list) => {
            encode_inv(list, out)?
        }
        Message::GetBlocks(g) | Message::GetHeaders(g) => g.encode(out)?,
        Message::DcrHeaders(h) => encode_headers(h, out)?,
        Message::DcrBlock(b) => b.encode(out),
        Message::DcrTx(t) => t.encode(out),
        Message::Ping(nonce) | Message::Pong(nonce) => out.put_u64_le(*nonce),
        Message::Reject(r) => {
            if !is_strict_ascii(r.command.as_bytes()) || !is_strict_ascii(r.reason.as_bytes()) {
                return Err(EncodeError::Unrepresentable(
                    "Decred reject strings must be printable ASCII",
                ));
            }
            r.encode(out)
        }
        Message::FeeFilter(fee) => out.put_i64_le(*fee),
        Message::MiningState(m) => m.encode(out)?,
        Message::GetCFilter(g) => g.encode(out),
        Message::DcrGetCFHeaders(g) => g.encode(out)?,
        Message::DcrCFilter(c) => c.encode(out)?,
        Message::DcrCFHeaders(c) => c.encode(out)?,
        Message::CFTypes(types) => cfilter::encode_cftypes(types, out)?,
        Message::GetCFilterV2(hash) => out.put_slice(&hash.0),
        Message::CFilterV2(c) => c.encode(out)?,
        Message::GetCFsV2(g) => g.encode(out),
        Message::CFiltersV2(list) => cfilter::encode_cfilters_v2(list, out)?,
        Message::GetInitState(g) => g.encode(out)?,
        Message::InitState(s) => s.encode(out)?,
        Message::Mix(m) => m.encode(out),
        Message::Unknown { payload, .. } => out.put_slice(payload),
        // Every Bitcoin-only variant was refused above.
        _ => return Err(EncodeError::InvalidForChain(command)),
    }
    Ok(())
}
