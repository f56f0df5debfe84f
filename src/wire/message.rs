//! The [`Message`] enum: every message the peer speaks, decode dispatch by command, payload
//! encoding, protocol-version gates and per-command payload caps.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use super::command::{ALL_KINDS, Kind};
use super::decred::{
    self, CFilterV2, DcrAddrV2, DcrBlock, DcrBlockHeader, DcrCFHeaders, DcrCFilter,
    DcrGetCFHeaders, DcrTx, GetCFilter, GetCFsV2, GetInitState, InitState, MiningState, MixMessage,
};
use super::encode::{Reader, check_count, put_compact_size, put_fixed};
use super::error::{DecodeError, EncodeError, Field};
use super::msg::addr::{decode_addr, decode_addrv2, encode_addr, encode_addrv2};
use super::msg::block::{GetBlocks, decode_headers, encode_headers};
use super::msg::bloom::{FilterLoad, MerkleBlock, decode_filter_add, encode_filter_add};
use super::msg::cfilter::{CFCheckpt, CFHeaders, CFilter, GetCFCheckpt, GetCFilters};
use super::msg::compact::{BlockTxn, CmpctBlock, GetBlockTxn, SendCmpct, SendTxRcncl};
use super::msg::reject::Reject;
use super::msg::version::Version;
use super::{AddrV2, Block, BlockHeader, Command, Hash256, InvType, InvVect, NetAddress, Tx};
use crate::network::Chain;

/// Most entries in `inv`, `getdata` and `notfound`.
pub const MAX_INV_PER_MSG: usize = 50_000;

/// Protocol versions at which messages and fields appear (WIRE.md 3.1).
pub mod versions {
    /// `addr` may carry more than one entry.
    pub const MULTIPLE_ADDRESS: u32 = 209;
    /// `addr` entries carry a timestamp.
    pub const NET_ADDRESS_TIME: u32 = 31_402;
    /// BIP31: ping nonce and pong exist when the version is *greater* than this.
    pub const BIP0031: u32 = 60_000;
    /// BIP35: `mempool`.
    pub const BIP0035: u32 = 60_002;
    /// BIP37: bloom filtering, relay byte in `version`.
    pub const BIP0037: u32 = 70_001;
    /// BIP61: `reject`.
    pub const REJECT: u32 = 70_002;
    /// BIP111: NODE_BLOOM is meaningful.
    pub const BIP0111: u32 = 70_011;
    /// BIP130: `sendheaders`.
    pub const SEND_HEADERS: u32 = 70_012;
    /// BIP133: `feefilter`.
    pub const FEE_FILTER: u32 = 70_013;
    /// BIP155 / BIP339: `sendaddrv2`, `wtxidrelay`.
    pub const ADDRV2: u32 = 70_016;
    /// The newest Bitcoin protocol version this crate speaks.
    pub const LATEST: u32 = 70_016;
}

/// How transactions are serialized: without witness data, or with it where present (BIP144).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Legacy serialization; on decode a zero input count is just zero inputs.
    #[default]
    Base,
    /// Witness serialization; on decode a zero input count is the BIP144 marker.
    Witness,
}

/// What the codec needs to know about a connection: dialect, negotiated protocol version and
/// transaction encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The chain dialect.
    pub chain: Chain,
    /// The protocol version in force.
    pub version: u32,
    /// The transaction encoding in force.
    pub encoding: Encoding,
}

impl Context {
    /// Bitcoin at the latest protocol version, witness encoding.
    pub const BITCOIN: Context = Context {
        chain: Chain::Bitcoin,
        version: versions::LATEST,
        encoding: Encoding::Witness,
    };

    /// Decred at the latest protocol version (the encoding does not apply to Decred).
    pub const DECRED: Context = Context {
        chain: Chain::Decred,
        version: decred::versions::LATEST,
        encoding: Encoding::Base,
    };

    /// A copy with another protocol version.
    pub const fn with_version(self, version: u32) -> Context {
        Context { version, ..self }
    }

    /// A copy with another encoding.
    pub const fn with_encoding(self, encoding: Encoding) -> Context {
        Context { encoding, ..self }
    }
}

/// Every message of the Bitcoin peer protocol (WIRE.md section 4 plus BIP152/BIP330) and of
/// the Decred one (section 5). Decred layouts of commands Bitcoin also uses have `Dcr`
/// variants; Decred-only commands have plain names. Which set applies is [`Context::chain`].
///
/// Small messages decode to plain structs; `block`, `tx`, filters and other large payloads are
/// zero-copy `Bytes` slices of the receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// `version`
    Version(Version),
    /// `verack`
    Verack,
    /// `sendaddrv2` (BIP155)
    SendAddrV2,
    /// `wtxidrelay` (BIP339)
    WtxidRelay,
    /// `getaddr`
    GetAddr,
    /// `addr`
    Addr(Vec<NetAddress>),
    /// `addrv2` (BIP155)
    AddrV2(Vec<AddrV2>),
    /// `inv`
    Inv(Vec<InvVect>),
    /// `getdata`
    GetData(Vec<InvVect>),
    /// `notfound`
    NotFound(Vec<InvVect>),
    /// `getblocks`
    GetBlocks(GetBlocks),
    /// `getheaders`
    GetHeaders(GetBlocks),
    /// `headers`
    Headers(Vec<BlockHeader>),
    /// `block`
    Block(Block),
    /// `tx`
    Tx(Tx),
    /// `ping` (the nonce is not on the wire at protocol versions ≤ 60000; it decodes as 0)
    Ping(u64),
    /// `pong`
    Pong(u64),
    /// `reject` (BIP61)
    Reject(Reject),
    /// `sendheaders` (BIP130)
    SendHeaders,
    /// `feefilter` (BIP133), minimum fee rate in satoshis per 1000 bytes
    FeeFilter(i64),
    /// `mempool` (BIP35)
    MemPool,
    /// `merkleblock` (BIP37)
    MerkleBlock(MerkleBlock),
    /// `filterload` (BIP37)
    FilterLoad(FilterLoad),
    /// `filteradd` (BIP37)
    FilterAdd(Vec<u8>),
    /// `filterclear` (BIP37)
    FilterClear,
    /// `getcfilters` (BIP157)
    GetCFilters(GetCFilters),
    /// `cfilter` (BIP157)
    CFilter(CFilter),
    /// `getcfheaders` (BIP157)
    GetCFHeaders(GetCFilters),
    /// `cfheaders` (BIP157)
    CFHeaders(CFHeaders),
    /// `getcfcheckpt` (BIP157)
    GetCFCheckpt(GetCFCheckpt),
    /// `cfcheckpt` (BIP157)
    CFCheckpt(CFCheckpt),
    /// `sendcmpct` (BIP152)
    SendCmpct(SendCmpct),
    /// `cmpctblock` (BIP152)
    CmpctBlock(CmpctBlock),
    /// `getblocktxn` (BIP152)
    GetBlockTxn(GetBlockTxn),
    /// `blocktxn` (BIP152)
    BlockTxn(BlockTxn),
    /// `sendtxrcncl` (BIP330)
    SendTxRcncl(SendTxRcncl),
    /// `alert`, kept raw (the alert system is retired; nothing acts on it)
    Alert(Bytes),
    /// Decred `headers` (180-byte headers)
    DcrHeaders(Vec<DcrBlockHeader>),
    /// Decred `block`
    DcrBlock(DcrBlock),
    /// Decred `tx`
    DcrTx(DcrTx),
    /// Decred `addrv2` (not BIP155)
    DcrAddrV2(Vec<DcrAddrV2>),
    /// Decred `getcfheaders`
    DcrGetCFHeaders(DcrGetCFHeaders),
    /// Decred `cfilter`
    DcrCFilter(DcrCFilter),
    /// Decred `cfheaders`
    DcrCFHeaders(DcrCFHeaders),
    /// Decred `getminings`
    GetMiningState,
    /// Decred `miningstate`
    MiningState(MiningState),
    /// Decred `getinitstate`
    GetInitState(GetInitState),
    /// Decred `initstate`
    InitState(InitState),
    /// Decred `getcfilter`
    GetCFilter(GetCFilter),
    /// Decred `getcftypes`
    GetCFTypes,
    /// Decred `cftypes`: the filter types served
    CFTypes(Vec<u8>),
    /// Decred `getcfilterv2`: a block hash
    GetCFilterV2(Hash256),
    /// Decred `cfilterv2`
    CFilterV2(CFilterV2),
    /// Decred `getcfsv2`
    GetCFsV2(GetCFsV2),
    /// Decred `cfiltersv2`
    CFiltersV2(Vec<CFilterV2>),
    /// Decred mixing messages (`mixpairreq`, `mixkeyxchg`, …)
    Mix(MixMessage),
    /// A well-formed command this crate does not know, with its payload.
    Unknown {
        /// The command.
        command: Command,
        /// The raw payload.
        payload: Bytes,
    },
}

impl Message {
    /// The message's command.
    pub fn command(&self) -> Command {
        match self {
            Message::Version(_) => Command::VERSION,
            Message::Verack => Command::VERACK,
            Message::SendAddrV2 => Command::SENDADDRV2,
            Message::WtxidRelay => Command::WTXIDRELAY,
            Message::GetAddr => Command::GETADDR,
            Message::Addr(_) => Command::ADDR,
            Message::AddrV2(_) => Command::ADDRV2,
            Message::Inv(_) => Command::INV,
            Message::GetData(_) => Command::GETDATA,
            Message::NotFound(_) => Command::NOTFOUND,
            Message::GetBlocks(_) => Command::GETBLOCKS,
            Message::GetHeaders(_) => Command::GETHEADERS,
            Message::Headers(_) => Command::HEADERS,
            Message::Block(_) => Command::BLOCK,
            Message::Tx(_) => Command::TX,
            Message::Ping(_) => Command::PING,
            Message::Pong(_) => Command::PONG,
            Message::Reject(_) => Command::REJECT,
            Message::SendHeaders => Command::SENDHEADERS,
            Message::FeeFilter(_) => Command::FEEFILTER,
            Message::MemPool => Command::MEMPOOL,
            Message::MerkleBlock(_) => Command::MERKLEBLOCK,
            Message::FilterLoad(_) => Command::FILTERLOAD,
            Message::FilterAdd(_) => Command::FILTERADD,
            Message::FilterClear => Command::FILTERCLEAR,
            Message::GetCFilters(_) => Command::GETCFILTERS,
            Message::CFilter(_) => Command::CFILTER,
            Message::GetCFHeaders(_) => Command::GETCFHEADERS,
            Message::CFHeaders(_) => Command::CFHEADERS,
            Message::GetCFCheckpt(_) => Command::GETCFCHECKPT,
            Message::CFCheckpt(_) => Command::CFCHECKPT,
            Message::SendCmpct(_) => Command::SENDCMPCT,
            Message::CmpctBlock(_) => Command::CMPCTBLOCK,
            Message::GetBlockTxn(_) => Command::GETBLOCKTXN,
            Message::BlockTxn(_) => Command::BLOCKTXN,
            Message::SendTxRcncl(_) => Command::SENDTXRCNCL,
            Message::Alert(_) => Command::ALERT,
            Message::DcrHeaders(_) => Command::HEADERS,
            Message::DcrBlock(_) => Command::BLOCK,
            Message::DcrTx(_) => Command::TX,
            Message::DcrAddrV2(_) => Command::ADDRV2,
            Message::DcrGetCFHeaders(_) => Command::GETCFHEADERS,
            Message::DcrCFilter(_) => Command::CFILTER,
            Message::DcrCFHeaders(_) => Command::CFHEADERS,
            Message::GetMiningState => Command::GETMININGSTATE,
            Message::MiningState(_) => Command::MININGSTATE,
            Message::GetInitState(_) => Command::GETINITSTATE,
            Message::InitState(_) => Command::INITSTATE,
            Message::GetCFilter(_) => Command::GETCFILTER,
            Message::GetCFTypes => Command::GETCFTYPES,
            Message::CFTypes(_) => Command::CFTYPES,
            Message::GetCFilterV2(_) => Command::GETCFILTERV2,
            Message::CFilterV2(_) => Command::CFILTERV2,
            Message::GetCFsV2(_) => Command::GETCFSV2,
            Message::CFiltersV2(_) => Command::CFILTERSV2,
            Message::Mix(m) => m.command(),
            Message::Unknown { command, .. } => *command,
        }
    }

    /// The inventory vector naming this message's object, for messages that deliver one
    /// (`block`, `tx`; Decred blocks, transactions and mix messages): what a `getdata` for it
    /// would have asked. Hashes are computed on demand.
    pub fn inventory(&self) -> Option<InvVect> {
        match self {
            Message::Block(b) => Some(InvVect::new(InvType::BLOCK, b.block_hash())),
            Message::Tx(t) => Some(InvVect::new(InvType::TX, t.txid())),
            Message::DcrBlock(b) => Some(InvVect::new(InvType::BLOCK, b.block_hash())),
            Message::DcrTx(t) => Some(InvVect::new(InvType::TX, t.txid())),
            Message::Mix(m) => Some(InvVect::new(InvType::MIX, m.hash())),
            _ => None,
        }
    }

    /// Decodes `payload` as the message named by `command`. Unknown commands become
    /// [`Message::Unknown`]. The whole payload must be consumed: trailing bytes are an error,
    /// as in current btcd and dcrd (WIRE.md 1.4 step 9). On [`Chain::Decred`] the Decred
    /// layouts apply (see [`decred`](super::decred)).
    pub fn decode(command: Command, payload: Bytes, ctx: &Context) -> Result<Message, DecodeError> {
        if ctx.chain == Chain::Decred {
            return decred::decode(command, payload, ctx);
        }
        let Some(kind) = command.kind() else {
            return Ok(Message::Unknown { command, payload });
        };
        let min = kind_min_version(kind);
        if ctx.version < min {
            return Err(DecodeError::InvalidForVersion {
                command,
                version: ctx.version,
            });
        }
        match kind {
            Kind::Block => return Block::from_bytes(payload, ctx.encoding).map(Message::Block),
            Kind::Tx => return Tx::from_bytes(payload, ctx.encoding).map(Message::Tx),
            Kind::Alert => return Ok(Message::Alert(payload)),
            _ => {}
        }
        let mut r = Reader::new(&payload);
        let msg = decode_body(command, kind, &mut r, &payload, ctx)?;
        r.finish()?;
        Ok(msg)
    }

    /// Appends the payload encoding to `out` (no frame header). Fails if the message does not
    /// exist at `ctx.version`, does not exist on `ctx.chain` ([`EncodeError::InvalidForChain`])
    /// or a list is over its limit.
    pub fn encode_payload(&self, out: &mut BytesMut, ctx: &Context) -> Result<(), EncodeError> {
        if ctx.chain == Chain::Decred {
            return decred::encode_payload(self, out, ctx);
        }
        let command = self.command();
        if let Some(min) = min_version(command, Chain::Bitcoin) {
            if ctx.version < min {
                return Err(EncodeError::InvalidForVersion {
                    command,
                    version: ctx.version,
                });
            }
        }
        match self {
            Message::Version(v) => v.encode(out, ctx.version, ctx.chain == Chain::Decred)?,
            Message::Verack
            | Message::SendAddrV2
            | Message::WtxidRelay
            | Message::GetAddr
            | Message::SendHeaders
            | Message::MemPool
            | Message::FilterClear => {}
            Message::Addr(list) => encode_addr(list, out, ctx.version)?,
            Message::AddrV2(list) => encode_addrv2(list, out)?,
            Message::Inv(list) | Message::GetData(list) | Message::NotFound(list) => {
                encode_inv(list, out)?
            }
            Message::GetBlocks(g) | Message::GetHeaders(g) => g.encode(out)?,
            Message::Headers(h) => encode_headers(h, out)?,
            Message::Block(b) => b.encode(out, ctx.encoding),
            Message::Tx(t) => t.encode(out, ctx.encoding),
            Message::Ping(nonce) => {
                if ctx.version > versions::BIP0031 {
                    out.put_u64_le(*nonce)
                }
            }
            Message::Pong(nonce) => out.put_u64_le(*nonce),
            Message::Reject(r) => r.encode(out),
            Message::FeeFilter(fee) => out.put_i64_le(*fee),
            Message::MerkleBlock(m) => m.encode(out)?,
            Message::FilterLoad(f) => f.encode(out)?,
            Message::FilterAdd(data) => encode_filter_add(data, out)?,
            Message::GetCFilters(g) | Message::GetCFHeaders(g) => g.encode(out),
            Message::CFilter(c) => c.encode(out)?,
            Message::CFHeaders(c) => c.encode(out)?,
            Message::GetCFCheckpt(g) => g.encode(out),
            Message::CFCheckpt(c) => c.encode(out)?,
            Message::SendCmpct(s) => s.encode(out),
            Message::CmpctBlock(c) => c.encode(out, ctx.encoding)?,
            Message::GetBlockTxn(g) => g.encode(out)?,
            Message::BlockTxn(b) => b.encode(out, ctx.encoding)?,
            Message::SendTxRcncl(s) => s.encode(out),
            Message::Alert(raw) | Message::Unknown { payload: raw, .. } => out.put_slice(raw),
            Message::DcrHeaders(_)
            | Message::DcrBlock(_)
            | Message::DcrTx(_)
            | Message::DcrAddrV2(_)
            | Message::DcrGetCFHeaders(_)
            | Message::DcrCFilter(_)
            | Message::DcrCFHeaders(_)
            | Message::GetMiningState
            | Message::MiningState(_)
            | Message::GetInitState(_)
            | Message::InitState(_)
            | Message::GetCFilter(_)
            | Message::GetCFTypes
            | Message::CFTypes(_)
            | Message::GetCFilterV2(_)
            | Message::CFilterV2(_)
            | Message::GetCFsV2(_)
            | Message::CFiltersV2(_)
            | Message::Mix(_) => return Err(EncodeError::InvalidForChain(command)),
        }
        Ok(())
    }
}

fn decode_body(
    command: Command,
    kind: Kind,
    r: &mut Reader<'_>,
    payload: &Bytes,
    ctx: &Context,
) -> Result<Message, DecodeError> {
    let strict = ctx.chain == Chain::Decred;
    Ok(match kind {
        Kind::Version => Message::Version(Version::decode(r, strict)?),
        Kind::Verack => Message::Verack,
        Kind::SendAddrV2 => Message::SendAddrV2,
        Kind::WtxidRelay => Message::WtxidRelay,
        Kind::GetAddr => Message::GetAddr,
        Kind::Addr => Message::Addr(decode_addr(r, ctx.version)?),
        Kind::AddrV2 => Message::AddrV2(decode_addrv2(r)?),
        Kind::Inv => Message::Inv(decode_inv(r)?),
        Kind::GetData => Message::GetData(decode_inv(r)?),
        Kind::NotFound => Message::NotFound(decode_inv(r)?),
        Kind::GetBlocks => Message::GetBlocks(GetBlocks::decode(r)?),
        Kind::GetHeaders => Message::GetHeaders(GetBlocks::decode(r)?),
        Kind::Headers => Message::Headers(decode_headers(r)?),
        Kind::Ping => {
            if ctx.version > versions::BIP0031 {
                Message::Ping(r.read_u64()?)
            } else {
                Message::Ping(0)
            }
        }
        Kind::Pong => Message::Pong(r.read_u64()?),
        Kind::Reject => Message::Reject(Reject::decode(r, strict)?),
        Kind::SendHeaders => Message::SendHeaders,
        Kind::FeeFilter => Message::FeeFilter(r.read_i64()?),
        Kind::MemPool => Message::MemPool,
        Kind::MerkleBlock => Message::MerkleBlock(MerkleBlock::decode(r)?),
        Kind::FilterLoad => Message::FilterLoad(FilterLoad::decode(r, payload)?),
        Kind::FilterAdd => Message::FilterAdd(decode_filter_add(r)?),
        Kind::FilterClear => Message::FilterClear,
        Kind::GetCFilters => Message::GetCFilters(GetCFilters::decode(r)?),
        Kind::CFilter => Message::CFilter(CFilter::decode(r, payload)?),
        Kind::GetCFHeaders => Message::GetCFHeaders(GetCFilters::decode(r)?),
        Kind::CFHeaders => Message::CFHeaders(CFHeaders::decode(r)?),
        Kind::GetCFCheckpt => Message::GetCFCheckpt(GetCFCheckpt::decode(r)?),
        Kind::CFCheckpt => Message::CFCheckpt(CFCheckpt::decode(r)?),
        Kind::SendCmpct => Message::SendCmpct(SendCmpct::decode(r)?),
        Kind::CmpctBlock => Message::CmpctBlock(CmpctBlock::decode(r, payload, ctx.encoding)?),
        Kind::GetBlockTxn => Message::GetBlockTxn(GetBlockTxn::decode(r)?),
        Kind::BlockTxn => Message::BlockTxn(BlockTxn::decode(r, payload, ctx.encoding)?),
        Kind::SendTxRcncl => Message::SendTxRcncl(SendTxRcncl::decode(r)?),
        _ => Message::Unknown {
            command,
            payload: payload.clone(),
        },
    })
}

fn decode_inv(r: &mut Reader<'_>) -> Result<Vec<InvVect>, DecodeError> {
    let count = r.read_count(MAX_INV_PER_MSG as u64, Field::InvVectors)?;
    let mut list = Vec::with_capacity(r.capacity_for(count, InvVect::SIZE));
    let done = r.read_fixed(count, &mut list, |b| Some(InvVect::from_array(b)));
    for _ in done..count {
        list.push(InvVect::decode(r)?);
    }
    Ok(list)
}

fn encode_inv(list: &[InvVect], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_INV_PER_MSG, Field::InvVectors)?;
    put_compact_size(out, list.len() as u64);
    put_fixed(out, list, InvVect::write_wire);
    Ok(())
}

/// The lowest protocol version at which `command` exists on `chain`, or `None` for commands
/// that chain's stream reader does not know (on Decred this includes `reject`, and `addr`
/// additionally stops existing at protocol 12; see [`decred`](super::decred)).
#[inline]
pub fn min_version(command: Command, chain: Chain) -> Option<u32> {
    match chain {
        Chain::Bitcoin => command.kind().map(kind_min_version),
        Chain::Decred => decred::min_version(command),
    }
}

/// [`kind_min_version`] as a table: a stream of mixed commands then costs a load, not a
/// mispredicted jump.
const MIN_VERSIONS: [u32; ALL_KINDS.len()] = {
    let mut table = [0; ALL_KINDS.len()];
    let mut i = 0;
    while i < ALL_KINDS.len() {
        table[i] = kind_min_version_of(ALL_KINDS[i]);
        i += 1;
    }
    table
};

#[inline]
fn kind_min_version(kind: Kind) -> u32 {
    MIN_VERSIONS[kind as usize]
}

const fn kind_min_version_of(kind: Kind) -> u32 {
    match kind {
        Kind::MemPool => versions::BIP0035,
        Kind::FilterLoad | Kind::FilterAdd | Kind::FilterClear | Kind::MerkleBlock => {
            versions::BIP0037
        }
        Kind::Reject => versions::REJECT,
        Kind::SendHeaders => versions::SEND_HEADERS,
        Kind::FeeFilter => versions::FEE_FILTER,
        Kind::SendAddrV2 | Kind::WtxidRelay => versions::ADDRV2,
        Kind::Pong => versions::BIP0031 + 1,
        Kind::Version
        | Kind::Verack
        | Kind::GetAddr
        | Kind::Addr
        | Kind::AddrV2
        | Kind::Inv
        | Kind::GetData
        | Kind::NotFound
        | Kind::GetBlocks
        | Kind::GetHeaders
        | Kind::Headers
        | Kind::Block
        | Kind::Tx
        | Kind::Ping
        | Kind::GetCFilters
        | Kind::CFilter
        | Kind::GetCFHeaders
        | Kind::CFHeaders
        | Kind::GetCFCheckpt
        | Kind::CFCheckpt
        | Kind::SendCmpct
        | Kind::CmpctBlock
        | Kind::GetBlockTxn
        | Kind::BlockTxn
        | Kind::SendTxRcncl
        | Kind::Alert => 0,
    }
}

/// The largest payload `command` may carry at protocol `version` on `chain` (WIRE.md sections
/// 4 and 5). Unknown commands get the chain's global cap.
#[inline]
pub fn max_payload_len(command: Command, version: u32, chain: Chain) -> u32 {
    if chain == Chain::Decred {
        return decred::max_payload_len(command, version);
    }
    kind_max_payload_len(command.kind(), version)
}

/// Per-command caps from protocol 60001 on, where none depends on the version any more.
const MODERN_MAX_PAYLOAD: [u32; ALL_KINDS.len()] = {
    let mut table = [0; ALL_KINDS.len()];
    let mut i = 0;
    while i < ALL_KINDS.len() {
        table[i] = max_payload_len_of(Some(ALL_KINDS[i]), versions::LATEST);
        i += 1;
    }
    table
};

/// The Bitcoin cap for a command of `kind` (`None`: unknown) at `version`.
#[inline]
pub(crate) fn kind_max_payload_len(kind: Option<Kind>, version: u32) -> u32 {
    match kind {
        // A table load rather than a mispredicted jump per frame of a mixed stream.
        Some(kind) if version > versions::BIP0031 => MODERN_MAX_PAYLOAD[kind as usize],
        _ => max_payload_len_of(kind, version),
    }
}

const fn max_payload_len_of(kind: Option<Kind>, version: u32) -> u32 {
    let global = Chain::Bitcoin.max_frame_payload();
    let addr_size = if version >= versions::NET_ADDRESS_TIME {
        30
    } else {
        26
    };
    let max = match kind {
        Some(Kind::Version) => 33 + 265 + 2 * addr_size,
        Some(Kind::Verack)
        | Some(Kind::SendAddrV2)
        | Some(Kind::WtxidRelay)
        | Some(Kind::GetAddr)
        | Some(Kind::SendHeaders)
        | Some(Kind::MemPool)
        | Some(Kind::FilterClear) => 0,
        Some(Kind::Addr) => {
            if version < versions::MULTIPLE_ADDRESS {
                9 + addr_size
            } else {
                9 + 1000 * addr_size
            }
        }
        Some(Kind::AddrV2) => 531_003,
        Some(Kind::Inv) | Some(Kind::GetData) | Some(Kind::NotFound) => 9 + 50_000 * 36,
        Some(Kind::GetBlocks) | Some(Kind::GetHeaders) => 4 + 9 + 500 * 32 + 32,
        Some(Kind::Headers) => 9 + 2000 * 81,
        Some(Kind::Ping) => {
            if version > versions::BIP0031 {
                8
            } else {
                0
            }
        }
        Some(Kind::Pong) | Some(Kind::FeeFilter) => 8,
        Some(Kind::FilterLoad) => 36_012,
        Some(Kind::FilterAdd) => 523,
        Some(Kind::GetCFilters) | Some(Kind::GetCFHeaders) => 37,
        Some(Kind::GetCFCheckpt) => 33,
        Some(Kind::CFilter) => 262_182,
        Some(Kind::CFHeaders) => 64_074,
        Some(Kind::CFCheckpt) => 3_200_038,
        Some(Kind::SendCmpct) => 9,
        Some(Kind::SendTxRcncl) => 12,
        _ => global,
    };
    if max < global { max } else { global }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn tables_match_the_rules_at_every_version() {
        for version in [
            0, 106, 208, 209, 31_401, 31_402, 60_000, 60_001, 70_001, 70_016, 80_000,
        ] {
            for kind in ALL_KINDS.iter().copied().map(Some).chain([None]) {
                assert_eq!(
                    kind_max_payload_len(kind, version),
                    max_payload_len_of(kind, version),
                    "{kind:?} at {version}"
                );
            }
        }
        for kind in ALL_KINDS {
            assert_eq!(
                kind_min_version(kind),
                kind_min_version_of(kind),
                "{kind:?}"
            );
        }
    }
}
