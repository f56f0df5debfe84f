//! Differential tests of the Bitcoin wire codec against rust-bitcoin 0.32.
//!
//! 1. Every message of every framed corpus file (`../shared/vectors/corpus/*.stream`,
//!    `*.frame`) decodes with both libraries, re-encodes to the identical bytes with both, and
//!    means the same thing field by field (txids, wtxids and block hashes included). Command and
//!    entry counts are checked against the corpus `MANIFEST.json`.
//! 2. Property tests: random messages of every kind both libraries share are encoded by each
//!    library and decoded by the other; the bytes must be identical and the meaning equal.
//! 3. Where the two libraries deliberately differ, an explicit test pins the difference and
//!    says which side WIRE.md / the BIPs support.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use bitcoin::absolute::LockTime;
use bitcoin::bip152::{
    BlockTransactions, BlockTransactionsRequest, HeaderAndShortIds, PrefilledTransaction, ShortId,
};
use bitcoin::bip158::{FilterHash, FilterHeader};
use bitcoin::block::{Header as BHeader, Version as BBlockVersion};
use bitcoin::consensus::encode::{deserialize, deserialize_partial, serialize};
use bitcoin::hashes::{Hash as _, sha256d};
use bitcoin::merkle_tree::{MerkleBlock as BMerkleBlock, PartialMerkleTree};
use bitcoin::p2p::Magic;
use bitcoin::p2p::ServiceFlags as BServices;
use bitcoin::p2p::address::{AddrV2 as BAddrV2, AddrV2Message, Address as BAddress};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_blockdata::{GetBlocksMessage, GetHeadersMessage, Inventory};
use bitcoin::p2p::message_bloom::{
    BloomFlags as BBloomFlags, FilterAdd, FilterLoad as BFilterLoad,
};
use bitcoin::p2p::message_compact_blocks::{
    BlockTxn as BBlockTxn, CmpctBlock as BCmpctBlock, GetBlockTxn as BGetBlockTxn,
    SendCmpct as BSendCmpct,
};
use bitcoin::p2p::message_filter as bf;
use bitcoin::p2p::message_network::{Reject as BReject, RejectReason, VersionMessage};
use bitcoin::transaction::Version as BTxVersion;
use bitcoin::{
    Amount, Block as BBlock, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Transaction,
    TxIn, TxMerkleNode, TxOut, Txid, Witness,
};
use bitpeer::Network;
use bitpeer::wire::{
    AddrV2, AddrV2Address, Block, BlockHeader, BlockTxn, BloomFlags, CFCheckpt, CFHeaders, CFilter,
    CmpctBlock, Context, DecodeError, Encoding, FrameDecoder, GetBlockTxn, GetBlocks, GetCFCheckpt,
    GetCFilters, Hash256, InvType, InvVect, MerkleBlock, Message, NetAddress, PrefilledTx, Reject,
    RejectCode, SendCmpct, ServiceFlags, Tx, Version, encode_message, sha256d as our_sha256d,
};
use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/corpus");
const NET: Network = Network::BITCOIN_MAINNET;
/// Protocol 70016, witness encoding: what a modern peer negotiates, and what reproduces the
/// segwit serialization the corpus carries.
const CTX: Context = Context::BITCOIN;

// ------------------------------------------------------------------------------------------
// Semantic comparison of a decoded message in both libraries
// ------------------------------------------------------------------------------------------

fn same_hash(ours: &Hash256, theirs: [u8; 32], what: &str, at: &str) {
    assert_eq!(ours.0, theirs, "{at}: {what} differs");
}

fn same_net_address(ours: &NetAddress, theirs: &BAddress, at: &str) {
    assert_eq!(ours.services.0, theirs.services.to_u64(), "{at}: services");
    assert_eq!(ours.ip.segments(), theirs.address, "{at}: ip");
    assert_eq!(ours.port, theirs.port, "{at}: port");
}

fn same_header(ours: &BlockHeader, theirs: &BHeader, at: &str) {
    assert_eq!(
        ours.version,
        theirs.version.to_consensus(),
        "{at}: header version"
    );
    same_hash(
        &ours.prev_block,
        theirs.prev_blockhash.to_byte_array(),
        "prev_block",
        at,
    );
    same_hash(
        &ours.merkle_root,
        theirs.merkle_root.to_byte_array(),
        "merkle_root",
        at,
    );
    assert_eq!(ours.time, theirs.time, "{at}: header time");
    assert_eq!(ours.bits, theirs.bits.to_consensus(), "{at}: header bits");
    assert_eq!(ours.nonce, theirs.nonce, "{at}: header nonce");
    same_hash(
        &ours.block_hash(),
        theirs.block_hash().to_byte_array(),
        "block hash",
        at,
    );
}

fn same_tx(ours: &Tx, theirs: &Transaction, at: &str) {
    same_hash(
        &ours.txid(),
        theirs.compute_txid().to_byte_array(),
        "txid",
        at,
    );
    same_hash(
        &ours.wtxid(),
        theirs.compute_wtxid().to_byte_array(),
        "wtxid",
        at,
    );
    assert_eq!(ours.version(), theirs.version.0, "{at}: tx version");
    assert_eq!(
        ours.lock_time(),
        theirs.lock_time.to_consensus_u32(),
        "{at}: lock time"
    );
    assert_eq!(ours.input_count(), theirs.input.len(), "{at}: inputs");
    assert_eq!(ours.output_count(), theirs.output.len(), "{at}: outputs");
    let theirs_witness = theirs.input.iter().any(|i| !i.witness.is_empty());
    assert_eq!(ours.has_witness(), theirs_witness, "{at}: has_witness");
    assert_eq!(ours.base_size(), theirs.base_size(), "{at}: base size");
    assert_eq!(ours.total_size(), theirs.total_size(), "{at}: total size");
    assert_eq!(
        ours.weight() as u64,
        theirs.weight().to_wu(),
        "{at}: weight"
    );
    assert_eq!(
        ours.encoded_len(Encoding::Witness),
        theirs.total_size(),
        "{at}: len"
    );
    assert_eq!(
        ours.encoded_len(Encoding::Base),
        theirs.base_size(),
        "{at}: base len"
    );
    // Every field of every input, output and witness stack.
    assert_eq!(ours.inputs().count(), theirs.input.len(), "{at}: inputs()");
    for (i, (o, t)) in ours.inputs().zip(&theirs.input).enumerate() {
        let prev = t.previous_output.txid.to_byte_array();
        same_hash(&o.prev_txid, prev, &format!("input #{i} prev txid"), at);
        assert_eq!(
            o.prev_index, t.previous_output.vout,
            "{at}: input #{i} prev index"
        );
        assert_eq!(
            o.script_sig,
            t.script_sig.as_bytes(),
            "{at}: input #{i} script"
        );
        assert_eq!(o.sequence, t.sequence.0, "{at}: input #{i} sequence");
    }
    assert_eq!(
        ours.outputs().count(),
        theirs.output.len(),
        "{at}: outputs()"
    );
    for (i, (o, t)) in ours.outputs().zip(&theirs.output).enumerate() {
        assert_eq!(o.value as u64, t.value.to_sat(), "{at}: output #{i} value");
        let script = t.script_pubkey.as_bytes();
        assert_eq!(o.script_pubkey, script, "{at}: output #{i} script");
    }
    let witnesses: Vec<Vec<&[u8]>> = ours.witnesses().collect();
    if theirs_witness {
        assert_eq!(witnesses.len(), theirs.input.len(), "{at}: witness stacks");
    } else {
        assert!(witnesses.is_empty(), "{at}: witness stacks without witness");
    }
    for (i, (o, t)) in witnesses.iter().zip(&theirs.input).enumerate() {
        let items: Vec<&[u8]> = t.witness.iter().collect();
        assert_eq!(*o, items, "{at}: input #{i} witness");
    }
    // Both serializations, byte for byte.
    assert!(
        ours.as_bytes()[..] == serialize(theirs)[..],
        "{at}: witness bytes"
    );
    let mut base = BytesMut::new();
    ours.encode(&mut base, Encoding::Base);
    let mut stripped = theirs.clone();
    for input in &mut stripped.input {
        input.witness.clear();
    }
    assert!(base[..] == serialize(&stripped)[..], "{at}: base bytes");
}

/// Merkle root of `leaves` computed from our own hashes (independent of rust-bitcoin).
fn merkle_root(mut level: Vec<[u8; 32]>) -> [u8; 32] {
    assert!(!level.is_empty());
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(*level.last().unwrap());
        }
        level = level
            .chunks(2)
            .map(|p| our_sha256d(&[p[0], p[1]].concat()))
            .collect();
    }
    level[0]
}

fn same_block(ours: &Block, theirs: &BBlock, at: &str) {
    same_header(&ours.header(), &theirs.header, at);
    same_hash(
        &ours.block_hash(),
        theirs.block_hash().to_byte_array(),
        "block hash",
        at,
    );
    assert_eq!(ours.tx_count(), theirs.txdata.len(), "{at}: tx count");
    assert_eq!(
        ours.transactions().len(),
        theirs.txdata.len(),
        "{at}: iterator len"
    );
    let theirs_witness = theirs
        .txdata
        .iter()
        .any(|t| t.input.iter().any(|i| !i.witness.is_empty()));
    assert_eq!(
        ours.has_witness(),
        theirs_witness,
        "{at}: block has_witness"
    );
    let mut n = 0;
    for (i, (o, t)) in ours.transactions().zip(&theirs.txdata).enumerate() {
        same_tx(&o, t, &format!("{at} tx #{i}"));
        n += 1;
    }
    assert_eq!(n, theirs.txdata.len(), "{at}: transactions() ended early");
    assert_eq!(
        ours.encoded_len(Encoding::Witness),
        serialize(theirs).len(),
        "{at}: block len"
    );
}

fn inv_parts(inv: &Inventory) -> (u32, [u8; 32]) {
    match *inv {
        Inventory::Error => (0, [0; 32]),
        Inventory::Transaction(t) => (1, t.to_byte_array()),
        Inventory::Block(b) => (2, b.to_byte_array()),
        Inventory::CompactBlock(b) => (4, b.to_byte_array()),
        Inventory::WTx(w) => (5, w.to_byte_array()),
        Inventory::WitnessTransaction(t) => (0x4000_0001, t.to_byte_array()),
        Inventory::WitnessBlock(b) => (0x4000_0002, b.to_byte_array()),
        Inventory::Unknown { inv_type, hash } => (inv_type, hash),
    }
}

/// The rust-bitcoin inventory its decoder produces for `(inv_type, hash)`.
fn b_inv(inv_type: u32, hash: [u8; 32]) -> Inventory {
    match inv_type {
        1 => Inventory::Transaction(Txid::from_byte_array(hash)),
        2 => Inventory::Block(BlockHash::from_byte_array(hash)),
        4 => Inventory::CompactBlock(BlockHash::from_byte_array(hash)),
        5 => Inventory::WTx(bitcoin::Wtxid::from_byte_array(hash)),
        0x4000_0001 => Inventory::WitnessTransaction(Txid::from_byte_array(hash)),
        0x4000_0002 => Inventory::WitnessBlock(BlockHash::from_byte_array(hash)),
        _ => Inventory::Unknown { inv_type, hash },
    }
}

fn same_inv(ours: &[InvVect], theirs: &[Inventory], at: &str) -> usize {
    assert_eq!(ours.len(), theirs.len(), "{at}: inventory count");
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(
            (o.inv_type.0, o.hash.0),
            inv_parts(t),
            "{at}: inventory #{i}"
        );
    }
    ours.len()
}

fn pack_bits(bits: &[bool]) -> Vec<u8> {
    bits.chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |b, (i, &on)| b | (u8::from(on) << i))
        })
        .collect()
}

fn bloom_flag_byte(f: BBloomFlags) -> u8 {
    match f {
        BBloomFlags::None => 0,
        BBloomFlags::All => 1,
        BBloomFlags::PubkeyOnly => 2,
    }
}

fn same_locator(ours: &GetBlocks, version: u32, locator: &[BlockHash], stop: &BlockHash, at: &str) {
    assert_eq!(ours.version, version, "{at}: locator version");
    let theirs: Vec<[u8; 32]> = locator.iter().map(|h| h.to_byte_array()).collect();
    let ours_hashes: Vec<[u8; 32]> = ours.locator.iter().map(|h| h.0).collect();
    assert_eq!(ours_hashes, theirs, "{at}: locator hashes");
    same_hash(&ours.stop, stop.to_byte_array(), "stop hash", at);
}

/// Asserts that both decodings mean the same; returns the number of list entries (inventory
/// vectors, addresses, headers) for the manifest's entry counts, 0 for other messages.
fn assert_same(ours: &Message, theirs: &NetworkMessage, at: &str) -> usize {
    use NetworkMessage as N;
    match (ours, theirs) {
        (Message::Version(o), N::Version(t)) => {
            assert_eq!(
                o.protocol_version as u32, t.version,
                "{at}: protocol version"
            );
            assert_eq!(o.services.0, t.services.to_u64(), "{at}: services");
            assert_eq!(o.timestamp, t.timestamp, "{at}: timestamp");
            same_net_address(&o.receiver, &t.receiver, &format!("{at} receiver"));
            same_net_address(&o.sender, &t.sender, &format!("{at} sender"));
            assert_eq!(o.nonce, t.nonce, "{at}: nonce");
            assert_eq!(o.user_agent, t.user_agent, "{at}: user agent");
            assert_eq!(o.start_height, t.start_height, "{at}: start height");
            assert_eq!(o.relay, t.relay, "{at}: relay");
            0
        }
        (Message::Verack, N::Verack)
        | (Message::SendAddrV2, N::SendAddrV2)
        | (Message::WtxidRelay, N::WtxidRelay)
        | (Message::GetAddr, N::GetAddr)
        | (Message::SendHeaders, N::SendHeaders)
        | (Message::MemPool, N::MemPool)
        | (Message::FilterClear, N::FilterClear) => 0,
        (Message::Addr(o), N::Addr(t)) => {
            assert_eq!(o.len(), t.len(), "{at}: addr count");
            for (i, (a, (time, b))) in o.iter().zip(t).enumerate() {
                assert_eq!(a.time, *time, "{at}: addr #{i} time");
                same_net_address(a, b, &format!("{at} addr #{i}"));
            }
            o.len()
        }
        (Message::AddrV2(o), N::AddrV2(t)) => {
            assert_eq!(o.len(), t.len(), "{at}: addrv2 count");
            for (i, (a, b)) in o.iter().zip(t).enumerate() {
                assert_eq!(a.time, b.time, "{at}: addrv2 #{i} time");
                assert_eq!(
                    a.services.0,
                    b.services.to_u64(),
                    "{at}: addrv2 #{i} services"
                );
                assert_eq!(a.port, b.port, "{at}: addrv2 #{i} port");
                let same = match (&a.addr, &b.addr) {
                    (AddrV2Address::Ipv4(x), BAddrV2::Ipv4(y)) => x == y,
                    (AddrV2Address::Ipv6(x), BAddrV2::Ipv6(y)) => x == y,
                    (AddrV2Address::TorV2(x), BAddrV2::TorV2(y)) => x == y,
                    (AddrV2Address::TorV3(x), BAddrV2::TorV3(y)) => x == y,
                    _ => false,
                };
                assert!(same, "{at}: addrv2 #{i}: {:?} vs {:?}", a.addr, b.addr);
            }
            o.len()
        }
        (Message::Inv(o), N::Inv(t))
        | (Message::GetData(o), N::GetData(t))
        | (Message::NotFound(o), N::NotFound(t)) => same_inv(o, t, at),
        (Message::GetBlocks(o), N::GetBlocks(t)) => {
            same_locator(o, t.version, &t.locator_hashes, &t.stop_hash, at);
            0
        }
        (Message::GetHeaders(o), N::GetHeaders(t)) => {
            same_locator(o, t.version, &t.locator_hashes, &t.stop_hash, at);
            0
        }
        (Message::Headers(o), N::Headers(t)) => {
            assert_eq!(o.len(), t.len(), "{at}: header count");
            for (i, (a, b)) in o.iter().zip(t).enumerate() {
                same_header(a, b, &format!("{at} header #{i}"));
            }
            o.len()
        }
        (Message::Block(o), N::Block(t)) => {
            same_block(o, t, at);
            0
        }
        (Message::Tx(o), N::Tx(t)) => {
            same_tx(o, t, at);
            0
        }
        (Message::Ping(o), N::Ping(t)) | (Message::Pong(o), N::Pong(t)) => {
            assert_eq!(o, t, "{at}: nonce");
            0
        }
        (Message::FeeFilter(o), N::FeeFilter(t)) => {
            assert_eq!(o, t, "{at}: fee rate");
            0
        }
        (Message::Reject(o), N::Reject(t)) => {
            assert_eq!(o.command, t.message, "{at}: rejected command");
            assert_eq!(o.code.0, t.ccode as u8, "{at}: reject code");
            assert_eq!(o.reason, t.reason, "{at}: reject reason");
            same_hash(&o.hash, t.hash.to_byte_array(), "reject hash", at);
            0
        }
        (Message::MerkleBlock(o), N::MerkleBlock(t)) => {
            same_header(&o.header, &t.header, at);
            assert_eq!(
                o.total_transactions,
                t.txn.num_transactions(),
                "{at}: total txs"
            );
            let theirs: Vec<[u8; 32]> = t.txn.hashes().iter().map(|h| h.to_byte_array()).collect();
            let ours_hashes: Vec<[u8; 32]> = o.hashes.iter().map(|h| h.0).collect();
            assert_eq!(ours_hashes, theirs, "{at}: merkle hashes");
            assert_eq!(o.flags, pack_bits(t.txn.bits()), "{at}: merkle flags");
            0
        }
        (Message::FilterLoad(o), N::FilterLoad(t)) => {
            assert_eq!(o.filter[..], t.filter[..], "{at}: filter");
            assert_eq!(o.hash_funcs, t.hash_funcs, "{at}: hash funcs");
            assert_eq!(o.tweak, t.tweak, "{at}: tweak");
            assert_eq!(o.flags.0, bloom_flag_byte(t.flags), "{at}: bloom flags");
            0
        }
        (Message::FilterAdd(o), N::FilterAdd(t)) => {
            assert_eq!(o, &t.data, "{at}: filteradd data");
            0
        }
        (Message::GetCFilters(o), N::GetCFilters(t)) => {
            assert_eq!(
                (o.filter_type, o.start_height),
                (t.filter_type, t.start_height)
            );
            same_hash(&o.stop_hash, t.stop_hash.to_byte_array(), "stop hash", at);
            0
        }
        (Message::GetCFHeaders(o), N::GetCFHeaders(t)) => {
            assert_eq!(
                (o.filter_type, o.start_height),
                (t.filter_type, t.start_height)
            );
            same_hash(&o.stop_hash, t.stop_hash.to_byte_array(), "stop hash", at);
            0
        }
        (Message::CFilter(o), N::CFilter(t)) => {
            assert_eq!(o.filter_type, t.filter_type, "{at}: filter type");
            same_hash(
                &o.block_hash,
                t.block_hash.to_byte_array(),
                "block hash",
                at,
            );
            assert_eq!(o.filter[..], t.filter[..], "{at}: filter bytes");
            0
        }
        (Message::CFHeaders(o), N::CFHeaders(t)) => {
            assert_eq!(o.filter_type, t.filter_type, "{at}: filter type");
            same_hash(&o.stop_hash, t.stop_hash.to_byte_array(), "stop hash", at);
            let prev = t.previous_filter_header.to_byte_array();
            same_hash(&o.prev_filter_header, prev, "previous filter header", at);
            let theirs: Vec<[u8; 32]> = t.filter_hashes.iter().map(|h| h.to_byte_array()).collect();
            let ours_hashes: Vec<[u8; 32]> = o.filter_hashes.iter().map(|h| h.0).collect();
            assert_eq!(ours_hashes, theirs, "{at}: filter hashes");
            0
        }
        (Message::GetCFCheckpt(o), N::GetCFCheckpt(t)) => {
            assert_eq!(o.filter_type, t.filter_type, "{at}: filter type");
            same_hash(&o.stop_hash, t.stop_hash.to_byte_array(), "stop hash", at);
            0
        }
        (Message::CFCheckpt(o), N::CFCheckpt(t)) => {
            assert_eq!(o.filter_type, t.filter_type, "{at}: filter type");
            same_hash(&o.stop_hash, t.stop_hash.to_byte_array(), "stop hash", at);
            let theirs: Vec<[u8; 32]> =
                t.filter_headers.iter().map(|h| h.to_byte_array()).collect();
            let ours_hashes: Vec<[u8; 32]> = o.filter_headers.iter().map(|h| h.0).collect();
            assert_eq!(ours_hashes, theirs, "{at}: filter headers");
            0
        }
        (Message::SendCmpct(o), N::SendCmpct(t)) => {
            assert_eq!((o.announce, o.version), (t.send_compact, t.version), "{at}");
            0
        }
        (Message::CmpctBlock(o), N::CmpctBlock(t)) => {
            let t = &t.compact_block;
            same_header(&o.header, &t.header, at);
            assert_eq!(o.nonce, t.nonce, "{at}: nonce");
            let theirs: Vec<[u8; 6]> = t.short_ids.iter().map(|id| id.to_bytes()).collect();
            assert_eq!(o.short_ids, theirs, "{at}: short ids");
            assert_eq!(
                o.prefilled.len(),
                t.prefilled_txs.len(),
                "{at}: prefilled count"
            );
            // rust-bitcoin keeps BIP152's differential index; ours is absolute.
            let mut next = 0u32;
            for (i, (p, q)) in o.prefilled.iter().zip(&t.prefilled_txs).enumerate() {
                let index = next + u32::from(q.idx);
                assert_eq!(u32::from(p.index), index, "{at}: prefilled #{i} index");
                next = index + 1;
                same_tx(&p.tx, &q.tx, &format!("{at} prefilled #{i}"));
            }
            0
        }
        (Message::GetBlockTxn(o), N::GetBlockTxn(t)) => {
            let t = &t.txs_request;
            same_hash(
                &o.block_hash,
                t.block_hash.to_byte_array(),
                "block hash",
                at,
            );
            let ours_indexes: Vec<u64> = o.indexes.iter().map(|&i| u64::from(i)).collect();
            assert_eq!(ours_indexes, t.indexes, "{at}: indexes");
            0
        }
        (Message::BlockTxn(o), N::BlockTxn(t)) => {
            let t = &t.transactions;
            same_hash(
                &o.block_hash,
                t.block_hash.to_byte_array(),
                "block hash",
                at,
            );
            assert_eq!(o.transactions.len(), t.transactions.len(), "{at}: tx count");
            for (i, (p, q)) in o.transactions.iter().zip(&t.transactions).enumerate() {
                same_tx(p, q, &format!("{at} tx #{i}"));
            }
            0
        }
        (o, t) => panic!("{at}: different message kinds: ours {o:?}, rust-bitcoin {t:?}"),
    }
}

// ------------------------------------------------------------------------------------------
// Corpus
// ------------------------------------------------------------------------------------------

/// The framed files the corpus README promises; each has its own test below.
const FRAMED_FILES: [&str; 9] = [
    "addr.stream",
    "block413567.frame",
    "block702861.frame",
    "headers.stream",
    "inv.stream",
    "mixed.stream",
    "small.stream",
    "txs.stream",
    "txs_witness.stream",
];

fn corpus_path(name: &str) -> PathBuf {
    Path::new(CORPUS).join(name)
}

fn read_corpus(name: &str) -> Vec<u8> {
    let path = corpus_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("corpus file {} missing: {e}", path.display()))
}

fn manifest() -> serde_json::Value {
    serde_json::from_slice(&read_corpus("MANIFEST.json")).expect("MANIFEST.json parses")
}

fn manifest_file(name: &str) -> serde_json::Value {
    manifest()["files"]
        .as_array()
        .expect("files array")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in MANIFEST.json"))
        .clone()
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

#[derive(Default)]
struct Counts {
    messages: BTreeMap<String, u64>,
    entries: BTreeMap<String, u64>,
}

/// Decodes every frame of `data` with both libraries; checks bytes and meaning.
fn check_stream(name: &str, data: &[u8]) -> (Counts, Vec<Message>) {
    let mut frames = FrameDecoder::new(NET);
    let mut input: &[u8] = data;
    let mut pos = 0;
    let mut counts = Counts::default();
    let mut messages = Vec::new();
    while pos < data.len() {
        let at = format!("{name} message #{} at byte {pos}", messages.len());
        let before = input.len();
        let frame = frames
            .decode(&mut input)
            .unwrap_or_else(|e| panic!("{at}: our frame decoder: {e}"))
            .unwrap_or_else(|| panic!("{at}: our frame decoder wants more bytes"));
        let wire = &data[pos..pos + frame.wire_len()];
        assert_eq!(before - input.len(), wire.len(), "{at}: bytes consumed");

        // rust-bitcoin: decode, check framing, re-encode.
        let (raw, used) = deserialize_partial::<RawNetworkMessage>(&data[pos..])
            .unwrap_or_else(|e| panic!("{at}: rust-bitcoin: {e}"));
        assert_eq!(used, wire.len(), "{at}: rust-bitcoin frame length");
        assert_eq!(*raw.magic(), Magic::BITCOIN, "{at}: magic");
        assert_eq!(
            raw.command().to_string(),
            frame.command.as_str(),
            "{at}: command"
        );
        assert!(
            !matches!(raw.payload(), NetworkMessage::Unknown { .. }),
            "{at}: rust-bitcoin does not know {}",
            frame.command
        );
        let theirs = serialize(&raw);
        assert!(
            theirs == wire,
            "{at}: rust-bitcoin re-encoding differs at byte {}",
            { first_difference(&theirs, wire) }
        );

        // Ours: decode the payload, re-encode the whole frame.
        let msg = Message::decode(frame.command, frame.payload.clone(), &CTX)
            .unwrap_or_else(|e| panic!("{at}: our decoder: {e}"));
        assert!(
            !matches!(msg, Message::Unknown { .. }),
            "{at}: unknown to us"
        );
        assert_eq!(msg.command(), frame.command, "{at}: Message::command");
        let mut ours = BytesMut::new();
        encode_message(NET, &msg, &CTX, &mut ours)
            .unwrap_or_else(|e| panic!("{at}: our encoder: {e}"));
        assert!(
            ours[..] == *wire,
            "{at}: our re-encoding differs at byte {}",
            { first_difference(&ours, wire) }
        );

        let entries = assert_same(&msg, raw.payload(), &at);
        let command = frame.command.as_str().to_owned();
        if matches!(
            msg,
            Message::Inv(_) | Message::Addr(_) | Message::AddrV2(_) | Message::Headers(_)
        ) {
            *counts.entries.entry(command.clone()).or_default() += entries as u64;
        }
        *counts.messages.entry(command).or_default() += 1;
        messages.push(msg);
        pos += wire.len();
    }
    assert!(input.is_empty());
    assert_eq!(frames.buffered(), 0, "{name}: partial frame left over");
    (counts, messages)
}

fn counts_from_json(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the differential check over one corpus file and compares counts with the manifest.
fn check_corpus_file(name: &str) -> Vec<Message> {
    let data = read_corpus(name);
    let entry = manifest_file(name);
    assert_eq!(
        entry["bytes"].as_u64(),
        Some(data.len() as u64),
        "{name}: size"
    );
    let start = std::time::Instant::now();
    let (counts, messages) = check_stream(name, &data);
    let total: u64 = counts.messages.values().sum();
    println!(
        "{name}: {total} messages {:?}, entries {:?} ({:.2?})",
        counts.messages,
        counts.entries,
        start.elapsed()
    );
    assert_eq!(
        Some(total),
        entry["messages"].as_u64(),
        "{name}: message count"
    );
    assert_eq!(
        counts.messages,
        counts_from_json(&entry["commands"]),
        "{name}"
    );
    assert_eq!(
        counts.entries,
        counts_from_json(&entry["entries"]),
        "{name}"
    );
    messages
}

/// A corpus block frame: the payload is the raw block file, the hash and merkle root are the
/// manifest's, and the root recomputed from our own txids matches the header.
fn check_block_frame(frame_name: &str, raw_name: &str, manifest_key: &str, segwit: bool) {
    let messages = check_corpus_file(frame_name);
    let [Message::Block(block)] = &messages[..] else {
        panic!("{frame_name}: expected exactly one block");
    };
    assert!(
        block.as_bytes()[..] == read_corpus(raw_name)[..],
        "{frame_name} vs {raw_name}"
    );
    let info = &manifest()[manifest_key];
    assert_eq!(
        block.block_hash().to_string(),
        info["hash"].as_str().unwrap()
    );
    let header = block.header();
    assert_eq!(
        header.prev_block.to_string(),
        info["prev_hash"].as_str().unwrap()
    );
    assert_eq!(
        header.merkle_root.to_string(),
        info["merkle_root"].as_str().unwrap()
    );
    assert_eq!(Some(block.tx_count() as u64), info["transactions"].as_u64());
    let txids: Vec<[u8; 32]> = block.transactions().map(|t| t.txid().0).collect();
    assert_eq!(
        merkle_root(txids),
        header.merkle_root.0,
        "{frame_name}: merkle root"
    );
    let with_witness = block.transactions().filter(Tx::has_witness).count() as u64;
    assert_eq!(
        Some(with_witness),
        info["transactions_with_witness"].as_u64()
    );
    assert_eq!(block.has_witness(), segwit);
    if segwit {
        // BIP141: the witness root over the wtxids (coinbase as zero) is in the manifest.
        let mut wtxids: Vec<[u8; 32]> = block.transactions().map(|t| t.wtxid().0).collect();
        wtxids[0] = [0; 32];
        let mut root = merkle_root(wtxids);
        root.reverse();
        assert_eq!(hex::encode(root), info["witness_root"].as_str().unwrap());
        // Stripping the witness gives the legacy block rust-bitcoin also produces.
        let mut base = BytesMut::new();
        block.encode(&mut base, Encoding::Base);
        assert_eq!(base.len(), block.encoded_len(Encoding::Base));
        let mut theirs: BBlock = deserialize(block.as_bytes()).unwrap();
        for tx in &mut theirs.txdata {
            for input in &mut tx.input {
                input.witness.clear();
            }
        }
        assert!(
            base[..] == serialize(&theirs)[..],
            "{frame_name}: base encoding"
        );
        let reread = Block::from_bytes(base.freeze(), Encoding::Witness).unwrap();
        assert_eq!(reread.block_hash(), block.block_hash());
        assert!(!reread.has_witness());
    }
}

#[test]
fn corpus_has_no_unexpected_framed_files() {
    let dir = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("corpus directory {CORPUS} missing: {e}"));
    let mut found: Vec<String> = dir
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".stream") || n.ends_with(".frame"))
        .collect();
    found.sort();
    assert_eq!(
        found, FRAMED_FILES,
        "every framed corpus file has a test here"
    );
}

#[test]
fn corpus_addr_stream() {
    check_corpus_file("addr.stream");
}

#[test]
fn corpus_block413567_frame() {
    check_block_frame(
        "block413567.frame",
        "block413567.raw",
        "source_block",
        false,
    );
}

#[test]
fn corpus_block702861_frame() {
    check_block_frame(
        "block702861.frame",
        "block702861.raw",
        "segwit_source_block",
        true,
    );
}

#[test]
fn corpus_headers_stream() {
    let messages = check_corpus_file("headers.stream");
    // The synthetic headers form one chain on top of block 413567.
    let mut prev =
        Hash256::from_display_hex(manifest()["source_block"]["hash"].as_str().unwrap()).unwrap();
    for m in &messages {
        let Message::Headers(headers) = m else {
            panic!("not headers")
        };
        for h in headers {
            assert_eq!(h.prev_block, prev);
            prev = h.block_hash();
        }
    }
}

#[test]
fn corpus_inv_stream() {
    check_corpus_file("inv.stream");
}

#[test]
fn corpus_mixed_stream() {
    check_corpus_file("mixed.stream");
}

#[test]
fn corpus_small_stream() {
    check_corpus_file("small.stream");
}

#[test]
fn corpus_txs_stream() {
    let messages = check_corpus_file("txs.stream");
    assert!(
        messages
            .iter()
            .all(|m| matches!(m, Message::Tx(t) if !t.has_witness()))
    );
}

#[test]
fn corpus_txs_witness_stream() {
    let messages = check_corpus_file("txs_witness.stream");
    let info = &manifest()["segwit_source_block"];
    let with_witness = messages
        .iter()
        .filter(|m| matches!(m, Message::Tx(t) if t.has_witness()))
        .count() as u64;
    assert_eq!(
        Some(with_witness),
        info["transactions_with_witness"].as_u64()
    );
    // The stream's txids rebuild block 702861's merkle root.
    let txids: Vec<[u8; 32]> = messages
        .iter()
        .map(|m| match m {
            Message::Tx(t) => t.txid().0,
            other => panic!("not a tx: {other:?}"),
        })
        .collect();
    let mut root = merkle_root(txids);
    root.reverse();
    assert_eq!(hex::encode(root), info["merkle_root"].as_str().unwrap());
}

// ------------------------------------------------------------------------------------------
// Property tests: encode with each library, decode with the other
// ------------------------------------------------------------------------------------------

/// Encodes `ours` with bitpeer and `theirs` with rust-bitcoin: the frames must be identical.
/// Then each library decodes the other's frame: rust-bitcoin must get back `theirs`, we must get
/// back `ours`, and the two decodings must mean the same.
fn cross_check(ours: &Message, theirs: &NetworkMessage) -> Result<(), TestCaseError> {
    let mut ours_wire = BytesMut::new();
    encode_message(NET, ours, &CTX, &mut ours_wire)
        .map_err(|e| TestCaseError::fail(format!("our encoder: {e}")))?;
    let theirs_wire = serialize(&RawNetworkMessage::new(Magic::BITCOIN, theirs.clone()));
    prop_assert_eq!(hex::encode(&ours_wire), hex::encode(&theirs_wire));

    // Ours -> rust-bitcoin.
    let decoded: RawNetworkMessage = deserialize(&ours_wire)
        .map_err(|e| TestCaseError::fail(format!("rust-bitcoin decoder: {e}")))?;
    match (decoded.payload(), theirs) {
        // rust-bitcoin keeps merkle flag bits as a `Vec<bool>` and reads whole bytes back, so
        // its own round trip pads the bits to a multiple of 8; compare everything else exactly.
        (NetworkMessage::MerkleBlock(d), NetworkMessage::MerkleBlock(t)) => {
            let mut padded = t.txn.bits().clone();
            padded.resize(t.txn.bits().len().div_ceil(8) * 8, false);
            prop_assert_eq!(d.header, t.header);
            prop_assert_eq!(d.txn.num_transactions(), t.txn.num_transactions());
            prop_assert_eq!(d.txn.hashes(), t.txn.hashes());
            prop_assert_eq!(d.txn.bits(), &padded);
        }
        (d, t) => prop_assert_eq!(d, t),
    }

    // rust-bitcoin -> ours, through the streaming frame decoder.
    let mut frames = FrameDecoder::new(NET);
    let mut input: &[u8] = &theirs_wire;
    let frame = frames
        .decode(&mut input)
        .map_err(|e| TestCaseError::fail(format!("our frame decoder: {e}")))?
        .ok_or_else(|| TestCaseError::fail("our frame decoder wants more"))?;
    prop_assert!(input.is_empty());
    let back = Message::decode(frame.command, frame.payload, &CTX)
        .map_err(|e| TestCaseError::fail(format!("our decoder: {e}")))?;
    prop_assert_eq!(&back, ours);
    assert_same(&back, decoded.payload(), "property");
    Ok(())
}

fn hash32() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

/// Values that exercise every CompactSize width.
fn wide_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..0xfd,
        0xfdu64..=0xffff,
        0x1_0000u64..=0xffff_ffff,
        any::<u64>(),
    ]
}

fn services() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1 | 8 | 1024), wide_u64()]
}

/// A legacy address (IPv4-mapped or any 16 bytes) in both representations.
fn net_address(time: bool) -> impl Strategy<Value = (NetAddress, BAddress)> {
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| Ipv4Addr::from(b).to_ipv6_mapped()),
        any::<[u8; 16]>().prop_map(Ipv6Addr::from),
    ];
    (any::<u32>(), services(), ip, any::<u16>()).prop_map(move |(t, services, ip, port)| {
        let ours = NetAddress {
            time: if time { t } else { 0 },
            services: ServiceFlags(services),
            ip,
            port,
        };
        let theirs = BAddress {
            services: BServices::from(services),
            address: ip.segments(),
            port,
        };
        (ours, theirs)
    })
}

fn header() -> impl Strategy<Value = (BlockHeader, BHeader)> {
    (
        any::<i32>(),
        hash32(),
        hash32(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(version, prev, root, time, bits, nonce)| {
            let ours = BlockHeader {
                version,
                prev_block: Hash256(prev),
                merkle_root: Hash256(root),
                time,
                bits,
                nonce,
            };
            let theirs = BHeader {
                version: BBlockVersion::from_consensus(version),
                prev_blockhash: BlockHash::from_byte_array(prev),
                merkle_root: TxMerkleNode::from_byte_array(root),
                time,
                bits: CompactTarget::from_consensus(bits),
                nonce,
            };
            (ours, theirs)
        })
}

/// Script-like bytes, sometimes long enough for a 3-byte CompactSize.
fn script() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => proptest::collection::vec(any::<u8>(), 250..300),
    ]
}

#[derive(Clone, Debug)]
struct InputModel {
    prev: [u8; 32],
    vout: u32,
    script_sig: Vec<u8>,
    sequence: u32,
    witness: Vec<Vec<u8>>,
}

#[derive(Clone, Debug)]
struct TxModel {
    version: i32,
    inputs: Vec<InputModel>,
    outputs: Vec<(u64, Vec<u8>)>,
    lock_time: u32,
}

impl TxModel {
    fn has_witness(&self) -> bool {
        self.inputs.iter().any(|i| !i.witness.is_empty())
    }

    /// The BIP144 serialization, written independently of both libraries.
    fn write(&self, out: &mut BytesMut) {
        fn compact(out: &mut BytesMut, n: usize) {
            match n {
                0..=0xfc => out.put_u8(n as u8),
                0xfd..=0xffff => {
                    out.put_u8(0xfd);
                    out.put_u16_le(n as u16);
                }
                _ => {
                    out.put_u8(0xfe);
                    out.put_u32_le(n as u32);
                }
            }
        }
        out.put_i32_le(self.version);
        let segwit = self.has_witness();
        if segwit {
            out.put_slice(&[0x00, 0x01]);
        }
        compact(out, self.inputs.len());
        for i in &self.inputs {
            out.put_slice(&i.prev);
            out.put_u32_le(i.vout);
            compact(out, i.script_sig.len());
            out.put_slice(&i.script_sig);
            out.put_u32_le(i.sequence);
        }
        compact(out, self.outputs.len());
        for (value, script) in &self.outputs {
            out.put_u64_le(*value);
            compact(out, script.len());
            out.put_slice(script);
        }
        if segwit {
            for i in &self.inputs {
                compact(out, i.witness.len());
                for item in &i.witness {
                    compact(out, item.len());
                    out.put_slice(item);
                }
            }
        }
        out.put_u32_le(self.lock_time);
    }

    fn ours(&self) -> Tx {
        let mut out = BytesMut::new();
        self.write(&mut out);
        Tx::from_bytes(out.freeze(), Encoding::Witness).expect("model tx decodes")
    }

    fn theirs(&self) -> Transaction {
        Transaction {
            version: BTxVersion(self.version),
            lock_time: LockTime::from_consensus(self.lock_time),
            input: self
                .inputs
                .iter()
                .map(|i| TxIn {
                    previous_output: OutPoint {
                        txid: Txid::from_byte_array(i.prev),
                        vout: i.vout,
                    },
                    script_sig: ScriptBuf::from_bytes(i.script_sig.clone()),
                    sequence: Sequence(i.sequence),
                    witness: Witness::from_slice(&i.witness),
                })
                .collect(),
            output: self
                .outputs
                .iter()
                .map(|(value, script)| TxOut {
                    value: Amount::from_sat(*value),
                    script_pubkey: ScriptBuf::from_bytes(script.clone()),
                })
                .collect(),
        }
    }
}

/// Small random transactions, about half with witness data. At least one input: both
/// libraries read a zero input count as the BIP144 marker.
fn tx_model() -> impl Strategy<Value = TxModel> {
    let input = (
        hash32(),
        any::<u32>(),
        script(),
        any::<u32>(),
        proptest::collection::vec(script(), 0..4),
    )
        .prop_map(|(prev, vout, script_sig, sequence, witness)| InputModel {
            prev,
            vout,
            script_sig,
            sequence,
            witness,
        });
    let output = (0u64..=21_000_000 * 100_000_000, script());
    (
        any::<i32>(),
        proptest::collection::vec(input, 1..5),
        proptest::collection::vec(output, 0..5),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(version, mut inputs, outputs, lock_time, segwit)| {
            if !segwit {
                inputs.iter_mut().for_each(|i| i.witness.clear());
            } else if inputs.iter().all(|i| i.witness.is_empty()) {
                inputs[0].witness.push(vec![0x30; 71]);
            }
            TxModel {
                version,
                inputs,
                outputs,
                lock_time,
            }
        })
}

fn inv_list() -> impl Strategy<Value = (Vec<InvVect>, Vec<Inventory>)> {
    let inv_type = prop_oneof![
        prop::sample::select(vec![
            0u32,
            1,
            2,
            3,
            4,
            5,
            0x4000_0001,
            0x4000_0002,
            0x4000_0003
        ]),
        any::<u32>(),
    ];
    proptest::collection::vec((inv_type, hash32()), 0..40).prop_map(|v| {
        let ours = v
            .iter()
            .map(|&(t, h)| InvVect::new(InvType(t), Hash256(h)))
            .collect();
        let theirs = v.iter().map(|&(t, h)| b_inv(t, h)).collect();
        (ours, theirs)
    })
}

fn locator() -> impl Strategy<Value = (GetBlocks, u32, Vec<BlockHash>, BlockHash)> {
    (
        any::<u32>(),
        proptest::collection::vec(hash32(), 0..30),
        hash32(),
    )
        .prop_map(|(version, hashes, stop)| {
            let ours = GetBlocks {
                version,
                locator: hashes.iter().map(|h| Hash256(*h)).collect(),
                stop: Hash256(stop),
            };
            let theirs = hashes
                .iter()
                .map(|h| BlockHash::from_byte_array(*h))
                .collect();
            (ours, version, theirs, BlockHash::from_byte_array(stop))
        })
}

/// A UTF-8 string of at most 160 bytes (valid UTF-8 decodes identically in both libraries).
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,40}", ".{0,40}",]
}

fn addrv2_entry() -> impl Strategy<Value = (AddrV2, AddrV2Message)> {
    let ipv6 =
        any::<[u8; 16]>().prop_filter("plain IPv6 (BIP155: not mapped, not OnionCat)", |b| {
            b[..12] != [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
                && b[..6] != [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43]
        });
    let addr = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| (AddrV2Address::Ipv4(b.into()), BAddrV2::Ipv4(b.into()))),
        ipv6.prop_map(|b| (AddrV2Address::Ipv6(b.into()), BAddrV2::Ipv6(b.into()))),
        any::<[u8; 10]>().prop_map(|b| (AddrV2Address::TorV2(b), BAddrV2::TorV2(b))),
        hash32().prop_map(|b| (AddrV2Address::TorV3(b), BAddrV2::TorV3(b))),
    ];
    (any::<u32>(), services(), addr, any::<u16>()).prop_map(|(time, services, (a, b), port)| {
        let ours = AddrV2 {
            time,
            services: ServiceFlags(services),
            addr: a,
            port,
        };
        let theirs = AddrV2Message {
            time,
            services: BServices::from(services),
            addr: b,
            port,
        };
        (ours, theirs)
    })
}

fn reject_code() -> impl Strategy<Value = RejectReason> {
    prop::sample::select(vec![
        RejectReason::Malformed,
        RejectReason::Invalid,
        RejectReason::Obsolete,
        RejectReason::Duplicate,
        RejectReason::NonStandard,
        RejectReason::Dust,
        RejectReason::Fee,
        RejectReason::Checkpoint,
    ])
}

fn filter_hashes() -> impl Strategy<Value = Vec<[u8; 32]>> {
    proptest::collection::vec(hash32(), 0..30)
}

fn bloom_flags() -> impl Strategy<Value = BBloomFlags> {
    prop::sample::select(vec![
        BBloomFlags::None,
        BBloomFlags::All,
        BBloomFlags::PubkeyOnly,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_version(
        protocol in any::<u32>(),
        services in services(),
        timestamp in any::<i64>(),
        (receiver, b_receiver) in net_address(false),
        (sender, b_sender) in net_address(false),
        nonce in any::<u64>(),
        user_agent in text(),
        start_height in any::<i32>(),
        relay in any::<bool>(),
    ) {
        let ours = Message::Version(Version {
            protocol_version: protocol as i32,
            services: ServiceFlags(services),
            timestamp,
            receiver,
            sender,
            nonce,
            user_agent: user_agent.clone(),
            start_height,
            relay,
        });
        let theirs = NetworkMessage::Version(VersionMessage {
            version: protocol,
            services: BServices::from(services),
            timestamp,
            receiver: b_receiver,
            sender: b_sender,
            nonce,
            user_agent,
            start_height,
            relay,
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_addr(list in proptest::collection::vec(net_address(true), 0..30)) {
        let ours = Message::Addr(list.iter().map(|(a, _)| *a).collect());
        let theirs = NetworkMessage::Addr(list.into_iter().map(|(a, b)| (a.time, b)).collect());
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_addrv2(list in proptest::collection::vec(addrv2_entry(), 0..30)) {
        let ours = Message::AddrV2(list.iter().map(|(a, _)| *a).collect());
        let theirs = NetworkMessage::AddrV2(list.into_iter().map(|(_, b)| b).collect());
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_inventory((ours, theirs) in inv_list(), kind in 0..3u8) {
        let (ours, theirs) = match kind {
            0 => (Message::Inv(ours), NetworkMessage::Inv(theirs)),
            1 => (Message::GetData(ours), NetworkMessage::GetData(theirs)),
            _ => (Message::NotFound(ours), NetworkMessage::NotFound(theirs)),
        };
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_getblocks_getheaders(
        (ours, version, hashes, stop) in locator(),
        headers in any::<bool>(),
    ) {
        let (ours, theirs) = if headers {
            let t = GetHeadersMessage { version, locator_hashes: hashes, stop_hash: stop };
            (Message::GetHeaders(ours), NetworkMessage::GetHeaders(t))
        } else {
            let t = GetBlocksMessage { version, locator_hashes: hashes, stop_hash: stop };
            (Message::GetBlocks(ours), NetworkMessage::GetBlocks(t))
        };
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_headers(list in proptest::collection::vec(header(), 0..30)) {
        let ours = Message::Headers(list.iter().map(|(a, _)| *a).collect());
        let theirs = NetworkMessage::Headers(list.into_iter().map(|(_, b)| b).collect());
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_tx(model in tx_model()) {
        let tx = model.ours();
        prop_assert_eq!(tx.has_witness(), model.has_witness());
        cross_check(&Message::Tx(tx.clone()), &NetworkMessage::Tx(model.theirs()))?;

        // Legacy (non-witness) encoding: rust-bitcoin's serialization of the stripped tx, and
        // it reads back in either encoding with the same txid.
        let mut stripped = model.clone();
        stripped.inputs.iter_mut().for_each(|i| i.witness.clear());
        let base_ctx = CTX.with_encoding(Encoding::Base);
        let mut wire = BytesMut::new();
        encode_message(NET, &Message::Tx(tx.clone()), &base_ctx, &mut wire).unwrap();
        let theirs_wire = serialize(&RawNetworkMessage::new(
            Magic::BITCOIN,
            NetworkMessage::Tx(stripped.theirs()),
        ));
        prop_assert_eq!(hex::encode(&wire), hex::encode(&theirs_wire));
        for ctx in [base_ctx, CTX] {
            let Ok(Message::Tx(back)) = Message::decode(
                bitpeer::wire::Command::TX,
                Bytes::copy_from_slice(&wire[24..]),
                &ctx,
            ) else {
                return Err(TestCaseError::fail("legacy tx does not decode"));
            };
            prop_assert_eq!(back.txid(), tx.txid());
            prop_assert!(!back.has_witness());
        }
    }

    #[test]
    fn prop_block(
        (ours_header, theirs_header) in header(),
        txs in proptest::collection::vec(tx_model(), 1..5),
    ) {
        let mut raw = BytesMut::new();
        raw.put_slice(&ours_header.to_bytes());
        raw.put_u8(txs.len() as u8);
        for t in &txs {
            t.write(&mut raw);
        }
        let block = Block::from_bytes(raw.freeze(), Encoding::Witness)
            .map_err(|e| TestCaseError::fail(format!("model block: {e}")))?;
        let theirs = BBlock {
            header: theirs_header,
            txdata: txs.iter().map(TxModel::theirs).collect(),
        };
        cross_check(&Message::Block(block), &NetworkMessage::Block(theirs))?;
    }

    #[test]
    fn prop_ping_pong(nonce in any::<u64>(), pong in any::<bool>()) {
        if pong {
            cross_check(&Message::Pong(nonce), &NetworkMessage::Pong(nonce))?;
        } else {
            cross_check(&Message::Ping(nonce), &NetworkMessage::Ping(nonce))?;
        }
    }

    /// rust-bitcoin only decodes fee rates in 0..=MAX_MONEY (see `feefilter_out_of_money_range`).
    #[test]
    fn prop_feefilter(fee in 0i64..=21_000_000 * 100_000_000) {
        cross_check(&Message::FeeFilter(fee), &NetworkMessage::FeeFilter(fee))?;
    }

    #[test]
    fn prop_filterload(
        filter in proptest::collection::vec(any::<u8>(), 0..300),
        hash_funcs in 0u32..=50,
        tweak in any::<u32>(),
        flags in bloom_flags(),
    ) {
        let ours = Message::FilterLoad(bitpeer::wire::FilterLoad {
            filter: Bytes::from(filter.clone()),
            hash_funcs,
            tweak,
            flags: BloomFlags(bloom_flag_byte(flags)),
        });
        let theirs = NetworkMessage::FilterLoad(BFilterLoad { filter, hash_funcs, tweak, flags });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_filteradd(data in proptest::collection::vec(any::<u8>(), 0..=520)) {
        let theirs = NetworkMessage::FilterAdd(FilterAdd { data: data.clone() });
        cross_check(&Message::FilterAdd(data), &theirs)?;
    }

    /// rust-bitcoin's partial merkle tree can only be built from a real tree, so the trees here
    /// are genuine BIP37 trees over random txids.
    #[test]
    fn prop_merkleblock(
        (ours_header, theirs_header) in header(),
        leaves in proptest::collection::vec((hash32(), any::<bool>()), 1..40),
    ) {
        let txids: Vec<Txid> = leaves.iter().map(|(h, _)| Txid::from_byte_array(*h)).collect();
        let matches: Vec<bool> = leaves.iter().map(|(_, m)| *m).collect();
        let txn = PartialMerkleTree::from_txids(&txids, &matches);
        let ours = Message::MerkleBlock(MerkleBlock {
            header: ours_header,
            total_transactions: txn.num_transactions(),
            hashes: txn.hashes().iter().map(|h| Hash256(h.to_byte_array())).collect(),
            flags: pack_bits(txn.bits()),
        });
        let theirs = NetworkMessage::MerkleBlock(BMerkleBlock { header: theirs_header, txn });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_getcfilters_getcfheaders(
        filter_type in any::<u8>(),
        start_height in any::<u32>(),
        stop in hash32(),
        headers in any::<bool>(),
    ) {
        let ours = GetCFilters { filter_type, start_height, stop_hash: Hash256(stop) };
        let stop_hash = BlockHash::from_byte_array(stop);
        let (ours, theirs) = if headers {
            let t = bf::GetCFHeaders { filter_type, start_height, stop_hash };
            (Message::GetCFHeaders(ours), NetworkMessage::GetCFHeaders(t))
        } else {
            let t = bf::GetCFilters { filter_type, start_height, stop_hash };
            (Message::GetCFilters(ours), NetworkMessage::GetCFilters(t))
        };
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_cfilter(
        filter_type in any::<u8>(),
        block in hash32(),
        filter in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let ours = Message::CFilter(CFilter {
            filter_type,
            block_hash: Hash256(block),
            filter: Bytes::from(filter.clone()),
        });
        let theirs = NetworkMessage::CFilter(bf::CFilter {
            filter_type,
            block_hash: BlockHash::from_byte_array(block),
            filter,
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_cfheaders(
        filter_type in any::<u8>(),
        stop in hash32(),
        prev in hash32(),
        hashes in filter_hashes(),
    ) {
        let ours = Message::CFHeaders(CFHeaders {
            filter_type,
            stop_hash: Hash256(stop),
            prev_filter_header: Hash256(prev),
            filter_hashes: hashes.iter().map(|h| Hash256(*h)).collect(),
        });
        let theirs = NetworkMessage::CFHeaders(bf::CFHeaders {
            filter_type,
            stop_hash: BlockHash::from_byte_array(stop),
            previous_filter_header: FilterHeader::from_byte_array(prev),
            filter_hashes: hashes.iter().map(|h| FilterHash::from_byte_array(*h)).collect(),
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_getcfcheckpt(filter_type in any::<u8>(), stop in hash32()) {
        let ours = Message::GetCFCheckpt(GetCFCheckpt { filter_type, stop_hash: Hash256(stop) });
        let theirs = NetworkMessage::GetCFCheckpt(bf::GetCFCheckpt {
            filter_type,
            stop_hash: BlockHash::from_byte_array(stop),
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_cfcheckpt(filter_type in any::<u8>(), stop in hash32(), hashes in filter_hashes()) {
        let ours = Message::CFCheckpt(CFCheckpt {
            filter_type,
            stop_hash: Hash256(stop),
            filter_headers: hashes.iter().map(|h| Hash256(*h)).collect(),
        });
        let theirs = NetworkMessage::CFCheckpt(bf::CFCheckpt {
            filter_type,
            stop_hash: BlockHash::from_byte_array(stop),
            filter_headers: hashes.iter().map(|h| FilterHeader::from_byte_array(*h)).collect(),
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_sendcmpct(announce in any::<bool>(), version in any::<u64>()) {
        cross_check(
            &Message::SendCmpct(SendCmpct { announce, version }),
            &NetworkMessage::SendCmpct(BSendCmpct { send_compact: announce, version }),
        )?;
    }

    #[test]
    fn prop_cmpctblock(
        (ours_header, theirs_header) in header(),
        nonce in any::<u64>(),
        short_ids in proptest::collection::vec(any::<[u8; 6]>(), 0..40),
        prefilled in proptest::collection::vec((any::<u16>(), tx_model()), 0..4),
    ) {
        let mut prefilled = prefilled;
        prefilled.sort_by_key(|p| p.0);
        prefilled.dedup_by_key(|p| p.0);
        let mut next = 0;
        let theirs_prefilled = prefilled
            .iter()
            .map(|(index, model)| {
                let idx = index - next;
                next = index + 1;
                PrefilledTransaction { idx, tx: model.theirs() }
            })
            .collect();
        let ours = Message::CmpctBlock(CmpctBlock {
            header: ours_header,
            nonce,
            short_ids: short_ids.clone(),
            prefilled: prefilled
                .iter()
                .map(|(index, model)| PrefilledTx { index: *index, tx: model.ours() })
                .collect(),
        });
        let theirs = NetworkMessage::CmpctBlock(BCmpctBlock {
            compact_block: HeaderAndShortIds {
                header: theirs_header,
                nonce,
                short_ids: short_ids.into_iter().map(ShortId::from).collect(),
                prefilled_txs: theirs_prefilled,
            },
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_getblocktxn(
        block in hash32(),
        indexes in proptest::collection::btree_set(any::<u16>(), 0..40),
    ) {
        let ours = Message::GetBlockTxn(GetBlockTxn {
            block_hash: Hash256(block),
            indexes: indexes.iter().copied().collect(),
        });
        let theirs = NetworkMessage::GetBlockTxn(BGetBlockTxn {
            txs_request: BlockTransactionsRequest {
                block_hash: BlockHash::from_byte_array(block),
                indexes: indexes.iter().map(|&i| u64::from(i)).collect(),
            },
        });
        cross_check(&ours, &theirs)?;
    }

    #[test]
    fn prop_blocktxn(block in hash32(), txs in proptest::collection::vec(tx_model(), 0..4)) {
        let ours = Message::BlockTxn(BlockTxn {
            block_hash: Hash256(block),
            transactions: txs.iter().map(TxModel::ours).collect(),
        });
        let theirs = NetworkMessage::BlockTxn(BBlockTxn {
            transactions: BlockTransactions {
                block_hash: BlockHash::from_byte_array(block),
                transactions: txs.iter().map(TxModel::theirs).collect(),
            },
        });
        cross_check(&ours, &theirs)?;
    }

    /// Only `tx` and `block` rejects: for other commands rust-bitcoin always writes a hash
    /// (see `reject_hash_only_for_tx_and_block`).
    #[test]
    fn prop_reject(
        block in any::<bool>(),
        code in reject_code(),
        reason in text(),
        hash in hash32(),
    ) {
        let command = if block { "block" } else { "tx" };
        let ours = Message::Reject(Reject {
            command: command.into(),
            code: RejectCode(code as u8),
            reason: reason.clone(),
            hash: Hash256(hash),
        });
        let theirs = NetworkMessage::Reject(BReject {
            message: command.into(),
            ccode: code,
            reason: reason.into(),
            hash: sha256d::Hash::from_byte_array(hash),
        });
        cross_check(&ours, &theirs)?;
    }
}

#[test]
fn empty_messages() {
    let pairs = [
        (Message::Verack, NetworkMessage::Verack),
        (Message::SendHeaders, NetworkMessage::SendHeaders),
        (Message::GetAddr, NetworkMessage::GetAddr),
        (Message::MemPool, NetworkMessage::MemPool),
        (Message::FilterClear, NetworkMessage::FilterClear),
        (Message::WtxidRelay, NetworkMessage::WtxidRelay),
        (Message::SendAddrV2, NetworkMessage::SendAddrV2),
    ];
    for (ours, theirs) in &pairs {
        cross_check(ours, theirs).unwrap_or_else(|e| panic!("{}: {e}", ours.command()));
    }
}

// ------------------------------------------------------------------------------------------
// Deliberate disagreements, pinned
// ------------------------------------------------------------------------------------------

fn theirs_frame(msg: NetworkMessage) -> Vec<u8> {
    serialize(&RawNetworkMessage::new(Magic::BITCOIN, msg))
}

fn ours_decode(wire: &[u8]) -> Result<Message, DecodeError> {
    let mut frames = FrameDecoder::new(NET);
    let mut input = wire;
    let frame = frames
        .decode(&mut input)
        .expect("frame")
        .expect("whole frame");
    assert!(input.is_empty());
    Message::decode(frame.command, frame.payload, &CTX)
}

fn ours_frame(msg: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_message(NET, msg, &CTX, &mut out).expect("encodes");
    out.to_vec()
}

/// BIP61 and btcd (WIRE.md section 4: "hash 32 iff cmd == block or tx"), like Bitcoin Core, put
/// the hash on the wire only when rejecting a `block` or `tx`. rust-bitcoin always writes and
/// reads it. rust-bitcoin is wrong here; we keep the BIP61 layout.
#[test]
fn reject_hash_only_for_tx_and_block() {
    let theirs = BReject {
        message: "version".into(),
        ccode: RejectReason::Obsolete,
        reason: "too old".into(),
        hash: sha256d::Hash::all_zeros(),
    };
    let wire = theirs_frame(NetworkMessage::Reject(theirs));
    assert_eq!(
        ours_decode(&wire),
        Err(DecodeError::TrailingBytes { extra: 32 })
    );
    let ours = Message::Reject(Reject {
        command: "version".into(),
        code: RejectCode::OBSOLETE,
        reason: "too old".into(),
        hash: Hash256::ZERO,
    });
    let ours_wire = ours_frame(&ours);
    assert_eq!(ours_wire.len() + 32, wire.len());
    assert!(deserialize::<RawNetworkMessage>(&ours_wire).is_err());
}

/// BIP155 entries of networks btcd does not keep (I2P, CJDNS, unknown ids; WIRE.md 2.5) are read
/// and dropped by us; rust-bitcoin keeps them. An IPv4-mapped IPv6 entry is dropped by us (btcd)
/// but fails the whole message in rust-bitcoin; BIP155 says such entries should be ignored,
/// which is what we do.
#[test]
fn addrv2_entries_we_skip() {
    let entry = |addr| AddrV2Message {
        time: 7,
        services: BServices::NETWORK,
        addr,
        port: 8333,
    };
    let wire = theirs_frame(NetworkMessage::AddrV2(vec![
        entry(BAddrV2::Ipv4(Ipv4Addr::new(1, 2, 3, 4))),
        entry(BAddrV2::I2p([9; 32])),
        entry(BAddrV2::Cjdns("fc00::1".parse().unwrap())),
        entry(BAddrV2::Unknown(42, vec![1, 2, 3, 4, 5, 6, 7])),
        entry(BAddrV2::Ipv4(Ipv4Addr::new(5, 6, 7, 8))),
    ]));
    let Ok(Message::AddrV2(list)) = ours_decode(&wire) else {
        panic!("addrv2 with skipped entries must decode");
    };
    let kept: Vec<AddrV2Address> = list.iter().map(|a| a.addr).collect();
    assert_eq!(
        kept,
        [
            AddrV2Address::Ipv4(Ipv4Addr::new(1, 2, 3, 4)),
            AddrV2Address::Ipv4(Ipv4Addr::new(5, 6, 7, 8))
        ]
    );

    let mapped = theirs_frame(NetworkMessage::AddrV2(vec![
        entry(BAddrV2::Ipv6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped())),
        entry(BAddrV2::Ipv4(Ipv4Addr::new(1, 2, 3, 4))),
    ]));
    assert!(deserialize::<RawNetworkMessage>(&mapped).is_err());
    let Ok(Message::AddrV2(list)) = ours_decode(&mapped) else {
        panic!("addrv2 with a mapped entry must decode");
    };
    assert_eq!(list.len(), 1);
}

/// btcd reads `feefilter` as any int64 (WIRE.md section 4); Core ignores out-of-range values
/// after decoding. rust-bitcoin rejects values outside 0..=MAX_MONEY at decode time. We follow
/// btcd: the decoder returns the value and policy is the peer's business.
#[test]
fn feefilter_out_of_money_range() {
    for fee in [-1i64, i64::MIN, 21_000_000 * 100_000_000 + 1, i64::MAX] {
        let wire = ours_frame(&Message::FeeFilter(fee));
        assert_eq!(ours_decode(&wire), Ok(Message::FeeFilter(fee)));
        assert!(deserialize::<RawNetworkMessage>(&wire).is_err(), "{fee}");
    }
}

/// Values rust-bitcoin has no enum variant for are kept raw by us (btcd: plain uint8 fields):
/// unknown reject codes and bloom update flags. The other way round, a filterload with more than
/// 50 hash functions is refused by us (BIP37 MAX_HASH_FUNCS, btcd MaxFilterLoadHashFuncs) while
/// rust-bitcoin accepts it.
#[test]
fn raw_codes_and_bloom_limits() {
    let reject = Message::Reject(Reject {
        command: "tx".into(),
        code: RejectCode(0x99),
        reason: String::new(),
        hash: Hash256([3; 32]),
    });
    let wire = ours_frame(&reject);
    assert_eq!(ours_decode(&wire), Ok(reject));
    assert!(deserialize::<RawNetworkMessage>(&wire).is_err());

    let load = Message::FilterLoad(bitpeer::wire::FilterLoad {
        filter: Bytes::from_static(&[1, 2, 3]),
        hash_funcs: 3,
        tweak: 9,
        flags: BloomFlags(3),
    });
    let wire = ours_frame(&load);
    assert_eq!(ours_decode(&wire), Ok(load));
    assert!(deserialize::<RawNetworkMessage>(&wire).is_err());

    let wire = theirs_frame(NetworkMessage::FilterLoad(BFilterLoad {
        filter: vec![0; 8],
        hash_funcs: 51,
        tweak: 0,
        flags: BBloomFlags::None,
    }));
    assert!(deserialize::<RawNetworkMessage>(&wire).is_ok());
    assert!(matches!(
        ours_decode(&wire),
        Err(DecodeError::TooMany { count: 51, .. })
    ));
}

/// A `version` from a peer older than BIP37 has no relay byte; btcd and Core read it as
/// relay = true (WIRE.md 4.1: fields after addr_recv are optional). rust-bitcoin requires every
/// field. We follow btcd and Core.
#[test]
fn version_without_relay_byte() {
    let theirs = VersionMessage {
        version: 60_002,
        services: BServices::NETWORK,
        timestamp: 1_700_000_000,
        receiver: BAddress::new(&"1.2.3.4:8333".parse().unwrap(), BServices::NONE),
        sender: BAddress::new(&"5.6.7.8:8333".parse().unwrap(), BServices::NETWORK),
        nonce: 42,
        user_agent: "/old:0.1/".into(),
        start_height: 100,
        relay: false,
    };
    let full = serialize(&theirs);
    let mut payload = BytesMut::new();
    payload.put_slice(&full[..full.len() - 1]);
    let mut wire = BytesMut::new();
    bitpeer::wire::encode_frame(NET, bitpeer::wire::Command::VERSION, &payload, &mut wire).unwrap();
    assert!(deserialize::<RawNetworkMessage>(&wire).is_err());
    let Ok(Message::Version(v)) = ours_decode(&wire) else {
        panic!("version without relay byte must decode");
    };
    assert!(v.relay);
    assert_eq!(v.user_agent, "/old:0.1/");
    assert_eq!(v.start_height, 100);
    assert_eq!(
        v.sender.ip_addr(),
        "5.6.7.8".parse::<std::net::IpAddr>().unwrap()
    );
}

/// BIP152 transaction indexes are 16 bits: Bitcoin Core rejects a `cmpctblock` with more than
/// `u16::MAX` short ids and prefilled transactions together ("indexes overflowed 16 bits"), and
/// so does rust-bitcoin's newer `encoding` decoder, but not the consensus decoder behind
/// `RawNetworkMessage` in 0.32. We follow Core (we used to accept up to 100 000), on decode and
/// encode.
#[test]
fn cmpctblock_entry_limit() {
    let header = BHeader {
        version: BBlockVersion::from_consensus(4),
        prev_blockhash: BlockHash::all_zeros(),
        merkle_root: TxMerkleNode::all_zeros(),
        time: 1,
        bits: CompactTarget::from_consensus(0x1d00_ffff),
        nonce: 2,
    };
    let cmpct = |n: usize| {
        NetworkMessage::CmpctBlock(BCmpctBlock {
            compact_block: HeaderAndShortIds {
                header,
                nonce: 3,
                short_ids: (0..n as u64)
                    .map(|i| {
                        let b = i.to_le_bytes();
                        ShortId::from([b[0], b[1], b[2], b[3], b[4], b[5]])
                    })
                    .collect(),
                prefilled_txs: Vec::new(),
            },
        })
    };
    let at_limit = cmpct(u16::MAX as usize);
    let wire = theirs_frame(at_limit.clone());
    let raw: RawNetworkMessage = deserialize(&wire).expect("rust-bitcoin accepts 65535");
    let ours = ours_decode(&wire).expect("we accept 65535");
    assert_same(&ours, raw.payload(), "65535 short ids");
    assert_eq!(ours_frame(&ours), wire);

    let over = theirs_frame(cmpct(u16::MAX as usize + 1));
    assert!(deserialize::<RawNetworkMessage>(&over).is_ok());
    assert!(matches!(
        ours_decode(&over),
        Err(DecodeError::TooMany { count: 65_536, .. })
    ));
    let Message::CmpctBlock(mut c) = ours else {
        unreachable!()
    };
    c.short_ids.push([0xff; 6]);
    let mut out = BytesMut::new();
    let too_many = encode_message(NET, &Message::CmpctBlock(c), &CTX, &mut out);
    assert!(too_many.is_err());
    assert!(out.is_empty());
}

/// A user agent that is not UTF-8: btcd and Core read the raw bytes (Core sanitizes them for
/// display only), rust-bitcoin rejects the message. We accept it and store the string with
/// invalid sequences replaced (our `Version::user_agent` is a `String`), so such a version
/// re-encodes to different bytes; everything else in it is read exactly.
#[test]
fn version_user_agent_not_utf8() {
    let theirs = VersionMessage {
        version: 70_016,
        services: BServices::NETWORK,
        timestamp: 1_700_000_000,
        receiver: BAddress::new(&"1.2.3.4:8333".parse().unwrap(), BServices::NONE),
        sender: BAddress::new(&"0.0.0.0:0".parse().unwrap(), BServices::NONE),
        nonce: 42,
        user_agent: "/ab:1/".into(),
        start_height: 800_000,
        relay: true,
    };
    let mut payload = serialize(&theirs);
    let ua = payload.windows(6).position(|w| w == b"/ab:1/").unwrap();
    payload[ua + 1] = 0xff;
    let mut wire = BytesMut::new();
    bitpeer::wire::encode_frame(NET, bitpeer::wire::Command::VERSION, &payload, &mut wire).unwrap();
    assert!(deserialize::<RawNetworkMessage>(&wire).is_err());
    let Ok(Message::Version(v)) = ours_decode(&wire) else {
        panic!("version with a non-UTF-8 user agent must decode");
    };
    assert_eq!(v.user_agent, "/\u{fffd}b:1/");
    assert_eq!((v.nonce, v.start_height, v.relay), (42, 800_000, true));
}
