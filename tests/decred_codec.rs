//! The Decred dialect of the codec beyond dcrd's own vectors (those are `vectors_dcrd.rs`):
//! every Decred message through a whole frame and back, which messages exist on which chain
//! and at which protocol version, per-command caps, and the mixing messages' bounds.

use std::net::{Ipv4Addr, Ipv6Addr};

use bitpeer::wire::decred::mix::{MixKind, MixMessage};
use bitpeer::wire::decred::{
    CFilterV2, DcrAddrV2, DcrAddress, DcrBlock, DcrBlockHeader, DcrCFHeaders, DcrCFilter,
    DcrGetCFHeaders, DcrTx, GetCFilter, GetCFsV2, GetInitState, InitState, MAX_TIMESTAMP,
    MiningState, versions,
};
use bitpeer::wire::encode::put_compact_size;
use bitpeer::wire::{
    BloomFlags, Command, Context, DecodeError, EncodeError, Field, FilterLoad, FrameDecoder,
    FrameError, GetBlocks, Hash256, InvType, InvVect, Message, NetAddress, Reject, RejectCode,
    ServiceFlags, Version, encode_message, max_payload_len, min_version,
};
use bitpeer::{Chain, Network};
use bytes::{BufMut, Bytes, BytesMut};

const NET: Network = Network::DECRED_MAINNET;

fn dcr(version: u32) -> Context {
    Context::DECRED.with_version(version)
}

fn h(n: u8) -> Hash256 {
    Hash256([n; 32])
}

/// A full-serialization transaction: one input, one output.
fn tx_bytes(seed: u8) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 0, 1];
    b.extend_from_slice(&[seed; 32]);
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    b.push(1);
    b.extend_from_slice(&5_000i64.to_le_bytes());
    b.extend_from_slice(&[0, 0, 2, 0x51, 0x87]);
    b.extend_from_slice(&[0; 8]);
    b.push(1);
    b.extend_from_slice(&5_000i64.to_le_bytes());
    b.extend_from_slice(&[7, 0, 0, 0, 1, 0, 0, 0, 1, 0xab]);
    b
}

fn block_bytes() -> Vec<u8> {
    let header = DcrBlockHeader {
        version: 9,
        height: 77,
        ..DcrBlockHeader::default()
    };
    let mut b = header.to_bytes().to_vec();
    b.push(2);
    b.extend(tx_bytes(1));
    b.extend(tx_bytes(2));
    b.push(1);
    b.extend(tx_bytes(3));
    b
}

/// A `mixfactpoly` payload with `roots` roots and `seen` seen hashes.
fn factpoly(roots: usize, seen: usize) -> Vec<u8> {
    let mut b = vec![0x11; 64 + 33];
    b.extend_from_slice(&[0x22; 32]);
    b.extend_from_slice(&9u32.to_le_bytes());
    b.push(roots as u8);
    for i in 0..roots {
        b.extend_from_slice(&[1, i as u8]);
    }
    b.push(seen as u8);
    for i in 0..seen {
        b.extend_from_slice(&[i as u8; 32]);
    }
    b
}

/// Every Decred message shape, each valid at protocol 12 (`addr` and `reject` are tested at
/// their own versions below).
fn decred_messages() -> Vec<Message> {
    let addr = |a| DcrAddrV2 {
        time: 1_700_000_000,
        services: ServiceFlags::NETWORK,
        addr: a,
        port: 9108,
    };
    vec![
        Message::Version(Version {
            protocol_version: 12,
            services: ServiceFlags::NETWORK,
            timestamp: 1_700_000_000,
            nonce: 42,
            user_agent: "/dcrwire:1.0.0/dcrd:2.0.0/".into(),
            start_height: 900_000,
            relay: false,
            ..Version::default()
        }),
        Message::Verack,
        Message::GetAddr,
        Message::DcrAddrV2(vec![
            addr(DcrAddress::Ipv4(Ipv4Addr::new(192, 0, 2, 1))),
            addr(DcrAddress::Ipv6(Ipv6Addr::LOCALHOST)),
            addr(DcrAddress::TorV3([9; 32])),
        ]),
        Message::Inv(vec![InvVect::new(InvType::MIX, h(1))]),
        Message::GetData(vec![InvVect::new(InvType::BLOCK, h(2))]),
        Message::NotFound(vec![InvVect::new(InvType::TX, h(3))]),
        Message::GetBlocks(GetBlocks {
            version: 12,
            locator: vec![h(4), h(5)],
            stop: h(6),
        }),
        Message::GetHeaders(GetBlocks {
            version: 0,
            locator: vec![h(7)],
            stop: Hash256::ZERO,
        }),
        Message::DcrHeaders(vec![DcrBlockHeader {
            height: 5,
            ..DcrBlockHeader::default()
        }]),
        Message::DcrBlock(DcrBlock::from_bytes(Bytes::from(block_bytes()), 12).unwrap()),
        Message::DcrTx(DcrTx::from_bytes(Bytes::from(tx_bytes(9))).unwrap()),
        Message::Ping(1),
        Message::Pong(2),
        Message::SendHeaders,
        Message::FeeFilter(10_000),
        Message::MemPool,
        Message::GetMiningState,
        Message::MiningState(MiningState {
            version: 1,
            height: 10,
            block_hashes: vec![h(8)],
            vote_hashes: vec![h(9); 5],
        }),
        Message::GetInitState(GetInitState {
            types: vec!["headblocks".into(), "tspends".into()],
        }),
        Message::InitState(InitState {
            block_hashes: vec![h(1); 8],
            vote_hashes: vec![h(2); 40],
            tspend_hashes: vec![h(3); 7],
        }),
        Message::GetCFilter(GetCFilter {
            block_hash: h(10),
            filter_type: 1,
        }),
        Message::GetCFTypes,
        Message::CFTypes(vec![0, 1]),
        Message::DcrGetCFHeaders(DcrGetCFHeaders {
            locator: vec![h(11)],
            stop_hash: h(12),
            filter_type: 0,
        }),
        Message::DcrCFilter(DcrCFilter {
            block_hash: h(13),
            filter_type: 0,
            data: Bytes::from_static(b"filter"),
        }),
        Message::DcrCFHeaders(DcrCFHeaders {
            stop_hash: h(14),
            filter_type: 1,
            header_hashes: vec![h(15), h(16)],
        }),
        Message::GetCFilterV2(h(17)),
        Message::CFilterV2(CFilterV2 {
            block_hash: h(18),
            data: Bytes::from_static(b"v2"),
            proof_index: 3,
            proof_hashes: vec![h(19); 32],
        }),
        Message::GetCFsV2(GetCFsV2 {
            start_hash: h(20),
            end_hash: h(21),
        }),
        Message::CFiltersV2(vec![
            CFilterV2 {
                block_hash: h(22),
                data: Bytes::new(),
                proof_index: 0,
                proof_hashes: vec![],
            };
            3
        ]),
        Message::Mix(MixMessage::new(MixKind::FactoredPoly, Bytes::from(factpoly(2, 3))).unwrap()),
    ]
}

/// Encodes a whole frame and reads it back through a Decred `FrameDecoder`.
fn through_frame(msg: &Message, ctx: &Context) -> Result<Message, String> {
    let mut wire = BytesMut::new();
    encode_message(NET, msg, ctx, &mut wire).map_err(|e| format!("encode: {e}"))?;
    let mut dec = FrameDecoder::new(NET);
    dec.set_protocol_version(ctx.version);
    let mut input: &[u8] = &wire;
    let frame = dec
        .decode(&mut input)
        .map_err(|e| format!("frame: {e}"))?
        .ok_or("incomplete frame")?;
    assert!(input.is_empty());
    Message::decode(frame.command, frame.payload, ctx).map_err(|e| format!("decode: {e}"))
}

#[test]
fn every_decred_message_survives_a_frame() {
    for msg in decred_messages() {
        let back = through_frame(&msg, &Context::DECRED);
        assert_eq!(back.as_ref(), Ok(&msg), "{:?}", msg.command());
    }
    // Legacy addr below protocol 12: entries always carry their time on Decred.
    let mut a = NetAddress::new(
        "192.0.2.7:9108"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .ip(),
        9108,
        ServiceFlags::NETWORK,
    );
    a.time = 1_234_567;
    let addr = Message::Addr(vec![a, a]);
    assert_eq!(through_frame(&addr, &dcr(1)), Ok(addr.clone()));
    let mut out = BytesMut::new();
    addr.encode_payload(&mut out, &dcr(11)).unwrap();
    assert_eq!(out.len(), 1 + 2 * 30, "two timestamped entries");
}

#[test]
fn ping_always_carries_its_nonce_on_decred() {
    for version in [1, 6, 12] {
        let mut out = BytesMut::new();
        Message::Ping(7)
            .encode_payload(&mut out, &dcr(version))
            .unwrap();
        assert_eq!(&out[..], &7u64.to_le_bytes());
        assert_eq!(
            Message::decode(Command::PONG, out.freeze(), &dcr(version)),
            Ok(Message::Pong(7))
        );
    }
}

#[test]
fn version_relay_byte_is_always_written_and_strings_are_ascii() {
    let v = Version {
        user_agent: "/x:1/".into(),
        relay: false,
        ..Version::default()
    };
    let mut out = BytesMut::new();
    Message::Version(v.clone())
        .encode_payload(&mut out, &dcr(1))
        .unwrap();
    assert_eq!(out.last(), Some(&0), "relay byte present at protocol 1");

    let bad = Version {
        user_agent: "/é/".into(),
        ..v.clone()
    };
    assert!(matches!(
        Message::Version(bad).encode_payload(&mut BytesMut::new(), &Context::DECRED),
        Err(EncodeError::Unrepresentable(_))
    ));
    // A non-ASCII user agent on the wire.
    let mut raw = out.to_vec();
    let ua_at = 4 + 8 + 8 + 26 + 26 + 8 + 1;
    raw[ua_at] = 0xc3;
    assert_eq!(
        Message::decode(Command::VERSION, Bytes::from(raw), &Context::DECRED),
        Err(DecodeError::MalformedString)
    );
    // A timestamp beyond what dcrd accepts, even with later fields missing.
    let mut raw = out[..20].to_vec();
    raw[12..20].copy_from_slice(&(MAX_TIMESTAMP + 1).to_le_bytes());
    assert_eq!(
        Message::decode(Command::VERSION, Bytes::from(raw), &Context::DECRED),
        Err(DecodeError::InvalidTimestamp(MAX_TIMESTAMP + 1))
    );
}

#[test]
fn reject_exists_only_below_9_and_never_in_the_stream() {
    let reject = Message::Reject(Reject {
        command: "tx".into(),
        code: RejectCode::DUPLICATE,
        reason: "already have".into(),
        hash: h(1),
    });
    let mut wire = BytesMut::new();
    encode_message(NET, &reject, &dcr(8), &mut wire).unwrap();
    let payload = Bytes::copy_from_slice(&wire[24..]);
    assert_eq!(
        Message::decode(Command::REJECT, payload.clone(), &dcr(8)),
        Ok(reject.clone())
    );
    let mut dec = FrameDecoder::new(NET);
    dec.set_protocol_version(8);
    assert_eq!(
        dec.decode(&mut &wire[..]),
        Err(FrameError::UnknownCommand(Command::REJECT)),
        "dcrd's stream reader does not know reject"
    );
    assert_eq!(
        reject.encode_payload(&mut BytesMut::new(), &dcr(9)),
        Err(EncodeError::InvalidForVersion {
            command: Command::REJECT,
            version: 9
        })
    );
    assert!(matches!(
        Message::decode(Command::REJECT, payload, &dcr(9)),
        Err(DecodeError::InvalidForVersion { .. })
    ));
    let bad = Message::Reject(Reject {
        reason: "\u{7f}".into(),
        ..Reject {
            command: "tx".into(),
            code: RejectCode::DUPLICATE,
            reason: String::new(),
            hash: h(1),
        }
    });
    assert!(matches!(
        bad.encode_payload(&mut BytesMut::new(), &dcr(8)),
        Err(EncodeError::Unrepresentable(_))
    ));
}

#[test]
fn messages_exist_only_on_their_chain() {
    let bitcoin_only = vec![
        Message::SendAddrV2,
        Message::WtxidRelay,
        Message::FilterLoad(FilterLoad {
            filter: Bytes::from_static(&[0; 4]),
            hash_funcs: 1,
            tweak: 0,
            flags: BloomFlags::NONE,
        }),
        Message::FilterClear,
        Message::Headers(vec![]),
        Message::Alert(Bytes::new()),
        Message::CFCheckpt(bitpeer::wire::CFCheckpt {
            filter_type: 0,
            stop_hash: h(1),
            filter_headers: vec![],
        }),
        Message::Tx(bitpeer::wire::msg::tx::build_simple_tx(h(1), 0, 1, &[0x51])),
    ];
    for msg in &bitcoin_only {
        for version in [1, 12] {
            assert_eq!(
                msg.encode_payload(&mut BytesMut::new(), &dcr(version)),
                Err(EncodeError::InvalidForChain(msg.command())),
                "{:?} on Decred",
                msg.command()
            );
        }
    }
    for msg in decred_messages() {
        let shared = matches!(
            msg,
            Message::Version(_)
                | Message::Verack
                | Message::GetAddr
                | Message::Inv(_)
                | Message::GetData(_)
                | Message::NotFound(_)
                | Message::GetBlocks(_)
                | Message::GetHeaders(_)
                | Message::Ping(_)
                | Message::Pong(_)
                | Message::SendHeaders
                | Message::FeeFilter(_)
                | Message::MemPool
        );
        let result = msg.encode_payload(&mut BytesMut::new(), &Context::BITCOIN);
        if shared {
            assert!(result.is_ok(), "{:?} exists on Bitcoin", msg.command());
        } else {
            assert_eq!(
                result,
                Err(EncodeError::InvalidForChain(msg.command())),
                "{:?} on Bitcoin",
                msg.command()
            );
        }
    }
    // Decred-only commands are unknown to a Bitcoin stream, Bitcoin-only ones to a Decred one.
    for command in [
        Command::MININGSTATE,
        Command::MIXPAIRREQ,
        Command::CFILTERV2,
    ] {
        assert_eq!(min_version(command, Chain::Bitcoin), None);
        assert!(matches!(
            Message::decode(command, Bytes::new(), &Context::BITCOIN),
            Ok(Message::Unknown { .. })
        ));
    }
    for command in [
        Command::FILTERLOAD,
        Command::SENDADDRV2,
        Command::WTXIDRELAY,
        Command::CFCHECKPT,
        Command::GETCFILTERS,
        Command::SENDCMPCT,
        Command::REJECT,
    ] {
        assert_eq!(min_version(command, Chain::Decred), None, "{command}");
        let mut wire = BytesMut::new();
        wire.put_slice(&NET.magic_bytes());
        wire.put_slice(&command.to_wire());
        wire.put_u32_le(0);
        wire.put_slice(&bitpeer::wire::checksum(Chain::Decred, &[]));
        assert_eq!(
            FrameDecoder::new(NET).decode(&mut &wire[..]),
            Err(FrameError::UnknownCommand(command))
        );
    }
}

#[test]
fn version_gates_match_wire_md() {
    let gates = [
        (Command::SENDHEADERS, versions::SEND_HEADERS),
        (Command::FEEFILTER, versions::FEE_FILTER),
        (Command::GETCFILTER, versions::NODE_CF),
        (Command::GETCFHEADERS, versions::NODE_CF),
        (Command::GETCFTYPES, versions::NODE_CF),
        (Command::CFILTER, versions::NODE_CF),
        (Command::CFHEADERS, versions::NODE_CF),
        (Command::CFTYPES, versions::NODE_CF),
        (Command::GETCFILTERV2, versions::CFILTER_V2),
        (Command::CFILTERV2, versions::CFILTER_V2),
        (Command::GETINITSTATE, versions::INIT_STATE),
        (Command::INITSTATE, versions::INIT_STATE),
        (Command::MIXPAIRREQ, versions::MIX),
        (Command::MIXSECRETS, versions::MIX),
        (Command::GETCFSV2, versions::BATCHED_CFILTERS_V2),
        (Command::CFILTERSV2, versions::BATCHED_CFILTERS_V2),
        (Command::ADDRV2, versions::ADDRV2),
        (Command::PONG, 0),
        (Command::GETMININGSTATE, 0),
    ];
    for (command, min) in gates {
        assert_eq!(min_version(command, Chain::Decred), Some(min), "{command}");
        if min > 0 {
            assert!(matches!(
                Message::decode(command, Bytes::new(), &dcr(min - 1)),
                Err(DecodeError::InvalidForVersion { .. })
            ));
            assert_eq!(
                max_payload_len(command, min - 1, Chain::Decred),
                0,
                "{command}"
            );
        }
    }
    for msg in decred_messages() {
        let Some(min) = min_version(msg.command(), Chain::Decred).filter(|m| *m > 0) else {
            continue;
        };
        assert_eq!(
            msg.encode_payload(&mut BytesMut::new(), &dcr(min - 1)),
            Err(EncodeError::InvalidForVersion {
                command: msg.command(),
                version: min - 1
            })
        );
        assert!(msg.encode_payload(&mut BytesMut::new(), &dcr(min)).is_ok());
    }
    // addr is replaced by addrv2 at 12.
    let addr = Message::Addr(vec![]);
    assert!(addr.encode_payload(&mut BytesMut::new(), &dcr(11)).is_ok());
    assert!(matches!(
        addr.encode_payload(&mut BytesMut::new(), &dcr(12)),
        Err(EncodeError::InvalidForVersion { .. })
    ));
    assert!(matches!(
        Message::decode(Command::ADDR, Bytes::from_static(&[0]), &dcr(12)),
        Err(DecodeError::InvalidForVersion { .. })
    ));
    assert_eq!(max_payload_len(Command::ADDR, 12, Chain::Decred), 0);
    assert_eq!(max_payload_len(Command::ADDR, 11, Chain::Decred), 30_003);
}

#[test]
fn payload_caps_match_wire_md() {
    let caps = [
        (Command::VERSION, 358),
        (Command::ADDRV2, 51_003),
        (Command::INV, 1_800_003),
        (Command::GETBLOCKS, 16_039),
        (Command::HEADERS, 362_003),
        (Command::BLOCK, 1_310_720),
        (Command::TX, 1_310_720),
        (Command::PING, 8),
        (Command::MININGSTATE, 1546),
        (Command::GETCFHEADERS, 16_036),
        (Command::CFILTER, 262_182),
        (Command::CFHEADERS, 64_036),
        (Command::CFTYPES, 259),
        (Command::CFILTERV2, 263_210),
        (Command::GETINITSTATE, 1057),
        (Command::INITSTATE, 1763),
        (Command::GETCFSV2, 64),
        (Command::CFILTERSV2, 26_321_001),
        (Command::MIXPAIRREQ, 8_476_848),
        (Command::MIXKEYXCHG, 17_815),
        (Command::MIXCPHRTXT, 552_584),
        (Command::MIXSLOTRES, 17_318_030),
        (Command::MIXFACTPOLY, 49_291),
        (Command::MIXDCNET, 20_988_047),
        (Command::MIXCONFIRM, 1_016_520),
        (Command::MIXSECRETS, 70_831),
    ];
    for (command, cap) in caps {
        assert_eq!(
            max_payload_len(command, 12, Chain::Decred),
            cap,
            "{command}"
        );
    }
    assert_eq!(max_payload_len(Command::BLOCK, 3, Chain::Decred), 1_000_000);
    // The largest lists each message allows fit its cap.
    for msg in decred_messages() {
        let mut out = BytesMut::new();
        msg.encode_payload(&mut out, &Context::DECRED).unwrap();
        assert!(out.len() <= max_payload_len(msg.command(), 12, Chain::Decred) as usize);
    }
    // A frame announcing more than the command's cap is refused before its payload arrives.
    let mut wire = BytesMut::new();
    wire.put_slice(&NET.magic_bytes());
    wire.put_slice(&Command::MIXKEYXCHG.to_wire());
    wire.put_u32_le(17_816);
    wire.put_slice(&[0; 4]);
    assert!(matches!(
        FrameDecoder::new(NET).decode(&mut &wire[..]),
        Err(FrameError::PayloadTooLargeForCommand { max: 17_815, .. })
    ));
}

#[test]
fn lists_over_their_limits_are_refused_both_ways() {
    let too_many = [
        (
            Message::MiningState(MiningState {
                block_hashes: vec![h(1); 9],
                ..MiningState::default()
            }),
            Field::Blocks,
        ),
        (
            Message::InitState(InitState {
                tspend_hashes: vec![h(1); 8],
                ..InitState::default()
            }),
            Field::TSpends,
        ),
        (Message::CFTypes(vec![0; 257]), Field::FilterTypes),
        (
            Message::GetInitState(GetInitState {
                types: vec!["a".into(); 33],
            }),
            Field::InitStateTypes,
        ),
        (
            Message::CFiltersV2(vec![
                CFilterV2 {
                    block_hash: h(1),
                    data: Bytes::new(),
                    proof_index: 0,
                    proof_hashes: vec![],
                };
                101
            ]),
            Field::CFilters,
        ),
    ];
    for (msg, field) in too_many {
        assert!(
            matches!(
                msg.encode_payload(&mut BytesMut::new(), &Context::DECRED),
                Err(EncodeError::TooMany { field: f, .. }) if f == field
            ),
            "{field:?}"
        );
    }
    assert!(matches!(
        Message::DcrAddrV2(vec![]).encode_payload(&mut BytesMut::new(), &Context::DECRED),
        Err(EncodeError::Unrepresentable(_))
    ));
    // A huge count in a tiny payload fails on the count or at the end of input, never by
    // allocating for the count.
    for (command, payload) in [
        (Command::CFILTERSV2, vec![100]),
        (Command::HEADERS, vec![0xfd, 0xd0, 0x07]),
        (Command::INV, vec![0xfd, 0x50, 0xc3]),
        (Command::ADDRV2, vec![0xfd, 0xe8, 0x03]),
        (Command::BLOCK, {
            let mut b = DcrBlockHeader::default().to_bytes().to_vec();
            b.extend_from_slice(&[0xfd, 0xab, 0xaa]);
            b
        }),
    ] {
        assert!(matches!(
            Message::decode(command, Bytes::from(payload), &Context::DECRED),
            Err(DecodeError::Truncated { .. })
        ));
    }
}

#[test]
fn blocks_and_transactions_are_views() {
    let raw = Bytes::from(block_bytes());
    let block = DcrBlock::from_bytes(raw.clone(), 12).unwrap();
    assert_eq!(block.header().height, 77);
    assert_eq!(block.tx_count(), 2);
    assert_eq!(block.stake_tx_count(), 1);
    let txs: Vec<DcrTx> = block.transactions().collect();
    let stxs: Vec<DcrTx> = block.stake_transactions().collect();
    assert_eq!(txs[1].as_bytes(), &Bytes::from(tx_bytes(2)));
    assert_eq!(stxs[0].as_bytes(), &Bytes::from(tx_bytes(3)));
    // Zero-copy: each transaction points into the block's buffer.
    let start = raw.as_ptr() as usize;
    let at = txs[0].as_bytes().as_ptr() as usize;
    assert!(at > start && at < start + raw.len());
    let tx = &stxs[0];
    assert_eq!(tx.witnesses().next().unwrap().signature_script, &[0xab]);
    assert_eq!(tx.outputs().next().unwrap().pk_script, &[0x51, 0x87]);
    assert_ne!(tx.full_hash(), tx.txid());
    assert_eq!(
        Message::DcrTx(tx.clone()).inventory(),
        Some(InvVect::new(InvType::TX, tx.txid()))
    );
    assert_eq!(
        Message::DcrBlock(block.clone()).inventory(),
        Some(InvVect::new(InvType::BLOCK, block.block_hash()))
    );
    // The per-tree limit depends on the protocol version.
    let mut b = DcrBlockHeader::default().to_bytes().to_vec();
    b.extend_from_slice(&[0xfd, 0x37, 0x82]); // 33 334 + 1
    assert!(matches!(
        DcrBlock::from_bytes(Bytes::from(b.clone()), 3),
        Err(DecodeError::TooMany {
            field: Field::Transactions,
            max: 33_334,
            ..
        })
    ));
    assert!(matches!(
        DcrBlock::from_bytes(Bytes::from(b), 4),
        Err(DecodeError::Truncated { .. })
    ));
}

/// A `mixpairreq` payload with the given amounts, UTXO count and change flag.
fn pairreq(amount: i64, input_value: i64, utxos: u16, change: u8) -> Vec<u8> {
    let mut b = vec![0x33; 64 + 33];
    b.extend_from_slice(&100u32.to_le_bytes());
    b.extend_from_slice(&amount.to_le_bytes());
    b.extend_from_slice(b"\x12P2PKH-secp256k1-v0");
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&input_value.to_le_bytes());
    let mut count = BytesMut::new();
    put_compact_size(&mut count, u64::from(utxos));
    b.extend_from_slice(&count);
    for _ in 0..utxos.min(2) {
        b.extend_from_slice(&[7; 32]);
        b.extend_from_slice(&[1, 0, 0, 0, 0]);
        b.extend_from_slice(&[0, 1, 2, 1, 3, 0]);
    }
    b.push(change);
    if change == 1 {
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&[0, 0, 1, 0x51]);
    }
    b.extend_from_slice(&[0, 0]);
    b
}

#[test]
fn mix_messages_enforce_every_bound() {
    let ok = MixMessage::new(MixKind::PairReq, Bytes::from(pairreq(10, 20, 2, 1))).unwrap();
    assert_eq!(ok.expiry(), Some(100));
    assert_eq!(ok.session_id(), None);
    assert_eq!(ok.prev_msgs().len(), 0);
    assert_eq!(
        Message::Mix(ok.clone()).inventory(),
        Some(InvVect::new(InvType::MIX, ok.hash()))
    );
    let cases: [(MixKind, Vec<u8>, DecodeError); 5] = [
        (
            MixKind::PairReq,
            pairreq(-1, 20, 0, 0),
            DecodeError::Invalid("negative mix amount"),
        ),
        (
            MixKind::PairReq,
            pairreq(1, -20, 0, 0),
            DecodeError::Invalid("negative input value"),
        ),
        (
            MixKind::PairReq,
            pairreq(1, 2, 0, 2),
            DecodeError::Invalid("invalid change output flag"),
        ),
        (
            MixKind::PairReq,
            pairreq(1, 2, 513, 0),
            DecodeError::TooMany {
                field: Field::MixUtxos,
                count: 513,
                max: 512,
            },
        ),
        (
            MixKind::FactoredPoly,
            {
                let mut b = factpoly(0, 0);
                let n = b.len();
                b.truncate(n - 2);
                b.extend_from_slice(&[0xfd, 0x01, 0x04]);
                b
            },
            DecodeError::TooMany {
                field: Field::MixElements,
                count: 1025,
                max: 1024,
            },
        ),
    ];
    for (kind, raw, err) in cases {
        assert_eq!(MixMessage::new(kind, Bytes::from(raw)), Err(err));
    }
    // Session messages with DC-net dimensions.
    let session = |tail: &[u8]| {
        let mut b = vec![0x44; 64 + 33 + 32];
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(tail);
        Bytes::from(b)
    };
    assert_eq!(
        MixMessage::new(MixKind::SlotReserve, session(&[0])),
        Err(DecodeError::TooFew {
            field: Field::MixElements,
            count: 0,
            min: 1
        })
    );
    assert_eq!(
        MixMessage::new(MixKind::SlotReserve, session(&[1, 0xfd, 0x01, 0x02])),
        Err(DecodeError::TooMany {
            field: Field::MixElements,
            count: 513,
            max: 512
        })
    );
    assert_eq!(
        MixMessage::new(MixKind::DCNet, session(&[1, 1, 21])),
        Err(DecodeError::Invalid("mixed message length must be 20"))
    );
    let mut dcnet = vec![1, 2, 20];
    dcnet.extend_from_slice(&[0x55; 40]);
    dcnet.push(0);
    let m = MixMessage::new(MixKind::DCNet, session(&dcnet)).unwrap();
    assert_eq!(m.run(), Some(1));
    assert_eq!(
        MixMessage::new(MixKind::Ciphertexts, session(&[0xfd, 0x01, 0x02])),
        Err(DecodeError::TooMany {
            field: Field::PrevMixMsgs,
            count: 513,
            max: 512
        })
    );
    // Mix messages exist from protocol 10.
    assert!(matches!(
        Message::decode(Command::MIXFACTPOLY, Bytes::from(factpoly(0, 0)), &dcr(9)),
        Err(DecodeError::InvalidForVersion { .. })
    ));
}

/// Touches every accessor and hash of a decoded message (none may panic).
fn touch(msg: &Message) {
    let _ = msg.inventory();
    match msg {
        Message::DcrTx(t) => {
            let _ = (t.full_hash(), t.lock_time(), t.expiry());
            let _ = (
                t.inputs().count(),
                t.outputs().count(),
                t.witnesses().count(),
            );
        }
        Message::DcrBlock(b) => {
            let _ = b.header();
            for t in b.transactions().chain(b.stake_transactions()) {
                let _ = (t.full_hash(), t.outputs().count(), t.witnesses().count());
            }
        }
        Message::Mix(m) => {
            let _ = (
                m.signature(),
                m.identity(),
                m.session_id(),
                m.run(),
                m.expiry(),
            );
            assert_eq!(m.prev_msgs().iter().count(), m.prev_msgs().len());
            let body = m.body().expect("a decoded mix message parses");
            assert!(!format!("{body:?}").is_empty());
        }
        _ => {}
    }
}

/// dcrd's message vectors, mutated at random (seeded): decoding never panics, and every payload
/// that decodes (but a `version`, whose optional fields may be missing) re-encodes to exactly
/// the same bytes, which decode to the same message.
#[test]
fn mutated_vectors_never_panic_and_accepted_payloads_reencode_identically() {
    use rand::{Rng, SeedableRng};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/dcrd_wire.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
    let (mut tried, mut accepted) = (0usize, 0usize);
    for v in file["vectors"].as_array().expect("vectors") {
        if v["kind"] != "message" {
            continue;
        }
        let command = Command::new(v["command"].as_str().expect("command")).expect("command");
        let base = hex::decode(v["payload_hex"].as_str().expect("payload")).expect("hex");
        for i in 0..400 {
            let mut p = base.clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..=p.len());
                match rng.gen_range(0..4) {
                    0 if at < p.len() => p[at] = rng.r#gen(),
                    1 => p.truncate(at),
                    2 => p.insert(at, rng.r#gen()),
                    _ if at < p.len() => p[at] = [0, 1, 0xfd, 0xfe, 0xff, 0x7f, 0x80][i % 7],
                    _ => {}
                }
            }
            let ctx = dcr([1, 5, 6, 8, 10, 11, 12][i % 7]);
            tried += 1;
            let Ok(msg) = Message::decode(command, Bytes::from(p.clone()), &ctx) else {
                continue;
            };
            accepted += 1;
            touch(&msg);
            if matches!(msg, Message::Version(_)) {
                continue;
            }
            let mut out = BytesMut::new();
            msg.encode_payload(&mut out, &ctx)
                .unwrap_or_else(|e| panic!("{command}: accepted but does not encode: {e}"));
            assert_eq!(&out[..], &p[..], "{command} re-encodes identically");
            assert_eq!(
                Message::decode(command, out.freeze(), &ctx).as_ref(),
                Ok(&msg)
            );
        }
    }
    assert!(
        tried > 100_000 && accepted > 5_000,
        "{tried} tried, {accepted} accepted"
    );
}
