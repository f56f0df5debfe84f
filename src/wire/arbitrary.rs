//! `arbitrary::Arbitrary` for [`Message`] (feature `arbitrary`), for structure-aware fuzzing.
//!
//! Every value is built through the public types, and every count and length limit of
//! WIRE.md section 4 is respected, so [`encode_message`](super::encode_message) succeeds for any
//! generated message at [`versions::LATEST`](super::versions::LATEST) on Bitcoin, and the
//! payload fits the command's cap. Transactions and blocks are built as valid bytes first and then
//! wrapped with [`Tx::from_bytes`] / [`Block::from_bytes`]. Values that the wire cannot carry
//! unchanged are never generated: IPv4-mapped or OnionCat IPv6 in `addrv2` (dropped on decode),
//! a `reject` hash for commands other than `tx` and `block` (not on the wire), a non-zero time in
//! `version` addresses (not on the wire), commands of `Message::Unknown` that are known.
//!
//! What still depends on the protocol version is the caller's business (the `roundtrip` fuzz
//! target documents it): before 209 `addr` carries one entry, before 31402 `addr` entries carry
//! no time, up to 60000 `ping` carries no nonce, before 70001 `version` carries no relay byte,
//! and `Encoding::Base` strips witness data.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::{BufMut, Bytes, BytesMut};

use super::encode::{put_compact_size, put_var_bytes};
use super::message::{MAX_INV_PER_MSG, Message, min_version};
use super::msg::addr::MAX_ADDR_PER_MSG;
use super::msg::block::{MAX_HEADERS, MAX_LOCATORS};
use super::msg::bloom::{
    MAX_FILTER_ADD_DATA_SIZE, MAX_FILTER_LOAD_FILTER_SIZE, MAX_FILTER_LOAD_HASH_FUNCS,
    MAX_MERKLE_FLAGS,
};
use super::msg::cfilter::{MAX_CF_CHECKPOINTS, MAX_CF_HEADERS_PER_MSG, MAX_CFILTER_DATA_SIZE};
use super::msg::compact::MAX_COMPACT_ENTRIES;
use super::msg::version::MAX_USER_AGENT_LEN;
use super::{
    AddrV2, AddrV2Address, Block, BlockHeader, BlockTxn, BloomFlags, CFCheckpt, CFHeaders, CFilter,
    CmpctBlock, Command, Encoding, FilterLoad, GetBlockTxn, GetBlocks, GetCFCheckpt, GetCFilters,
    Hash256, InvType, InvVect, MerkleBlock, NetAddress, PrefilledTx, Reject, RejectCode, SendCmpct,
    SendTxRcncl, ServiceFlags, Tx, Version,
};

/// Payload budget for generated blocks and transaction lists: below the 4 000 000-byte cap with
/// room for the header and counts.
const PAYLOAD_BUDGET: usize = 3_900_000;
/// Most hashes in a generated `merkleblock`, so that hashes plus flags stay under 4 000 000
/// bytes (the count limit itself, 400 001, would not fit).
const MAX_MERKLE_HASHES: usize = 100_000;
/// Per-transaction caps on generated inputs, outputs, witness items and script bytes: small
/// enough that a transaction never nears the 4 MiB script-byte limit.
const MAX_GEN_TX_PARTS: usize = 64;
const MAX_GEN_SCRIPT: usize = 10_000;
/// Script and witness bytes of one generated transaction, far below the 4 MiB limit.
const MAX_GEN_SCRIPT_BYTES: usize = 1_000_000;

/// Commands a `reject` usually names (so the `tx` / `block` hash case is reachable).
const REJECT_COMMANDS: [&str; 6] = ["tx", "block", "version", "verack", "malformed", "inv"];

/// At most `max` elements, as many as the remaining input could fill at `N` bytes each.
fn len_at_most<const N: usize>(u: &mut Unstructured<'_>, max: usize) -> Result<usize> {
    Ok(u.arbitrary_len::<[u8; N]>()?.min(max))
}

fn bytes_at_most(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u8>> {
    let n = len_at_most::<1>(u, max)?;
    Ok(u.bytes(n)?.to_vec())
}

fn string_at_most(u: &mut Unstructured<'_>, max: usize) -> Result<String> {
    let mut s = String::arbitrary(u)?;
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    Ok(s)
}

fn hash(u: &mut Unstructured<'_>) -> Result<Hash256> {
    Ok(Hash256(u.arbitrary()?))
}

fn hashes(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<Hash256>> {
    let n = len_at_most::<32>(u, max)?;
    (0..n).map(|_| hash(u)).collect()
}

fn header(u: &mut Unstructured<'_>) -> Result<BlockHeader> {
    Ok(BlockHeader {
        version: u.arbitrary()?,
        prev_block: hash(u)?,
        merkle_root: hash(u)?,
        time: u.arbitrary()?,
        bits: u.arbitrary()?,
        nonce: u.arbitrary()?,
    })
}

fn inv_list(u: &mut Unstructured<'_>) -> Result<Vec<InvVect>> {
    let n = len_at_most::<36>(u, MAX_INV_PER_MSG)?;
    (0..n)
        .map(|_| {
            let inv_type = match u.int_in_range(0..=7u8)? {
                0 => InvType::TX,
                1 => InvType::BLOCK,
                2 => InvType::WITNESS_TX,
                3 => InvType::WITNESS_BLOCK,
                4 => InvType::WTX,
                5 => InvType::FILTERED_BLOCK,
                6 => InvType::CMPCT_BLOCK,
                _ => InvType(u.arbitrary()?),
            };
            Ok(InvVect::new(inv_type, hash(u)?))
        })
        .collect()
}

/// A legacy address; `time` only where the wire carries it (`addr` entries).
fn net_address(u: &mut Unstructured<'_>, with_time: bool) -> Result<NetAddress> {
    Ok(NetAddress {
        time: if with_time { u.arbitrary()? } else { 0 },
        services: ServiceFlags(u.arbitrary()?),
        ip: Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?),
        port: u.arbitrary()?,
    })
}

fn addr_v2(u: &mut Unstructured<'_>) -> Result<AddrV2> {
    let addr = match u.int_in_range(0..=3u8)? {
        0 => AddrV2Address::Ipv4(Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?)),
        1 => {
            let mut b: [u8; 16] = u.arbitrary()?;
            // IPv4-mapped (::ffff:0:0/96) and OnionCat (fd87:d87e:eb43::/48) IPv6 are dropped
            // by the decoder (BIP155); move them out of those ranges.
            let mapped = b[..10] == [0; 10] && b[10..12] == [0xff, 0xff];
            let onioncat = b[..6] == [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];
            if mapped || onioncat {
                b[0] ^= 0x01;
            }
            AddrV2Address::Ipv6(Ipv6Addr::from(b))
        }
        2 => AddrV2Address::TorV2(u.arbitrary()?),
        _ => AddrV2Address::TorV3(u.arbitrary()?),
    };
    Ok(AddrV2 {
        time: u.arbitrary()?,
        services: ServiceFlags(u.arbitrary()?),
        addr,
        port: u.arbitrary()?,
    })
}

fn version(u: &mut Unstructured<'_>) -> Result<Version> {
    Ok(Version {
        protocol_version: u.arbitrary()?,
        services: ServiceFlags(u.arbitrary()?),
        timestamp: u.arbitrary()?,
        receiver: net_address(u, false)?,
        sender: net_address(u, false)?,
        nonce: u.arbitrary()?,
        user_agent: string_at_most(u, MAX_USER_AGENT_LEN)?,
        start_height: u.arbitrary()?,
        relay: u.arbitrary()?,
    })
}

fn get_blocks(u: &mut Unstructured<'_>) -> Result<GetBlocks> {
    Ok(GetBlocks {
        version: u.arbitrary()?,
        locator: hashes(u, MAX_LOCATORS)?,
        stop: hash(u)?,
    })
}

/// The bytes of a valid transaction: at least one input (a zero input count is the BIP144
/// marker in witness encoding), and, when it has the witness marker, at least one non-empty
/// witness stack (an all-empty witness is refused as superfluous).
fn tx_bytes(u: &mut Unstructured<'_>) -> Result<(Vec<u8>, bool)> {
    let inputs = 1 + len_at_most::<41>(u, MAX_GEN_TX_PARTS - 1)?;
    let outputs = len_at_most::<9>(u, MAX_GEN_TX_PARTS)?;
    let witness = bool::arbitrary(u)?;
    let mut budget = MAX_GEN_SCRIPT_BYTES;
    let mut script = |u: &mut Unstructured<'_>| -> Result<Vec<u8>> {
        let s = bytes_at_most(u, MAX_GEN_SCRIPT.min(budget))?;
        budget -= s.len();
        Ok(s)
    };
    let mut raw = BytesMut::new();
    raw.put_i32_le(u.arbitrary()?);
    if witness {
        raw.put_slice(&[0x00, 0x01]);
    }
    put_compact_size(&mut raw, inputs as u64);
    for _ in 0..inputs {
        raw.put_slice(&u.arbitrary::<[u8; 32]>()?);
        raw.put_u32_le(u.arbitrary()?);
        put_var_bytes(&mut raw, &script(u)?);
        raw.put_u32_le(u.arbitrary()?);
    }
    put_compact_size(&mut raw, outputs as u64);
    for _ in 0..outputs {
        raw.put_i64_le(u.arbitrary()?);
        put_var_bytes(&mut raw, &script(u)?);
    }
    if witness {
        for i in 0..inputs {
            let mut items = len_at_most::<8>(u, MAX_GEN_TX_PARTS)?;
            if i == 0 && items == 0 {
                items = 1;
            }
            put_compact_size(&mut raw, items as u64);
            for _ in 0..items {
                put_var_bytes(&mut raw, &script(u)?);
            }
        }
    }
    raw.put_u32_le(u.arbitrary()?);
    Ok((raw.to_vec(), witness))
}

fn tx(u: &mut Unstructured<'_>) -> Result<Tx> {
    let (raw, witness) = tx_bytes(u)?;
    let encoding = if witness {
        Encoding::Witness
    } else {
        Encoding::Base
    };
    Tx::from_bytes(Bytes::from(raw), encoding).map_err(|_e| {
        debug_assert!(false, "generated transaction does not decode: {_e}");
        arbitrary::Error::IncorrectFormat
    })
}

/// Transactions whose bytes together stay within `budget`.
fn txs(u: &mut Unstructured<'_>, budget: usize) -> Result<Vec<Tx>> {
    let n = len_at_most::<60>(u, 1000)?;
    let mut out = Vec::with_capacity(n);
    let mut used = 0;
    for _ in 0..n {
        let t = tx(u)?;
        used += t.total_size();
        if used > budget {
            break;
        }
        out.push(t);
    }
    Ok(out)
}

fn block(u: &mut Unstructured<'_>) -> Result<Block> {
    let head = header(u)?;
    let list = txs(u, PAYLOAD_BUDGET)?;
    let mut raw = BytesMut::new();
    head.encode(&mut raw);
    put_compact_size(&mut raw, list.len() as u64);
    for t in &list {
        raw.put_slice(t.as_bytes());
    }
    Block::from_bytes(raw.freeze(), Encoding::Witness).map_err(|_e| {
        debug_assert!(false, "generated block does not decode: {_e}");
        arbitrary::Error::IncorrectFormat
    })
}

/// Strictly increasing `u16` indexes (the differential encoding of BIP152 needs them so).
fn increasing_indexes(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u16>> {
    let n = len_at_most::<2>(u, max)?;
    let mut out = Vec::with_capacity(n);
    let mut next: u32 = 0;
    for _ in 0..n {
        let index = next + u32::from(u.arbitrary::<u8>()?);
        if index > u32::from(u16::MAX) {
            break;
        }
        out.push(index as u16);
        next = index + 1;
    }
    Ok(out)
}

fn cmpct_block(u: &mut Unstructured<'_>) -> Result<CmpctBlock> {
    let header = header(u)?;
    let nonce = u.arbitrary()?;
    let short_ids: Vec<[u8; 6]> = {
        let n = len_at_most::<6>(u, MAX_COMPACT_ENTRIES)?;
        (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?
    };
    let indexes = increasing_indexes(u, (MAX_COMPACT_ENTRIES - short_ids.len()).min(1000))?;
    let mut prefilled = Vec::with_capacity(indexes.len());
    let mut used = short_ids.len() * 6;
    for index in indexes {
        let t = tx(u)?;
        used += t.total_size() + 3;
        if used > PAYLOAD_BUDGET {
            break;
        }
        prefilled.push(PrefilledTx { index, tx: t });
    }
    Ok(CmpctBlock {
        header,
        nonce,
        short_ids,
        prefilled,
    })
}

fn reject(u: &mut Unstructured<'_>) -> Result<Reject> {
    let command = if bool::arbitrary(u)? {
        String::from(*u.choose(&REJECT_COMMANDS)?)
    } else {
        string_at_most(u, 64)?
    };
    let code = match u.int_in_range(0..=8u8)? {
        0 => RejectCode::MALFORMED,
        1 => RejectCode::INVALID,
        2 => RejectCode::OBSOLETE,
        3 => RejectCode::DUPLICATE,
        4 => RejectCode::NONSTANDARD,
        5 => RejectCode::DUST,
        6 => RejectCode::INSUFFICIENT_FEE,
        7 => RejectCode::CHECKPOINT,
        _ => RejectCode(u.arbitrary()?),
    };
    let mut r = Reject {
        command,
        code,
        reason: string_at_most(u, 1024)?,
        hash: Hash256::ZERO,
    };
    if r.carries_hash() {
        r.hash = hash(u)?;
    }
    Ok(r)
}

/// A well-formed command that this crate does not know (so it stays `Message::Unknown`).
fn unknown_command(u: &mut Unstructured<'_>) -> Result<Command> {
    let n = u.int_in_range(0..=12usize)?;
    let mut name = String::with_capacity(n);
    for _ in 0..n {
        name.push(char::from(u.int_in_range(0x20..=0x7eu8)?));
    }
    let command = Command::new(&name).unwrap_or(Command::ALERT);
    Ok(match min_version(command, crate::network::Chain::Bitcoin) {
        None => command,
        Some(_) => Command::new("notacommand").unwrap_or(command),
    })
}

impl<'a> Arbitrary<'a> for Message {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=37u8)? {
            0 => Message::Version(version(u)?),
            1 => Message::Verack,
            2 => Message::SendAddrV2,
            3 => Message::WtxidRelay,
            4 => Message::GetAddr,
            5 => {
                let n = len_at_most::<30>(u, MAX_ADDR_PER_MSG)?;
                Message::Addr(
                    (0..n)
                        .map(|_| net_address(u, true))
                        .collect::<Result<_>>()?,
                )
            }
            6 => {
                let n = len_at_most::<20>(u, MAX_ADDR_PER_MSG)?;
                Message::AddrV2((0..n).map(|_| addr_v2(u)).collect::<Result<_>>()?)
            }
            7 => Message::Inv(inv_list(u)?),
            8 => Message::GetData(inv_list(u)?),
            9 => Message::NotFound(inv_list(u)?),
            10 => Message::GetBlocks(get_blocks(u)?),
            11 => Message::GetHeaders(get_blocks(u)?),
            12 => {
                let n = len_at_most::<81>(u, MAX_HEADERS)?;
                Message::Headers((0..n).map(|_| header(u)).collect::<Result<_>>()?)
            }
            13 => Message::Block(block(u)?),
            14 => Message::Tx(tx(u)?),
            15 => Message::Ping(u.arbitrary()?),
            16 => Message::Pong(u.arbitrary()?),
            17 => Message::Reject(reject(u)?),
            18 => Message::SendHeaders,
            19 => Message::FeeFilter(u.arbitrary()?),
            20 => Message::MemPool,
            21 => Message::MerkleBlock(MerkleBlock {
                header: header(u)?,
                total_transactions: u.arbitrary()?,
                hashes: hashes(u, MAX_MERKLE_HASHES)?,
                flags: bytes_at_most(u, MAX_MERKLE_FLAGS)?,
            }),
            22 => Message::FilterLoad(FilterLoad {
                filter: Bytes::from(bytes_at_most(u, MAX_FILTER_LOAD_FILTER_SIZE)?),
                hash_funcs: u.int_in_range(0..=MAX_FILTER_LOAD_HASH_FUNCS)?,
                tweak: u.arbitrary()?,
                flags: BloomFlags(u.arbitrary()?),
            }),
            23 => Message::FilterAdd(bytes_at_most(u, MAX_FILTER_ADD_DATA_SIZE)?),
            24 => Message::FilterClear,
            25 | 27 => {
                let g = GetCFilters {
                    filter_type: u.arbitrary()?,
                    start_height: u.arbitrary()?,
                    stop_hash: hash(u)?,
                };
                if bool::arbitrary(u)? {
                    Message::GetCFilters(g)
                } else {
                    Message::GetCFHeaders(g)
                }
            }
            26 => Message::CFilter(CFilter {
                filter_type: u.arbitrary()?,
                block_hash: hash(u)?,
                filter: Bytes::from(bytes_at_most(u, MAX_CFILTER_DATA_SIZE)?),
            }),
            28 => Message::CFHeaders(CFHeaders {
                filter_type: u.arbitrary()?,
                stop_hash: hash(u)?,
                prev_filter_header: hash(u)?,
                filter_hashes: hashes(u, MAX_CF_HEADERS_PER_MSG)?,
            }),
            29 => Message::GetCFCheckpt(GetCFCheckpt {
                filter_type: u.arbitrary()?,
                stop_hash: hash(u)?,
            }),
            30 => Message::CFCheckpt(CFCheckpt {
                filter_type: u.arbitrary()?,
                stop_hash: hash(u)?,
                filter_headers: hashes(u, MAX_CF_CHECKPOINTS)?,
            }),
            31 => Message::SendCmpct(SendCmpct {
                announce: u.arbitrary()?,
                version: u.arbitrary()?,
            }),
            32 => Message::CmpctBlock(cmpct_block(u)?),
            33 => Message::GetBlockTxn(GetBlockTxn {
                block_hash: hash(u)?,
                indexes: increasing_indexes(u, MAX_COMPACT_ENTRIES)?,
            }),
            34 => Message::BlockTxn(BlockTxn {
                block_hash: hash(u)?,
                transactions: txs(u, PAYLOAD_BUDGET)?,
            }),
            35 => Message::SendTxRcncl(SendTxRcncl {
                version: u.arbitrary()?,
                salt: u.arbitrary()?,
            }),
            36 => Message::Alert(Bytes::from(bytes_at_most(u, PAYLOAD_BUDGET)?)),
            _ => Message::Unknown {
                command: unknown_command(u)?,
                payload: Bytes::from(bytes_at_most(u, PAYLOAD_BUDGET)?),
            },
        })
    }
}
