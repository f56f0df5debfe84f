//! Every vector of `../shared/vectors/dcrd_wire.json` (rows of dcrd's own `wire` tests, see the
//! README beside the file) through the public codec with `Chain::Decred`:
//!
//! * valid inputs decode to exactly the listed `fields` (every key compared, recursively), carry
//!   the listed block hash, txid or mix message hash, re-encode to the same bytes (unless
//!   `reencodes_identically: false`) and the re-encoding decodes to the same fields again;
//! * invalid inputs fail with the listed error kind, through [`decode_error_kind`] /
//!   [`frame_error_kind`], which map our typed errors to dcrd's `Err*` codes.
//!
//! Where our documented choices differ from dcrd the test says so next to the code that encodes
//! the choice.

mod vectors_common;

use vectors_common::{bytes_of, compare, pver};

use std::collections::BTreeMap;

use bitpeer::wire::decred::mix::{MixBody, MixMessage};
use bitpeer::wire::decred::{DcrAddrV2, DcrBlockHeader, DcrTx};
use bitpeer::wire::encode::{MAX_VAR_LEN, Reader, put_compact_size, put_var_bytes};
use bitpeer::wire::{
    Command, Context, DecodeError, Encoding, Field, FrameDecoder, FrameError, HEADER_SIZE, Hash256,
    InvVect, Message, NetAddress, UnknownCommands, encode_message, min_version, parse_header,
};
use bitpeer::{Chain, Network};
use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value, json};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/vectors/dcrd_wire.json"
);

// ---------------------------------------------------------------------------------------------
// Error kinds
// ---------------------------------------------------------------------------------------------

/// dcrd's error code (WIRE.md section 6) for one of our payload decode errors.
fn decode_error_kind(e: &DecodeError) -> String {
    let code = match e {
        DecodeError::Truncated { available: 0, .. } => "EOF",
        DecodeError::Truncated { .. } => "UnexpectedEOF",
        DecodeError::NonCanonicalCompactSize => "ErrNonCanonicalVarInt",
        DecodeError::TooLong { field, .. } => match field {
            Field::VarString => "ErrVarStringTooLong",
            Field::UserAgent => "ErrUserAgentTooLong",
            Field::VarBytes | Field::Script | Field::CompactFilter => "ErrVarBytesTooLong",
            other => return format!("<unmapped TooLong {other:?}>"),
        },
        DecodeError::TooMany { field, .. } => match field {
            Field::Addresses => "ErrTooManyAddrs",
            Field::InvVectors => "ErrTooManyVectors",
            Field::Locators => "ErrTooManyLocators",
            Field::Headers => "ErrTooManyHeaders",
            // dcrd reports block transactions, inputs and outputs alike.
            Field::Transactions | Field::TxInputs | Field::TxOutputs => "ErrTooManyTxs",
            Field::Blocks => "ErrTooManyBlocks",
            Field::Votes => "ErrTooManyVotes",
            Field::TSpends => "ErrTooManyTSpends",
            Field::Proofs => "ErrTooManyProofs",
            Field::FilterTypes => "ErrTooManyFilterTypes",
            Field::FilterHeaders => "ErrTooManyFilterHeaders",
            Field::CFilters => "ErrTooManyCFilters",
            Field::InitStateTypes => "ErrTooManyInitStateTypes",
            Field::PrevMixMsgs => "ErrTooManyPrevMixMsgs",
            Field::MixUtxos => "ErrTooManyMixPairReqUTXOs",
            // Mix matrix dimensions and root counts: dcrd's generic invalid-message code.
            Field::MixElements => "ErrInvalidMsg",
            other => return format!("<unmapped TooMany {other:?}>"),
        },
        DecodeError::TooFew { field, .. } => match field {
            Field::Addresses => "ErrTooFewAddrs",
            Field::MixElements => "ErrInvalidMsg",
            other => return format!("<unmapped TooFew {other:?}>"),
        },
        DecodeError::HeaderContainsTxs(_) => "ErrHeaderContainsTxs",
        DecodeError::InvalidForVersion { .. } => "ErrMsgInvalidForPVer",
        DecodeError::TrailingBytes { .. } => "ErrTrailingBytes",
        DecodeError::UnknownAddressType(_) => "ErrUnknownNetAddrType",
        DecodeError::UnknownTxType(_) => "ErrUnknownTxType",
        DecodeError::MismatchedWitnessCount { .. } => "ErrMismatchedWitnessCount",
        DecodeError::InvalidTimestamp(_) => "ErrInvalidTimestamp",
        DecodeError::MalformedString => "ErrMalformedStrictString",
        DecodeError::Invalid(_) => "ErrInvalidMsg",
        other => return format!("<unmapped {other:?}>"),
    };
    code.to_string()
}

/// dcrd's error code for one of our frame errors.
fn frame_error_kind(e: &FrameError) -> String {
    let code = match e {
        FrameError::WrongNetwork { .. } => "ErrWrongNetwork",
        FrameError::MalformedCommand(_) => "ErrMalformedCmd",
        // dcrd has one code for the global and the per-command cap.
        FrameError::PayloadTooLarge { .. } | FrameError::PayloadTooLargeForCommand { .. } => {
            "ErrPayloadTooLarge"
        }
        FrameError::BadChecksum { .. } => "ErrPayloadChecksum",
        FrameError::UnknownCommand(_) => "ErrUnknownCmd",
        other => return format!("<unmapped {other:?}>"),
    };
    code.to_string()
}

// ---------------------------------------------------------------------------------------------
// Our values in dcrd's `fields` shape
// ---------------------------------------------------------------------------------------------

fn hx(b: &[u8]) -> Value {
    Value::String(hex::encode(b))
}

fn hash(h: &Hash256) -> Value {
    hx(&h.0)
}

fn hashes(list: impl IntoIterator<Item = Hash256>) -> Value {
    Value::Array(list.into_iter().map(|h| hash(&h)).collect())
}

fn hex_list<'a>(list: impl IntoIterator<Item = &'a [u8]>) -> Value {
    Value::Array(list.into_iter().map(hx).collect())
}

fn net_address(a: &NetAddress, with_time: bool) -> Value {
    let mut m = Map::new();
    m.insert("IP".into(), Value::String(a.ip_addr().to_string()));
    m.insert("Port".into(), json!(a.port));
    m.insert("Services".into(), json!(a.services.0));
    if with_time {
        m.insert("Timestamp".into(), json!(a.time));
    }
    Value::Object(m)
}

fn addr_v2(a: &DcrAddrV2) -> Value {
    json!({
        "EncodedAddr": hx(&a.addr.to_bytes()),
        "Port": a.port,
        "Services": a.services.0,
        "Timestamp": a.time,
        "Type": a.addr.type_id(),
    })
}

fn inv_vect(iv: &InvVect) -> Value {
    json!({ "Hash": hash(&iv.hash), "Type": iv.inv_type.0 })
}

fn header(h: &DcrBlockHeader) -> Value {
    json!({
        "Version": h.version,
        "PrevBlock": hash(&h.prev_block),
        "MerkleRoot": hash(&h.merkle_root),
        "StakeRoot": hash(&h.stake_root),
        "VoteBits": h.vote_bits,
        "FinalState": hx(&h.final_state),
        "Voters": h.voters,
        "FreshStake": h.fresh_stake,
        "Revocations": h.revocations,
        "PoolSize": h.pool_size,
        "Bits": h.bits,
        "SBits": h.sbits,
        "Height": h.height,
        "Size": h.size,
        "Timestamp": h.timestamp,
        "Nonce": h.nonce,
        "ExtraData": hx(&h.extra_data),
        "StakeVersion": h.stake_version,
    })
}

fn tx(t: &DcrTx) -> Value {
    // dcrd builds one TxIn per input from whichever parts are on the wire; absent parts are
    // zero, and the signature script of a prefix-only transaction is nil (JSON null).
    let prefix: Vec<_> = t.inputs().collect();
    let witness: Vec<_> = t.witnesses().collect();
    let n = t.input_count();
    assert!(
        prefix.len() == n || prefix.is_empty(),
        "inputs() yields every input"
    );
    assert!(
        witness.len() == n || witness.is_empty(),
        "witnesses() yields every input"
    );
    assert!(!(prefix.is_empty() && witness.is_empty()) || n == 0);
    let inputs: Vec<Value> = (0..n)
        .map(|i| {
            let (prev, sequence) = match prefix.get(i) {
                Some(p) => (
                    json!({ "Hash": hash(&p.prev_hash), "Index": p.prev_index, "Tree": p.tree }),
                    p.sequence,
                ),
                None => (
                    json!({ "Hash": hash(&Hash256::ZERO), "Index": 0, "Tree": 0 }),
                    0,
                ),
            };
            let (value_in, height, index, script) = match witness.get(i) {
                Some(w) => (
                    w.value_in,
                    w.block_height,
                    w.block_index,
                    hx(w.signature_script),
                ),
                None => (0, 0, 0, Value::Null),
            };
            json!({
                "PreviousOutPoint": prev,
                "Sequence": sequence,
                "ValueIn": value_in,
                "BlockHeight": height,
                "BlockIndex": index,
                "SignatureScript": script,
            })
        })
        .collect();
    let outputs: Vec<Value> = t
        .outputs()
        .map(|o| json!({ "Value": o.value, "Version": o.version, "PkScript": hx(o.pk_script) }))
        .collect();
    assert_eq!(
        outputs.len(),
        t.output_count(),
        "outputs() yields every output"
    );
    json!({
        "SerType": t.ser_type().to_u16(),
        "Version": t.version(),
        "TxIn": inputs,
        "TxOut": outputs,
        "LockTime": t.lock_time(),
        "Expiry": t.expiry(),
    })
}

/// A mix message in dcrd's shape; also checks the in-place accessors against the full parse.
fn mix(m: &MixMessage) -> Value {
    let body = m.body().expect("a decoded mix message parses");
    let seen: Vec<Hash256> = m.prev_msgs().iter().collect();
    assert_eq!(seen, body.prev_msgs().iter().collect::<Vec<_>>());
    let mut f = Map::new();
    f.insert("Signature".into(), hx(m.signature()));
    f.insert("Identity".into(), hx(m.identity()));
    let session = |f: &mut Map<String, Value>, sid: &[u8; 32], run: u32| {
        assert_eq!(m.session_id(), Some(sid), "session_id() reads in place");
        assert_eq!(m.run(), Some(run), "run() reads in place");
        f.insert("SessionID".into(), hx(sid));
        f.insert("Run".into(), json!(run));
    };
    let rows = |items: Vec<Value>, width: usize| -> Value {
        Value::Array(
            items
                .chunks(width.max(1))
                .map(|c| Value::Array(c.to_vec()))
                .collect(),
        )
    };
    match body {
        MixBody::PairReq(p) => {
            assert_eq!(m.session_id(), None);
            assert_eq!(m.run(), None);
            assert_eq!(m.expiry(), Some(p.expiry));
            let utxos: Vec<Value> = p
                .utxos
                .iter()
                .map(|u| {
                    json!({
                        "OutPoint": { "Hash": hash(&u.prev_hash), "Index": u.prev_index, "Tree": u.tree },
                        "Script": hx(u.script),
                        "PubKey": hx(u.pubkey),
                        "Signature": hx(u.signature),
                        "Opcode": u.opcode,
                    })
                })
                .collect();
            let change = match p.change {
                Some(c) => {
                    json!({ "Value": c.value, "Version": c.version, "PkScript": hx(c.pk_script) })
                }
                None => Value::Null,
            };
            f.insert("Expiry".into(), json!(p.expiry));
            f.insert("MixAmount".into(), json!(p.mix_amount));
            f.insert("ScriptClass".into(), json!(p.script_class));
            f.insert("TxVersion".into(), json!(p.tx_version));
            f.insert("LockTime".into(), json!(p.lock_time));
            f.insert("MessageCount".into(), json!(p.message_count));
            f.insert("InputValue".into(), json!(p.input_value));
            f.insert("UTXOs".into(), Value::Array(utxos));
            f.insert("Change".into(), change);
            f.insert("Flags".into(), json!(p.flags));
            f.insert("PairingFlags".into(), json!(p.pairing_flags));
        }
        MixBody::KeyExchange(k) => {
            session(&mut f, k.session_id, k.run);
            f.insert("Epoch".into(), json!(k.epoch));
            f.insert("Pos".into(), json!(k.pos));
            f.insert("ECDH".into(), hx(k.ecdh));
            f.insert("PQPK".into(), hx(k.pqpk));
            f.insert("Commitment".into(), hx(k.commitment));
            f.insert("SeenPRs".into(), hashes(k.seen_pair_reqs));
        }
        MixBody::Ciphertexts(c) => {
            session(&mut f, c.session_id, c.run);
            f.insert(
                "Ciphertexts".into(),
                hex_list(c.ciphertexts.iter().map(|c| &c[..])),
            );
            f.insert("SeenKeyExchanges".into(), hashes(c.seen_key_exchanges));
        }
        MixBody::SlotReserve(s) => {
            session(&mut f, s.session_id, s.run);
            assert_eq!(s.dc_mix.len(), s.mcount * s.kpcount);
            let values: Vec<Value> = s.dc_mix.iter().map(hx).collect();
            f.insert("DCMix".into(), rows(values, s.kpcount));
            f.insert("SeenCiphertexts".into(), hashes(s.seen_ciphertexts));
        }
        MixBody::FactoredPoly(p) => {
            session(&mut f, p.session_id, p.run);
            f.insert("Roots".into(), hex_list(p.roots));
            f.insert("SeenSlotReserves".into(), hashes(p.seen_slot_reserves));
        }
        MixBody::DCNet(d) => {
            session(&mut f, d.session_id, d.run);
            assert_eq!(d.dc_net.len(), d.vectors * d.vector_len);
            let values: Vec<Value> = d.dc_net.iter().map(|v| hx(v)).collect();
            f.insert("DCNet".into(), rows(values, d.vector_len));
            f.insert("SeenSlotReserves".into(), hashes(d.seen_slot_reserves));
        }
        MixBody::Confirm(c) => {
            session(&mut f, c.session_id, c.run);
            f.insert("Mix".into(), tx(&c.mix));
            f.insert("SeenDCNets".into(), hashes(c.seen_dc_nets));
        }
        MixBody::Secrets(s) => {
            session(&mut f, s.session_id, s.run);
            f.insert("Seed".into(), hx(s.seed));
            f.insert("SlotReserveMsgs".into(), hex_list(s.slot_reserve_msgs));
            f.insert(
                "DCNetMsgs".into(),
                hex_list(s.dc_net_msgs.iter().map(|v| &v[..])),
            );
            f.insert("SeenSecrets".into(), hashes(s.seen_secrets));
        }
    }
    Value::Object(f)
}

/// A decoded message in dcrd's `fields` shape. `Err` = the outcome is an error code.
fn message_fields(msg: &Message) -> Result<Value, String> {
    let inv_list = |l: &[InvVect]| json!({ "InvList": l.iter().map(inv_vect).collect::<Vec<_>>() });
    Ok(match msg {
        Message::Version(v) => json!({
            "ProtocolVersion": v.protocol_version,
            "Services": v.services.0,
            "Timestamp": v.timestamp,
            "AddrYou": net_address(&v.receiver, false),
            "AddrMe": net_address(&v.sender, false),
            "Nonce": v.nonce,
            "UserAgent": v.user_agent,
            "LastBlock": v.start_height,
            "DisableRelayTx": !v.relay,
            "Relay": v.relay,
        }),
        Message::Verack
        | Message::GetAddr
        | Message::SendHeaders
        | Message::MemPool
        | Message::GetMiningState
        | Message::GetCFTypes => json!({}),
        // Decred `addr` entries always carry their time.
        Message::Addr(list) => {
            json!({ "AddrList": list.iter().map(|a| net_address(a, true)).collect::<Vec<_>>() })
        }
        Message::DcrAddrV2(list) => {
            json!({ "AddrList": list.iter().map(addr_v2).collect::<Vec<_>>() })
        }
        Message::Inv(l) | Message::GetData(l) | Message::NotFound(l) => inv_list(l),
        Message::GetBlocks(g) | Message::GetHeaders(g) => json!({
            "ProtocolVersion": g.version,
            "BlockLocatorHashes": hashes(g.locator.iter().copied()),
            "HashStop": hash(&g.stop),
        }),
        Message::DcrHeaders(h) => json!({ "Headers": h.iter().map(header).collect::<Vec<_>>() }),
        Message::DcrBlock(b) => {
            assert_eq!(b.transactions().len(), b.tx_count());
            assert_eq!(b.stake_transactions().len(), b.stake_tx_count());
            json!({
                "Header": header(&b.header()),
                "Transactions": b.transactions().map(|t| tx(&t)).collect::<Vec<_>>(),
                "STransactions": b.stake_transactions().map(|t| tx(&t)).collect::<Vec<_>>(),
            })
        }
        Message::DcrTx(t) => tx(t),
        Message::Ping(n) | Message::Pong(n) => json!({ "Nonce": n }),
        Message::Reject(r) => json!({
            "Cmd": r.command,
            "Code": r.code.0,
            "Reason": r.reason,
            "Hash": hash(&r.hash),
        }),
        Message::FeeFilter(fee) => json!({ "MinFee": fee }),
        Message::MiningState(m) => json!({
            "Version": m.version,
            "Height": m.height,
            "BlockHashes": hashes(m.block_hashes.iter().copied()),
            "VoteHashes": hashes(m.vote_hashes.iter().copied()),
        }),
        Message::GetInitState(g) => json!({ "Types": g.types }),
        Message::InitState(s) => json!({
            "BlockHashes": hashes(s.block_hashes.iter().copied()),
            "VoteHashes": hashes(s.vote_hashes.iter().copied()),
            "TSpendHashes": hashes(s.tspend_hashes.iter().copied()),
        }),
        Message::GetCFilter(g) => json!({
            "BlockHash": hash(&g.block_hash),
            "FilterType": g.filter_type,
        }),
        Message::DcrGetCFHeaders(g) => json!({
            "BlockLocatorHashes": hashes(g.locator.iter().copied()),
            "HashStop": hash(&g.stop_hash),
            "FilterType": g.filter_type,
        }),
        Message::DcrCFilter(c) => json!({
            "BlockHash": hash(&c.block_hash),
            "FilterType": c.filter_type,
            "Data": hx(&c.data),
        }),
        Message::DcrCFHeaders(c) => json!({
            "StopHash": hash(&c.stop_hash),
            "FilterType": c.filter_type,
            "HeaderHashes": hashes(c.header_hashes.iter().copied()),
        }),
        Message::CFTypes(types) => json!({ "SupportedFilters": hx(types) }),
        Message::GetCFilterV2(h) => json!({ "BlockHash": hash(h) }),
        Message::CFilterV2(c) => cfilter_v2(c),
        Message::GetCFsV2(g) => json!({
            "StartHash": hash(&g.start_hash),
            "EndHash": hash(&g.end_hash),
        }),
        Message::CFiltersV2(list) => {
            json!({ "CFilters": list.iter().map(cfilter_v2).collect::<Vec<_>>() })
        }
        Message::Mix(m) => mix(m),
        // dcrd's stream reader answers ErrUnknownCmd for commands it does not know.
        Message::Unknown { .. } => return Err("ErrUnknownCmd".into()),
        other => return Err(format!("<no dcrd shape for {:?}>", other.command())),
    })
}

fn cfilter_v2(c: &bitpeer::wire::decred::CFilterV2) -> Value {
    json!({
        "BlockHash": hash(&c.block_hash),
        "Data": hx(&c.data),
        "ProofIndex": c.proof_index,
        "ProofHashes": hashes(c.proof_hashes.iter().copied()),
    })
}

// ---------------------------------------------------------------------------------------------
// Decoding one vector
// ---------------------------------------------------------------------------------------------

/// What a valid input decoded to.
struct Decoded {
    /// dcrd-shaped fields.
    fields: Value,
    /// Our re-encoding of the decoded value.
    reencoded: Vec<u8>,
    /// The fields the re-encoding decodes to.
    redecoded: Value,
    /// Block hash or txid (wire order).
    hash: Option<Hash256>,
    /// Mix message hash.
    mix_hash: Option<Hash256>,
    /// Bytes the frame decoder consumed (frames only).
    bytes_read: Option<usize>,
}

type Outcome = Result<Decoded, String>;

fn context(v: &Value) -> Context {
    Context {
        chain: Chain::Decred,
        version: pver(v),
        encoding: Encoding::Base,
    }
}

/// Runs a primitive decoder over the whole input; leftover bytes are an error.
fn primitive<T>(
    input: &[u8],
    decode: impl Fn(&mut Reader<'_>) -> Result<T, String>,
    shape: impl Fn(&T) -> Value,
    encode: impl Fn(&T, &mut BytesMut),
) -> Outcome {
    let mut r = Reader::new(input);
    let value = decode(&mut r)?;
    if !r.is_empty() {
        return Err(format!("<{} bytes left over>", r.remaining()));
    }
    let mut out = BytesMut::new();
    encode(&value, &mut out);
    let mut r2 = Reader::new(&out);
    let redecoded = decode(&mut r2).map_err(|e| format!("<re-encoding does not decode: {e}>"))?;
    Ok(Decoded {
        fields: shape(&value),
        reencoded: out.to_vec(),
        redecoded: shape(&redecoded),
        hash: None,
        mix_hash: None,
        bytes_read: None,
    })
}

fn de(e: DecodeError) -> String {
    decode_error_kind(&e)
}

fn decode_primitive(v: &Value) -> Outcome {
    let input = bytes_of(v, "payload_hex");
    match v["kind"].as_str().unwrap() {
        "varint" => primitive(
            &input,
            |r| r.read_compact_size().map_err(de),
            |n| json!(n),
            |n, out| put_compact_size(out, *n),
        ),
        "varstring" => primitive(
            &input,
            |r| r.read_var_string(MAX_VAR_LEN, Field::VarString).map_err(de),
            |s| json!(s),
            |s, out| put_var_bytes(out, s.as_bytes()),
        ),
        "asciivarstring" => {
            let max = v["max_len"].as_u64().expect("max_len");
            primitive(
                &input,
                |r| r.read_ascii_string(max, Field::VarString).map_err(de),
                |s| json!(s),
                |s, out| put_var_bytes(out, s.as_bytes()),
            )
        }
        "varbytes" => primitive(
            &input,
            |r| r.read_var_bytes(MAX_VAR_LEN, Field::VarBytes).map_err(de),
            |b| hx(b),
            |b, out| put_var_bytes(out, b),
        ),
        "netaddress" => {
            // dcrd reads the timestamp whenever asked to, at any protocol version.
            let with_time = v["with_timestamp"].as_bool().expect("with_timestamp");
            primitive(
                &input,
                |r| NetAddress::decode(r, with_time).map_err(de),
                |a| net_address(a, with_time),
                |a, out| a.encode(out, with_time),
            )
        }
        "invvect" => primitive(
            &input,
            |r| InvVect::decode(r).map_err(de),
            inv_vect,
            |iv, out| iv.encode(out),
        ),
        "blockheader" => {
            let mut d = primitive(
                &input,
                |r| DcrBlockHeader::decode(r).map_err(de),
                header,
                |h, out| h.encode(out),
            )?;
            let mut r = Reader::new(&input);
            d.hash = Some(DcrBlockHeader::decode(&mut r).map_err(de)?.block_hash());
            Ok(d)
        }
        other => panic!("{}: unhandled kind {other}", v["name"]),
    }
}

/// Decodes a payload as a message, with its hashes, re-encoding and re-decoding.
fn decode_payload(command: Command, payload: Bytes, ctx: &Context) -> Outcome {
    let msg = Message::decode(command, payload, ctx).map_err(de)?;
    let fields = message_fields(&msg)?;
    let (hash, mix_hash) = match &msg {
        Message::DcrBlock(b) => {
            assert_eq!(b.block_hash(), b.header().block_hash());
            (Some(b.block_hash()), None)
        }
        Message::DcrTx(t) => (Some(t.txid()), None),
        Message::Mix(m) => (None, Some(m.hash())),
        _ => (None, None),
    };
    let mut out = BytesMut::new();
    msg.encode_payload(&mut out, ctx)
        .map_err(|e| format!("<does not re-encode: {e}>"))?;
    let again = Message::decode(command, out.clone().freeze(), ctx)
        .map_err(|e| format!("<re-encoding does not decode: {e}>"))?;
    Ok(Decoded {
        fields,
        reencoded: out.to_vec(),
        redecoded: message_fields(&again)?,
        hash,
        mix_hash,
        bytes_read: None,
    })
}

fn decode_message(v: &Value) -> Outcome {
    let name = v["command"]
        .as_str()
        .expect("message vectors name a command");
    let command = Command::new(name).unwrap_or_else(|| panic!("bad command {name}"));
    decode_payload(
        command,
        Bytes::from(bytes_of(v, "payload_hex")),
        &context(v),
    )
}

fn network_of(v: &Value) -> Network {
    let magic = v["magic"].as_str().expect("frames carry a magic");
    let magic = u32::from_str_radix(magic.trim_start_matches("0x"), 16).expect("hex magic");
    Network::ALL
        .iter()
        .copied()
        .find(|n| n.chain() == Chain::Decred && n.magic() == magic)
        .unwrap_or_else(|| panic!("no Decred network with magic {magic:#x}"))
}

/// Feeds a whole stream to a fresh `FrameDecoder`, then decodes the first frame's payload.
/// A stream that ends before a frame is complete is `EOF` when it ended at a field boundary
/// (nothing of the frame, or the whole header and nothing of the payload) and `UnexpectedEOF`
/// otherwise, as dcrd's `io.ReadFull` of the header and then the payload reports it.
fn decode_frame_with(v: &Value, policy: UnknownCommands) -> Outcome {
    let stream = bytes_of(v, "frame_hex");
    let network = network_of(v);
    let ctx = context(v);
    let mut dec = FrameDecoder::new(network);
    dec.set_protocol_version(ctx.version);
    dec.set_unknown_commands(policy);
    let mut input: &[u8] = &stream;
    let frame = match dec.decode(&mut input) {
        Err(e) => return Err(frame_error_kind(&e)),
        Ok(None) => {
            assert!(input.is_empty(), "Ok(None) leaves no input behind");
            return Err(match dec.buffered() {
                0 | HEADER_SIZE => "EOF".into(),
                _ => "UnexpectedEOF".into(),
            });
        }
        Ok(Some(frame)) => frame,
    };
    let consumed = stream.len() - input.len();
    assert_eq!(
        consumed,
        frame.wire_len(),
        "a frame's wire length is what it consumed"
    );
    let mut d = decode_payload(frame.command, frame.payload.clone(), &ctx)?;
    let mut framed = BytesMut::new();
    let msg = Message::decode(frame.command, frame.payload, &ctx).map_err(de)?;
    encode_message(network, &msg, &ctx, &mut framed)
        .map_err(|e| format!("<does not re-encode: {e}>"))?;
    d.reencoded = framed.to_vec();
    d.bytes_read = Some(consumed);
    Ok(d)
}

/// Frames are read with the default policy, under which a Decred stream refuses unknown
/// commands as dcrd does. `UnknownCommands::Skip` (an explicit opt-in to skip them by their
/// length) must agree on every other frame.
fn decode_frame(v: &Value) -> Outcome {
    let deliver = decode_frame_with(v, UnknownCommands::Deliver);
    let stream = bytes_of(v, "frame_hex");
    let unknown = stream.len() >= HEADER_SIZE
        && parse_header(
            stream[..HEADER_SIZE].try_into().unwrap(),
            network_of(v),
            pver(v),
        )
        .is_ok_and(|h| min_version(h.command, Chain::Decred).is_none());
    if !unknown {
        let skip = decode_frame_with(v, UnknownCommands::Skip);
        match (&deliver, &skip) {
            (Ok(a), Ok(b)) => assert_eq!(a.fields, b.fields, "{}: policies differ", v["name"]),
            (Err(a), Err(b)) => assert_eq!(a, b, "{}: policies differ", v["name"]),
            _ => panic!(
                "{}: the unknown-command policy changed a known frame",
                v["name"]
            ),
        }
    }
    deliver
}

/// Checks one vector; `Err` describes every mismatch.
fn check(v: &Value) -> Result<(), String> {
    let outcome = match v["kind"].as_str().expect("kind") {
        "message" => decode_message(v),
        "frame" => decode_frame(v),
        _ => decode_primitive(v),
    };
    let valid = v["valid"].as_bool().expect("valid");
    let d = match (valid, outcome) {
        (true, Ok(d)) => d,
        (true, Err(kind)) => return Err(format!("expected valid, failed with {kind}")),
        (false, Ok(d)) => {
            return Err(format!(
                "expected {}, decoded to {}",
                v["error"]["kind"], d.fields
            ));
        }
        (false, Err(kind)) => {
            let expected = v["error"]["kind"].as_str().expect("error.kind");
            return if kind == expected {
                Ok(())
            } else {
                Err(format!("expected error {expected}, got {kind}"))
            };
        }
    };
    let mut errs = Vec::new();
    compare(&v["fields"], &d.fields, "fields", &mut errs);
    compare(&d.fields, &d.redecoded, "redecoded", &mut errs);
    if let Some(want) = v.get("hash") {
        match d.hash {
            Some(h) => {
                if *want != hash(&h) {
                    errs.push(format!("hash: got {}, expected {want}", hash(&h)));
                }
                if v["hash_display"] != json!(h.to_string()) {
                    errs.push(format!(
                        "hash_display: got {h}, expected {}",
                        v["hash_display"]
                    ));
                }
            }
            None => errs.push("the vector has a hash and we computed none".into()),
        }
    }
    if let Some(want) = v.get("mix_hash") {
        match d.mix_hash {
            Some(h) if *want == hash(&h) => {}
            other => errs.push(format!("mix_hash: got {other:?}, expected {want}")),
        }
    }
    if let Some(want) = v.get("bytes_read") {
        if *want != json!(d.bytes_read) {
            errs.push(format!(
                "bytes_read: got {:?}, expected {want}",
                d.bytes_read
            ));
        }
    }
    if v.get("reencodes_identically") != Some(&json!(false)) {
        let key = if v["kind"] == "frame" {
            "frame_hex"
        } else {
            "payload_hex"
        };
        let original = bytes_of(v, key);
        if d.reencoded != original {
            errs.push(format!(
                "re-encoding differs:\n   got {}\n  want {}",
                hex::encode(&d.reencoded),
                hex::encode(&original)
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n  "))
    }
}

#[test]
fn dcrd_wire_vectors() {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("cannot read the dcrd vectors at {VECTORS}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("vectors are JSON");
    let vectors = file["vectors"].as_array().expect("a vectors array");
    let count = file["count"].as_u64().expect("a count") as usize;
    assert_eq!(vectors.len(), count, "the file's count matches its vectors");

    let mut checked: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut hashes_checked = 0;
    let mut failures = Vec::new();
    for v in vectors {
        let kind = v["kind"].as_str().expect("kind").to_string();
        let command = v["command"].as_str().unwrap_or("-").to_string();
        let entry = checked.entry((kind, command)).or_default();
        if v["valid"].as_bool() == Some(true) {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        hashes_checked +=
            usize::from(v.get("hash").is_some()) + usize::from(v.get("mix_hash").is_some());
        if let Err(e) = check(v) {
            failures.push(format!("{}:\n  {e}", v["name"].as_str().unwrap_or("?")));
        }
    }

    println!(
        "{:<14} {:<14} {:>6} {:>8}",
        "kind", "command", "valid", "invalid"
    );
    for ((kind, command), (ok, bad)) in &checked {
        println!("{kind:<14} {command:<14} {ok:>6} {bad:>8}");
    }
    let total: usize = checked.values().map(|(a, b)| a + b).sum();
    let valid: usize = checked.values().map(|(a, _)| a).sum();
    println!(
        "total: {total} vectors checked ({valid} valid, {} invalid), {hashes_checked} hashes",
        total - valid
    );

    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(total, count, "every vector was checked");
    assert_eq!(
        (total, valid),
        (427, 147),
        "the file still holds the 427 vectors (147 valid) this test was written for"
    );
    assert_eq!(hashes_checked, 18, "10 block/tx hashes and 8 mix hashes");
    for kind in [
        "message",
        "frame",
        "varint",
        "varstring",
        "asciivarstring",
        "varbytes",
        "netaddress",
        "invvect",
        "blockheader",
    ] {
        assert!(
            checked.keys().any(|(k, _)| k == kind),
            "no vector of kind {kind}"
        );
    }
}
