//! Malformed input through the public API: every case asserts one specific typed error, and
//! nothing panics. The last tests use a counting global allocator (this file only) to show
//! that lying lengths and counts do not make the decoder allocate what they announce.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, Ipv6Addr};

use bitpeer::wire::msg::tx::build_simple_tx;
use bitpeer::wire::{
    AddrV2, AddrV2Address, Block, BlockHeader, BlockTxn, BloomFlags, CFCheckpt, CFHeaders, CFilter,
    CmpctBlock, Command, Context, DecodeError, EncodeError, Encoding, Field, FilterLoad,
    FrameDecoder, FrameError, GetBlockTxn, GetBlocks, GetCFCheckpt, GetCFilters, HEADER_SIZE,
    Hash256, InvType, InvVect, MerkleBlock, Message, MessageDecoder, MessageError, NetAddress,
    PrefilledTx, ReadError, Reject, RejectCode, SendCmpct, SendTxRcncl, ServiceFlags, Tx, Version,
    checksum,
};
use bitpeer::{Chain, Network};
use bytes::{BufMut, Bytes, BytesMut};

const NET: Network = Network::BITCOIN_MAINNET;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn cmd(name: &[u8]) -> [u8; 12] {
    let mut c = [0u8; 12];
    c[..name.len()].copy_from_slice(name);
    c
}

fn header(magic: [u8; 4], command: [u8; 12], len: u32, sum: [u8; 4]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_SIZE);
    h.extend_from_slice(&magic);
    h.extend_from_slice(&command);
    h.extend_from_slice(&len.to_le_bytes());
    h.extend_from_slice(&sum);
    h
}

/// A frame with a correct checksum and whatever command bytes and payload.
fn frame_raw(command: [u8; 12], payload: &[u8]) -> Vec<u8> {
    let mut f = header(
        NET.magic_bytes(),
        command,
        payload.len() as u32,
        checksum(Chain::Bitcoin, payload),
    );
    f.extend_from_slice(payload);
    f
}

fn frame(command: &str, payload: &[u8]) -> Vec<u8> {
    frame_raw(cmd(command.as_bytes()), payload)
}

/// Feeds `stream` to a fresh frame decoder and returns the first result.
fn first_frame(stream: &[u8]) -> Result<Option<bitpeer::wire::Frame>, FrameError> {
    let mut dec = FrameDecoder::new(NET);
    let mut input = stream;
    dec.decode(&mut input)
}

/// Feeds `stream` to a fresh message decoder at `ctx` and returns the first result.
fn first_message(stream: &[u8], ctx: Context) -> Result<Option<Message>, ReadError> {
    let mut dec = MessageDecoder::new(NET, ctx);
    let mut input = stream;
    dec.decode(&mut input).map(|m| m.map(|(msg, _)| msg))
}

fn decode(command: Command, payload: &[u8]) -> Result<Message, DecodeError> {
    Message::decode(command, Bytes::copy_from_slice(payload), &Context::BITCOIN)
}

fn decode_at(command: Command, payload: &[u8], ctx: Context) -> Result<Message, DecodeError> {
    Message::decode(command, Bytes::copy_from_slice(payload), &ctx)
}

fn payload_of(msg: &Message, ctx: &Context) -> Vec<u8> {
    let mut out = BytesMut::new();
    msg.encode_payload(&mut out, ctx).expect("sample encodes");
    out.to_vec()
}

fn compact_size(n: u64) -> Vec<u8> {
    let mut out = BytesMut::new();
    bitpeer::wire::encode::put_compact_size(&mut out, n);
    out.to_vec()
}

fn h(n: u8) -> Hash256 {
    Hash256([n; 32])
}

fn block_header() -> BlockHeader {
    BlockHeader {
        version: 0x2000_0000,
        prev_block: h(1),
        merkle_root: h(2),
        time: 1_700_000_000,
        bits: 0x1703_4567,
        nonce: 42,
    }
}

/// A segwit transaction (btcd's TestTxSerialize#2).
const WITNESS_TX: &str = "01000000000101a53352d5135766f03076597418263da2d9c958315968fea823529467481ff9cd1300000000ffffffff010b070600000000001600149ddac6f39d51e0398e532a22c41ba189406a852302463043021f4d2381dc97f182abd8185f51753018523212f5ddc07cc4e63a8dc03658da190220608b5c4d92b86b6de7d78ef23a2fa735bcb59b914a48b0e187c5e7569a18197001210307ead084807eb76346df6977000c89392f45c76425b26181f521d7f370066a8f00000000";

fn witness_tx() -> Tx {
    Tx::from_bytes(hex::decode(WITNESS_TX).unwrap().into(), Encoding::Witness).unwrap()
}

fn simple_tx(n: u8) -> Tx {
    build_simple_tx(h(n), u32::from(n), 5_000, &[0x51, n])
}

fn block() -> Block {
    let mut raw = BytesMut::new();
    block_header().encode(&mut raw);
    raw.put_u8(2);
    simple_tx(1).encode(&mut raw, Encoding::Witness);
    witness_tx().encode(&mut raw, Encoding::Witness);
    Block::from_bytes(raw.freeze(), Encoding::Witness).unwrap()
}

fn version() -> Version {
    Version {
        protocol_version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: 1_700_000_000,
        receiver: NetAddress::new(Ipv4Addr::new(10, 0, 0, 1).into(), 8333, ServiceFlags::NONE),
        sender: NetAddress::new(
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
            8333,
            ServiceFlags::NETWORK,
        ),
        nonce: 0x0123_4567_89ab_cdef,
        user_agent: "/bitpeer:0.1.0/".into(),
        start_height: 840_000,
        relay: false,
    }
}

/// One non-trivial sample of every message whose payload has structure (not `alert` or an
/// unknown command, whose payloads are raw bytes, any of which is valid).
fn samples() -> Vec<(Message, Context)> {
    let ctx = Context::BITCOIN;
    let inv = vec![
        InvVect::new(InvType::WITNESS_TX, h(3)),
        InvVect::new(InvType::BLOCK, h(4)),
    ];
    let mut addr = NetAddress::new(
        Ipv4Addr::new(1, 2, 3, 4).into(),
        8333,
        ServiceFlags::NETWORK,
    );
    addr.time = 1_700_000_000;
    let addrv2 = |a| AddrV2 {
        time: 1_700_000_000,
        services: ServiceFlags(0x409),
        addr: a,
        port: 8333,
    };
    let locator = GetBlocks {
        version: 70016,
        locator: vec![h(5), h(6), h(7)],
        stop: h(8),
    };
    let filters = GetCFilters {
        filter_type: 0,
        start_height: 800_000,
        stop_hash: h(9),
    };
    let all = vec![
        Message::Version(version()),
        Message::Verack,
        Message::SendAddrV2,
        Message::WtxidRelay,
        Message::GetAddr,
        Message::Addr(vec![addr, addr]),
        Message::AddrV2(vec![
            addrv2(AddrV2Address::Ipv4(Ipv4Addr::new(1, 2, 3, 4))),
            addrv2(AddrV2Address::Ipv6(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 2,
            ))),
            addrv2(AddrV2Address::TorV2([7; 10])),
            addrv2(AddrV2Address::TorV3([8; 32])),
        ]),
        Message::Inv(inv.clone()),
        Message::GetData(inv.clone()),
        Message::NotFound(inv),
        Message::GetBlocks(locator.clone()),
        Message::GetHeaders(locator),
        Message::Headers(vec![block_header(), block_header()]),
        Message::Block(block()),
        Message::Tx(witness_tx()),
        Message::Tx(simple_tx(9)),
        Message::Ping(0xfeed),
        Message::Pong(0xbeef),
        Message::Reject(Reject {
            command: "tx".into(),
            code: RejectCode::INSUFFICIENT_FEE,
            reason: "min relay fee not met".into(),
            hash: h(10),
        }),
        Message::Reject(Reject {
            command: "version".into(),
            code: RejectCode::OBSOLETE,
            reason: "too old".into(),
            hash: Hash256::ZERO,
        }),
        Message::SendHeaders,
        Message::FeeFilter(1000),
        Message::MemPool,
        Message::MerkleBlock(MerkleBlock {
            header: block_header(),
            total_transactions: 7,
            hashes: vec![h(11), h(12)],
            flags: vec![0x1d],
        }),
        Message::FilterLoad(FilterLoad {
            filter: Bytes::from_static(&[0xaa, 0xbb, 0xcc]),
            hash_funcs: 11,
            tweak: 0x1234_5678,
            flags: BloomFlags::ALL,
        }),
        Message::FilterAdd(vec![0x42; 33]),
        Message::FilterClear,
        Message::GetCFilters(filters),
        Message::CFilter(CFilter {
            filter_type: 0,
            block_hash: h(13),
            filter: Bytes::from_static(&[1, 2, 3, 4, 5]),
        }),
        Message::GetCFHeaders(filters),
        Message::CFHeaders(CFHeaders {
            filter_type: 0,
            stop_hash: h(14),
            prev_filter_header: h(15),
            filter_hashes: vec![h(16), h(17)],
        }),
        Message::GetCFCheckpt(GetCFCheckpt {
            filter_type: 0,
            stop_hash: h(18),
        }),
        Message::CFCheckpt(CFCheckpt {
            filter_type: 0,
            stop_hash: h(19),
            filter_headers: vec![h(20), h(21)],
        }),
        Message::SendCmpct(SendCmpct {
            announce: true,
            version: 2,
        }),
        Message::CmpctBlock(CmpctBlock {
            header: block_header(),
            nonce: 99,
            short_ids: vec![[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]],
            prefilled: vec![
                PrefilledTx {
                    index: 0,
                    tx: simple_tx(1),
                },
                PrefilledTx {
                    index: 3,
                    tx: witness_tx(),
                },
            ],
        }),
        Message::GetBlockTxn(GetBlockTxn {
            block_hash: h(22),
            indexes: vec![1, 2, 5, 300],
        }),
        Message::BlockTxn(BlockTxn {
            block_hash: h(23),
            transactions: vec![simple_tx(2), witness_tx()],
        }),
        Message::SendTxRcncl(SendTxRcncl {
            version: 1,
            salt: 0xdead_beef,
        }),
    ];
    let mut out: Vec<_> = all.into_iter().map(|m| (m, ctx)).collect();
    // Transactions without witness data in the legacy encoding, too.
    out.push((Message::Tx(simple_tx(3)), ctx.with_encoding(Encoding::Base)));
    out
}

fn too_many(field: Field, count: u64, max: u64) -> DecodeError {
    DecodeError::TooMany { field, count, max }
}

fn too_long(field: Field, len: u64, max: u64) -> DecodeError {
    DecodeError::TooLong { field, len, max }
}

// ---------------------------------------------------------------------------------------------
// Frame header
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_magic_is_wrong_network() {
    let mut f = frame("verack", &[]);
    f[..4].copy_from_slice(&Network::BITCOIN_TESTNET3.magic_bytes());
    assert_eq!(
        first_frame(&f),
        Err(FrameError::WrongNetwork {
            magic: Network::BITCOIN_TESTNET3.magic(),
            expected: NET.magic(),
        })
    );
    // Same magic value, other chain dialect: still only the magic counts.
    let mut dec = FrameDecoder::new(Network::DECRED_MAINNET);
    let mut input: &[u8] = &f;
    assert!(matches!(
        dec.decode(&mut input),
        Err(FrameError::WrongNetwork { .. })
    ));
}

#[test]
fn bad_checksum() {
    let mut f = frame("ping", &7u64.to_le_bytes());
    let actual = [f[20], f[21], f[22], f[23]];
    f[20] ^= 0x80;
    assert_eq!(
        first_frame(&f),
        Err(FrameError::BadChecksum {
            command: Command::PING,
            expected: [f[20], f[21], f[22], f[23]],
            actual,
        })
    );
    // The checksum of an empty payload is checked as well.
    let f = header(NET.magic_bytes(), cmd(b"verack"), 0, [0; 4]);
    assert!(matches!(
        first_frame(&f),
        Err(FrameError::BadChecksum {
            command: Command::VERACK,
            actual: [0x5d, 0xf6, 0xe0, 0xe2],
            ..
        })
    ));
}

#[test]
fn announced_length_over_the_global_cap() {
    for len in [4_000_001, 32 * 1024 * 1024, 32 * 1024 * 1024 + 1, u32::MAX] {
        // A known command, an unknown one: the global cap comes first either way, before any
        // payload byte is awaited.
        for command in [cmd(b"block"), cmd(b"whatever")] {
            let f = header(NET.magic_bytes(), command, len, [0; 4]);
            assert_eq!(
                first_frame(&f),
                Err(FrameError::PayloadTooLarge {
                    len,
                    max: 4_000_000
                }),
                "length {len}"
            );
        }
    }
    // Exactly 4 000 000 is accepted: the decoder waits for the payload.
    let mut dec = FrameDecoder::new(NET);
    let f = header(NET.magic_bytes(), cmd(b"block"), 4_000_000, [0; 4]);
    let mut input: &[u8] = &f;
    assert_eq!(dec.decode(&mut input), Ok(None));
    assert_eq!(dec.buffered(), HEADER_SIZE);
    // Decred's cap is 32 MiB.
    let mut dec = FrameDecoder::new(Network::DECRED_MAINNET);
    let len = 32 * 1024 * 1024 + 1;
    let f = header(
        Network::DECRED_MAINNET.magic_bytes(),
        cmd(b"block"),
        len,
        [0; 4],
    );
    let mut input: &[u8] = &f;
    assert_eq!(
        dec.decode(&mut input),
        Err(FrameError::PayloadTooLarge {
            len,
            max: 32 * 1024 * 1024
        })
    );
}

/// Per-command caps (WIRE.md section 4, at protocol version 70016): `max` is accepted (the
/// decoder then waits for the payload), `max + 1` is refused before any payload arrives.
#[test]
fn announced_length_over_the_command_cap() {
    let caps: &[(&str, Command, u32)] = &[
        ("version", Command::VERSION, 358),
        ("verack", Command::VERACK, 0),
        ("sendaddrv2", Command::SENDADDRV2, 0),
        ("getaddr", Command::GETADDR, 0),
        ("addr", Command::ADDR, 30_009),
        ("addrv2", Command::ADDRV2, 531_003),
        ("inv", Command::INV, 1_800_009),
        ("getdata", Command::GETDATA, 1_800_009),
        ("notfound", Command::NOTFOUND, 1_800_009),
        ("getblocks", Command::GETBLOCKS, 16_045),
        ("getheaders", Command::GETHEADERS, 16_045),
        ("headers", Command::HEADERS, 162_009),
        ("ping", Command::PING, 8),
        ("pong", Command::PONG, 8),
        ("mempool", Command::MEMPOOL, 0),
        ("filterload", Command::FILTERLOAD, 36_012),
        ("filteradd", Command::FILTERADD, 523),
        ("filterclear", Command::FILTERCLEAR, 0),
        ("sendheaders", Command::SENDHEADERS, 0),
        ("feefilter", Command::FEEFILTER, 8),
        ("getcfilters", Command::GETCFILTERS, 37),
        ("getcfheaders", Command::GETCFHEADERS, 37),
        ("getcfcheckpt", Command::GETCFCHECKPT, 33),
        ("cfilter", Command::CFILTER, 262_182),
        ("cfheaders", Command::CFHEADERS, 64_074),
        ("cfcheckpt", Command::CFCHECKPT, 3_200_038),
    ];
    for &(name, command, max) in caps {
        let f = header(NET.magic_bytes(), cmd(name.as_bytes()), max + 1, [0; 4]);
        assert_eq!(
            first_frame(&f),
            Err(FrameError::PayloadTooLargeForCommand {
                command,
                len: max + 1,
                max
            }),
            "{name}"
        );
        let f = header(NET.magic_bytes(), cmd(name.as_bytes()), max, [0; 4]);
        let mut dec = FrameDecoder::new(NET);
        let mut input: &[u8] = &f;
        match dec.decode(&mut input) {
            Ok(None) => assert_eq!(dec.buffered(), HEADER_SIZE, "{name}"),
            // Empty payloads complete at once (and this header's checksum is forged).
            Err(FrameError::BadChecksum { .. }) if max == 0 => {}
            other => panic!("{name} with {max} bytes: {other:?}"),
        }
    }
    // Version-dependent caps: ping has no nonce at or below BIP31 (60000), addr holds one
    // entry below version 209.
    let mut dec = FrameDecoder::new(NET);
    dec.set_protocol_version(60_000);
    let f = header(NET.magic_bytes(), cmd(b"ping"), 1, [0; 4]);
    let mut input: &[u8] = &f;
    assert_eq!(
        dec.decode(&mut input),
        Err(FrameError::PayloadTooLargeForCommand {
            command: Command::PING,
            len: 1,
            max: 0
        })
    );
    let mut dec = FrameDecoder::new(NET);
    dec.set_protocol_version(208);
    let f = header(NET.magic_bytes(), cmd(b"addr"), 36, [0; 4]);
    let mut input: &[u8] = &f;
    assert_eq!(
        dec.decode(&mut input),
        Err(FrameError::PayloadTooLargeForCommand {
            command: Command::ADDR,
            len: 36,
            max: 35
        })
    );
}

/// Our command rule is Bitcoin Core's: printable ASCII (0x20..=0x7e), then only NUL padding.
/// btcd only asks for valid UTF-8 and keeps embedded NULs, so some of these are merely
/// "unknown" to btcd; we refuse them before buffering the payload.
#[test]
fn illegal_command_characters() {
    let cases: &[(&str, [u8; 12])] = &[
        (
            "non-ASCII byte (btcd vector)",
            cmd(&[0x81, b'o', b'g', b'u', b's']),
        ),
        ("valid UTF-8 but not ASCII", cmd("cafè".as_bytes())),
        ("control character", cmd(b"ver\x01ack")),
        ("newline", cmd(b"ping\n")),
        ("DEL", cmd(b"ping\x7f")),
        ("tab", cmd(b"\tinv")),
        ("high bit everywhere", [0xff; 12]),
        ("embedded NUL then text", cmd(b"ver\0ack")),
        ("NUL then a final byte", {
            let mut c = cmd(b"inv");
            c[11] = b'x';
            c
        }),
        ("leading NUL", cmd(b"\0inv")),
    ];
    for (what, raw) in cases {
        let f = frame_raw(*raw, &[]);
        assert_eq!(
            first_frame(&f),
            Err(FrameError::MalformedCommand(*raw)),
            "{what}"
        );
    }
    // Twelve printable characters without any padding are fine (an unknown command).
    let raw = *b"abcdefghijkl";
    let f = frame_raw(raw, &[1, 2, 3]);
    let m = first_message(&f, Context::BITCOIN).unwrap().unwrap();
    assert_eq!(m.command(), Command::from_wire(raw).unwrap());
    assert!(matches!(m, Message::Unknown { ref payload, .. } if payload[..] == [1, 2, 3]));
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

#[test]
fn non_canonical_compact_sizes() {
    // Each form encodes a value the shorter form could hold.
    let forms: &[&[u8]] = &[
        &[0xfd, 0x00, 0x00],
        &[0xfd, 0xfc, 0x00],
        &[0xfe, 0x00, 0x00, 0x00, 0x00],
        &[0xfe, 0xff, 0xff, 0x00, 0x00],
        &[0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00],
    ];
    for form in forms {
        let mut r = bitpeer::wire::encode::Reader::new(form);
        assert_eq!(
            r.read_compact_size(),
            Err(DecodeError::NonCanonicalCompactSize),
            "{form:02x?}"
        );
        // As a count, a length and a services field inside messages.
        let inv = [*form, &[0u8; 36][..]].concat();
        assert_eq!(
            decode(Command::INV, &inv),
            Err(DecodeError::NonCanonicalCompactSize)
        );
        let filteradd = [*form, &[0u8; 4][..]].concat();
        assert_eq!(
            decode(Command::FILTERADD, &filteradd),
            Err(DecodeError::NonCanonicalCompactSize)
        );
        let tx = [&1i32.to_le_bytes()[..], form].concat();
        assert_eq!(
            decode_at(
                Command::TX,
                &tx,
                Context::BITCOIN.with_encoding(Encoding::Base)
            ),
            Err(DecodeError::NonCanonicalCompactSize)
        );
        let addrv2 = [
            &[1u8, 0, 0, 0, 0][..],
            form,
            &[1, 4, 1, 2, 3, 4, 0x20, 0x8d],
        ]
        .concat();
        assert_eq!(
            decode(Command::ADDRV2, &addrv2),
            Err(DecodeError::NonCanonicalCompactSize)
        );
        // And through the whole stream.
        assert_eq!(
            first_message(&frame("inv", &inv), Context::BITCOIN),
            Err(ReadError::Message(MessageError {
                command: Command::INV,
                error: DecodeError::NonCanonicalCompactSize
            }))
        );
    }
    // The smallest value of each form is canonical.
    for (form, value) in [
        (&[0xfd, 0xfd, 0x00][..], 0xfd),
        (&[0xfe, 0x00, 0x00, 0x01, 0x00][..], 0x1_0000),
        (&[0xff, 0, 0, 0, 0, 1, 0, 0, 0][..], 0x1_0000_0000),
    ] {
        let mut r = bitpeer::wire::encode::Reader::new(form);
        assert_eq!(r.read_compact_size(), Ok(value));
    }
}

/// Counts and lengths over each message's limit, announced with (almost) nothing behind them:
/// the limit is checked before anything is read or allocated.
#[test]
fn counts_over_limits() {
    let hdr = block_header().to_bytes();
    let version4 = 70016u32.to_le_bytes();
    let tx_version = 1i32.to_le_bytes();
    let outpoint = [0u8; 36];
    let cases: Vec<(&str, Command, Vec<u8>, DecodeError)> = vec![
        (
            "addr > 1000",
            Command::ADDR,
            compact_size(1001),
            too_many(Field::Addresses, 1001, 1000),
        ),
        (
            "addrv2 > 1000",
            Command::ADDRV2,
            compact_size(1001),
            too_many(Field::Addresses, 1001, 1000),
        ),
        (
            "inv > 50000",
            Command::INV,
            compact_size(50_001),
            too_many(Field::InvVectors, 50_001, 50_000),
        ),
        (
            "getdata > 50000",
            Command::GETDATA,
            compact_size(50_001),
            too_many(Field::InvVectors, 50_001, 50_000),
        ),
        (
            "notfound > 50000",
            Command::NOTFOUND,
            compact_size(u64::MAX),
            too_many(Field::InvVectors, u64::MAX, 50_000),
        ),
        (
            "getblocks locators > 500",
            Command::GETBLOCKS,
            [&version4[..], &compact_size(501)].concat(),
            too_many(Field::Locators, 501, 500),
        ),
        (
            "getheaders locators > 500",
            Command::GETHEADERS,
            [&version4[..], &compact_size(501)].concat(),
            too_many(Field::Locators, 501, 500),
        ),
        (
            "headers > 2000",
            Command::HEADERS,
            compact_size(2001),
            too_many(Field::Headers, 2001, 2000),
        ),
        (
            "headers with a tx count",
            Command::HEADERS,
            [&[1u8][..], &hdr, &[1]].concat(),
            DecodeError::HeaderContainsTxs(1),
        ),
        (
            "headers with a large tx count on the second header",
            Command::HEADERS,
            [&[2u8][..], &hdr, &[0], &hdr, &compact_size(0x1_0000)].concat(),
            DecodeError::HeaderContainsTxs(0x1_0000),
        ),
        (
            "block txs > 400001",
            Command::BLOCK,
            [&hdr[..], &compact_size(400_002)].concat(),
            too_many(Field::Transactions, 400_002, 400_001),
        ),
        (
            "tx inputs > 818401",
            Command::TX,
            [&tx_version[..], &compact_size(818_402)].concat(),
            too_many(Field::TxInputs, 818_402, 818_401),
        ),
        (
            "tx outputs > 3728271",
            Command::TX,
            [
                &tx_version[..],
                &[1],
                &outpoint,
                &[0],
                &[0xff; 4],
                &compact_size(3_728_272),
            ]
            .concat(),
            too_many(Field::TxOutputs, 3_728_272, 3_728_271),
        ),
        (
            "segwit tx inputs > 818401 after the marker",
            Command::TX,
            [&tx_version[..], &[0, 1], &compact_size(818_402)].concat(),
            too_many(Field::TxInputs, 818_402, 818_401),
        ),
        (
            "signature script > 4000000",
            Command::TX,
            [&tx_version[..], &[1], &outpoint, &compact_size(4_000_001)].concat(),
            too_long(Field::Script, 4_000_001, 4_000_000),
        ),
        (
            "witness items > 4000000",
            Command::TX,
            [
                &tx_version[..],
                &[0, 1, 1],
                &outpoint,
                &[0],
                &[0xff; 4],
                &[0],
                &compact_size(4_000_001),
            ]
            .concat(),
            too_many(Field::WitnessItems, 4_000_001, 4_000_000),
        ),
        (
            "filterload filter > 36000 bytes",
            Command::FILTERLOAD,
            compact_size(36_001),
            too_long(Field::BloomFilter, 36_001, 36_000),
        ),
        (
            "filterload > 50 hash functions",
            Command::FILTERLOAD,
            [&[1u8, 0xaa][..], &51u32.to_le_bytes(), &[0; 4], &[0]].concat(),
            too_many(Field::HashFuncs, 51, 50),
        ),
        (
            "filteradd > 520 bytes",
            Command::FILTERADD,
            compact_size(521),
            too_long(Field::FilterAddData, 521, 520),
        ),
        (
            "merkleblock hashes > 400001",
            Command::MERKLEBLOCK,
            [&hdr[..], &[7, 0, 0, 0], &compact_size(400_002)].concat(),
            too_many(Field::TxHashes, 400_002, 400_001),
        ),
        (
            "merkleblock flags > 50000 bytes",
            Command::MERKLEBLOCK,
            [&hdr[..], &[7, 0, 0, 0], &[0], &compact_size(50_001)].concat(),
            too_long(Field::MerkleFlags, 50_001, 50_000),
        ),
        (
            "cfheaders > 2000",
            Command::CFHEADERS,
            [&[0u8][..], &[0; 64], &compact_size(2001)].concat(),
            too_many(Field::FilterHeaders, 2001, 2000),
        ),
        (
            "cfcheckpt > 100000",
            Command::CFCHECKPT,
            [&[0u8][..], &[0; 32], &compact_size(100_001)].concat(),
            too_many(Field::FilterHeaders, 100_001, 100_000),
        ),
        (
            "cfilter > 262144 bytes",
            Command::CFILTER,
            [&[0u8][..], &[0; 32], &compact_size(262_145)].concat(),
            too_long(Field::CompactFilter, 262_145, 262_144),
        ),
        (
            "user agent > 256",
            Command::VERSION,
            {
                let full = payload_of(&Message::Version(version()), &Context::BITCOIN);
                [&full[..80], &compact_size(257), &[b'x'; 257]].concat()
            },
            too_long(Field::UserAgent, 257, 256),
        ),
        (
            "cmpctblock short ids > 65535",
            Command::CMPCTBLOCK,
            [&hdr[..], &[0; 8], &compact_size(65_536)].concat(),
            too_many(Field::ShortIds, 65_536, 65_535),
        ),
        (
            "getblocktxn indexes > 65535",
            Command::GETBLOCKTXN,
            [&[0u8; 32][..], &compact_size(65_536)].concat(),
            too_many(Field::TxIndexes, 65_536, 65_535),
        ),
    ];
    for (what, command, payload, expected) in cases {
        assert_eq!(decode(command, &payload), Err(expected.clone()), "{what}");
        // Through the stream, the same error, tagged with the command.
        assert_eq!(
            first_message(&frame(command.as_str(), &payload), Context::BITCOIN),
            Err(ReadError::Message(MessageError {
                command,
                error: expected
            })),
            "{what} (stream)"
        );
    }
}

#[test]
fn addrv2_address_sizes() {
    // Known network ids with the wrong length, and an unknown id over 512 bytes.
    for (id, len) in [
        (1u8, 5u64),
        (2, 4),
        (3, 32),
        (4, 10),
        (5, 31),
        (6, 4),
        (0x42, 513),
    ] {
        let payload = [&[1u8, 0, 0, 0, 0, 0, id][..], &compact_size(len)].concat();
        assert_eq!(
            decode(Command::ADDRV2, &payload),
            Err(DecodeError::InvalidAddressSize {
                network_id: id,
                len
            }),
            "network {id}, {len} bytes"
        );
    }
}

#[test]
fn witness_marker_errors() {
    let ctx = Context::BITCOIN;
    let tx = [&1i32.to_le_bytes()[..], &[0, 2]].concat();
    assert_eq!(
        decode_at(Command::TX, &tx, ctx),
        Err(DecodeError::BadWitnessFlag(2))
    );
    // Marker and flag, one input, an empty witness: the flag was superfluous.
    let tx = [
        &1i32.to_le_bytes()[..],
        &[0, 1, 1],
        &[0; 36],
        &[0],
        &[0xff; 4],
        &[0],
        &[0],
        &[0; 4],
    ]
    .concat();
    assert_eq!(
        decode_at(Command::TX, &tx, ctx),
        Err(DecodeError::SuperfluousWitness)
    );
}

/// Every strict prefix of a valid payload fails with `Truncated` (and no panic), except the
/// prefixes of `version` that end where an optional field would start, which are themselves
/// valid `version` messages.
#[test]
fn truncated_payloads_of_every_message() {
    let mut seen = std::collections::BTreeSet::new();
    for (msg, ctx) in samples() {
        let payload = payload_of(&msg, &ctx);
        let command = msg.command();
        seen.insert(command);
        assert_eq!(
            decode_at(command, &payload, ctx),
            Ok(msg.clone()),
            "{command} sample round-trips"
        );
        let valid_prefixes: Vec<usize> = match &msg {
            Message::Version(v) => {
                let ua = 80 + compact_size(v.user_agent.len() as u64).len() + v.user_agent.len();
                vec![46, 72, 80, ua, ua + 4]
            }
            _ => Vec::new(),
        };
        for cut in 0..payload.len() {
            match decode_at(command, &payload[..cut], ctx) {
                Ok(m) => assert!(
                    valid_prefixes.contains(&cut),
                    "{command}: a {cut}-byte prefix of {} decoded to {m:?}",
                    payload.len()
                ),
                Err(DecodeError::Truncated { needed, available }) => {
                    assert!(
                        !valid_prefixes.contains(&cut),
                        "{command}: {cut} bytes should decode"
                    );
                    assert!(
                        available < needed,
                        "{command} at {cut}: {needed}/{available}"
                    );
                }
                Err(e) => panic!("{command}: a {cut}-byte prefix gave {e:?}, not Truncated"),
            }
        }
        // The same through the stream: a frame carrying a prefix is a message error.
        if let Some(cut) = (0..payload.len())
            .rev()
            .find(|c| !valid_prefixes.contains(c))
        {
            assert!(
                matches!(
                    first_message(&frame(command.as_str(), &payload[..cut]), ctx),
                    Err(ReadError::Message(MessageError {
                        error: DecodeError::Truncated { .. },
                        ..
                    }))
                ),
                "{command} prefix through the stream"
            );
        }
    }
    // Every structured message of the enum was exercised.
    assert_eq!(seen.len(), 36, "commands exercised: {seen:?}");
}

/// A stream that stops anywhere inside a frame is a partial frame: the decoder waits, it does
/// not fail and does not panic; the rest of the bytes complete it.
#[test]
fn truncated_streams_wait_for_more() {
    for (msg, ctx) in samples() {
        let mut wire = BytesMut::new();
        bitpeer::wire::encode_message(NET, &msg, &ctx, &mut wire).unwrap();
        for cut in 0..wire.len() {
            let mut dec = MessageDecoder::new(NET, ctx);
            let mut input = &wire[..cut];
            assert_eq!(
                dec.decode(&mut input),
                Ok(None),
                "{} cut at {cut}",
                msg.command()
            );
            assert!(input.is_empty());
            let mut rest = &wire[cut..];
            let (got, len) = dec.decode(&mut rest).unwrap().expect("complete");
            assert_eq!((got, len), (msg.clone(), wire.len()));
        }
    }
}

#[test]
fn trailing_bytes() {
    for (msg, ctx) in samples() {
        let command = msg.command();
        let mut payload = payload_of(&msg, &ctx);
        payload.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            decode_at(command, &payload, ctx),
            Err(DecodeError::TrailingBytes { extra: 3 }),
            "{command}"
        );
    }
    // Through the stream: a cap that leaves no room catches it in the header, otherwise the
    // payload decoder does.
    assert_eq!(
        first_message(&frame("verack", &[0]), Context::BITCOIN),
        Err(ReadError::Frame(FrameError::PayloadTooLargeForCommand {
            command: Command::VERACK,
            len: 1,
            max: 0
        }))
    );
    assert_eq!(
        first_message(&frame("ping", &[0; 9]), Context::BITCOIN),
        Err(ReadError::Frame(FrameError::PayloadTooLargeForCommand {
            command: Command::PING,
            len: 9,
            max: 8
        }))
    );
    let inv = [&[1u8][..], &[0; 36], &[0xee]].concat();
    assert_eq!(
        first_message(&frame("inv", &inv), Context::BITCOIN),
        Err(ReadError::Message(MessageError {
            command: Command::INV,
            error: DecodeError::TrailingBytes { extra: 1 }
        }))
    );
    let mut tx = payload_of(&Message::Tx(witness_tx()), &Context::BITCOIN);
    tx.push(0);
    assert_eq!(
        first_message(&frame("tx", &tx), Context::BITCOIN),
        Err(ReadError::Message(MessageError {
            command: Command::TX,
            error: DecodeError::TrailingBytes { extra: 1 }
        }))
    );
}

/// Messages that do not exist yet at the negotiated version (WIRE.md 3.1): refused on decode
/// (directly and through the stream) and on encode; accepted from their first version.
#[test]
fn invalid_for_protocol_version() {
    let filterload = Message::FilterLoad(FilterLoad {
        filter: Bytes::from_static(&[1]),
        hash_funcs: 1,
        tweak: 0,
        flags: BloomFlags::NONE,
    });
    let reject = Message::Reject(Reject {
        command: "block".into(),
        code: RejectCode::INVALID,
        reason: "bad".into(),
        hash: h(1),
    });
    let cases: Vec<(Message, u32, u32)> = vec![
        (Message::SendHeaders, 70_011, 70_012),
        (Message::Pong(1), 60_000, 60_001),
        (Message::FeeFilter(1000), 70_012, 70_013),
        (Message::MemPool, 60_001, 60_002),
        (filterload, 70_000, 70_001),
        (Message::FilterAdd(vec![1]), 70_000, 70_001),
        (Message::FilterClear, 70_000, 70_001),
        (
            Message::MerkleBlock(MerkleBlock {
                header: block_header(),
                total_transactions: 1,
                hashes: vec![h(1)],
                flags: vec![1],
            }),
            70_000,
            70_001,
        ),
        (reject, 70_001, 70_002),
        (Message::SendAddrV2, 70_015, 70_016),
        (Message::WtxidRelay, 70_015, 70_016),
    ];
    for (msg, too_old, first) in cases {
        let command = msg.command();
        let payload = payload_of(&msg, &Context::BITCOIN.with_version(first));
        let old = Context::BITCOIN.with_version(too_old);
        let expected = DecodeError::InvalidForVersion {
            command,
            version: too_old,
        };
        assert_eq!(
            decode_at(command, &payload, old),
            Err(expected.clone()),
            "{command}"
        );
        assert_eq!(
            first_message(&frame(command.as_str(), &payload), old),
            Err(ReadError::Message(MessageError {
                command,
                error: expected
            })),
            "{command} (stream)"
        );
        let mut out = BytesMut::new();
        assert_eq!(
            msg.encode_payload(&mut out, &old),
            Err(EncodeError::InvalidForVersion {
                command,
                version: too_old
            }),
            "{command} (encode)"
        );
        let new = Context::BITCOIN.with_version(first);
        assert_eq!(
            decode_at(command, &payload, new),
            Ok(msg.clone()),
            "{command} at {first}"
        );
    }
}

/// Deterministic mutations of every sample (bit flips, byte replacements, cuts, insertions):
/// whatever the result, decoding returns a value, never panics.
#[test]
fn mutated_payloads_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0usize;
    for (msg, ctx) in samples() {
        let command = msg.command();
        let payload = payload_of(&msg, &ctx);
        for _ in 0..300 {
            let mut p = payload.clone();
            for _ in 0..1 + next() % 4 {
                let i = next() as usize % p.len().max(1);
                match next() % 4 {
                    0 if !p.is_empty() => p[i] ^= 1 << (next() % 8),
                    1 if !p.is_empty() => p[i] = [0x00, 0xfd, 0xfe, 0xff][next() as usize % 4],
                    2 => p.truncate(i),
                    _ => p.insert(i.min(p.len()), next() as u8),
                }
            }
            for ctx in [
                ctx,
                ctx.with_encoding(Encoding::Base),
                ctx.with_version(60_000),
            ] {
                if decode_at(command, &p, ctx).is_err() {
                    errors += 1;
                }
            }
        }
    }
    assert!(errors > 0, "some mutations are invalid");
}

// ---------------------------------------------------------------------------------------------
// Allocation bounds
// ---------------------------------------------------------------------------------------------

/// Counts the bytes this thread has allocated and the peak since [`peak_reset`]. Per thread,
/// so tests running in parallel do not disturb each other's measurements.
struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is forwarded unchanged to `System`; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        account(layout.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        account(layout.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-(layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        account(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result and the peak bytes it held beyond what was allocated
/// before it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak.max(0) as usize)
}

#[test]
fn the_counting_allocator_counts() {
    let (v, peak) = peak_during(|| vec![0u8; 1 << 20]);
    assert!(peak >= 1 << 20, "peak {peak}");
    drop(v);
}

#[test]
fn a_4mb_block_header_with_100_bytes_holds_little() {
    let mut stream = header(NET.magic_bytes(), cmd(b"block"), 4_000_000, [0; 4]);
    stream.extend_from_slice(&[0x5a; 100]);
    let (dec, peak) = peak_during(|| {
        let mut dec = FrameDecoder::new(NET);
        let mut input: &[u8] = &stream;
        assert_eq!(dec.decode(&mut input), Ok(None));
        assert!(input.is_empty());
        dec
    });
    assert_eq!(dec.buffered(), HEADER_SIZE + 100);
    assert!(
        peak < 128 * 1024,
        "the decoder allocated {peak} bytes at peak"
    );
    assert!(dec.heap_bytes() < 128 * 1024, "holds {}", dec.heap_bytes());
    // The same through the message decoder, fed in small pieces.
    let (_, peak) = peak_during(|| {
        let mut dec = MessageDecoder::new(NET, Context::BITCOIN);
        for chunk in stream.chunks(7) {
            let mut input = chunk;
            assert_eq!(dec.decode(&mut input), Ok(None));
        }
    });
    assert!(
        peak < 128 * 1024,
        "the message decoder allocated {peak} bytes at peak"
    );
}

#[test]
fn an_inv_claiming_50000_entries_with_2_present_allocates_little() {
    let mut payload = compact_size(50_000);
    payload.extend_from_slice(&[1; 2 * 36]);
    let payload = Bytes::from(payload);
    let (result, peak) =
        peak_during(|| Message::decode(Command::INV, payload.clone(), &Context::BITCOIN));
    assert_eq!(
        result,
        Err(DecodeError::Truncated {
            needed: 4,
            available: 0
        })
    );
    assert!(peak < 4 * 1024, "decoding allocated {peak} bytes at peak");
    // Same for the other lists whose entries have a fixed size.
    for (command, count, entry) in [
        (Command::ADDR, 1000u64, 30usize),
        (Command::HEADERS, 2000, 81),
        (Command::CFCHECKPT, 100_000, 32),
    ] {
        let prefix: Vec<u8> = match command {
            Command::CFCHECKPT => vec![0; 33],
            _ => Vec::new(),
        };
        let mut p = [prefix, compact_size(count)].concat();
        p.extend_from_slice(&vec![0; 2 * entry]);
        let p = Bytes::from(p);
        let (result, peak) = peak_during(|| Message::decode(command, p.clone(), &Context::BITCOIN));
        assert!(
            matches!(result, Err(DecodeError::Truncated { .. })),
            "{command}: {result:?}"
        );
        assert!(peak < 4 * 1024, "{command}: allocated {peak} bytes at peak");
    }
}
