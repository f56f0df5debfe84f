//! Every vector of `../shared/vectors/btcd_wire.json` (rows of btcd's own `wire` tests, see the
//! README beside the file) through the public codec:
//!
//! * valid inputs decode to exactly the listed `fields` (every key compared, recursively), carry
//!   the listed hashes, re-encode to the same bytes (unless `reencodes_identically: false`) and
//!   the re-encoding decodes to the same fields again;
//! * invalid inputs fail with the listed error kind, through [`decode_error_kind`] /
//!   [`frame_error_kind`], which map our typed errors to btcd's labels.
//!
//! Where our documented choices differ from btcd the test says so next to the code that encodes
//! the choice.

mod vectors_common;

use vectors_common::{bytes_of, compare, pver};

use std::collections::BTreeMap;

use bitpeer::wire::encode::{MAX_VAR_LEN, Reader, put_compact_size, put_var_bytes};
use bitpeer::wire::{
    AddrV2, AddrV2Address, BlockHeader, Command, Context, DecodeError, Encoding, Field,
    FrameDecoder, FrameError, HEADER_SIZE, Hash256, InvVect, Message, NetAddress, Tx,
    UnknownCommands, encode_message, min_version, parse_header,
};
use bitpeer::{Chain, Network};
use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/vectors/btcd_wire.json"
);

/// Protocol version from which `addr` entries (and the `netaddress` primitive read in that form)
/// carry a timestamp (WIRE.md 2.4).
const NET_ADDRESS_TIME_VERSION: u32 = 31_402;

// ---------------------------------------------------------------------------------------------
// Error kinds
// ---------------------------------------------------------------------------------------------

/// btcd's label (vectors/README.md, "Error kinds") for one of our payload decode errors.
fn decode_error_kind(e: &DecodeError) -> String {
    let label = match e {
        DecodeError::Truncated { available: 0, .. } => "EOF",
        DecodeError::Truncated { .. } => "UnexpectedEOF",
        DecodeError::NonCanonicalCompactSize => "non_canonical_varint",
        DecodeError::TooLong { field, .. } => match field {
            Field::VarString => "var_string_too_long",
            Field::UserAgent => "user_agent_too_long",
            Field::VarBytes
            | Field::Script
            | Field::WitnessItem
            | Field::MerkleFlags
            | Field::BloomFilter
            | Field::FilterAddData
            | Field::CompactFilter => "var_bytes_too_long",
            other => return format!("<unmapped TooLong {other:?}>"),
        },
        DecodeError::TooMany { field, .. } => match field {
            Field::Addresses => "too_many_addresses",
            Field::InvVectors => "too_many_inv_vectors",
            Field::Locators => "too_many_locators",
            Field::Headers => "too_many_headers",
            Field::Transactions => "too_many_txs",
            Field::TxInputs => "too_many_tx_inputs",
            Field::TxOutputs => "too_many_tx_outputs",
            Field::TxHashes => "too_many_tx_hashes",
            other => return format!("<unmapped TooMany {other:?}>"),
        },
        DecodeError::HeaderContainsTxs(_) => "header_contains_txs",
        DecodeError::InvalidForVersion { .. } => "msg_invalid_for_pver",
        DecodeError::TrailingBytes { .. } => "trailing_bytes",
        DecodeError::InvalidAddressSize { .. } => "invalid_address_size",
        other => return format!("<unmapped {other:?}>"),
    };
    label.to_string()
}

/// btcd's label for one of our frame errors.
fn frame_error_kind(e: &FrameError) -> String {
    let label = match e {
        FrameError::WrongNetwork { .. } => "wrong_network",
        FrameError::MalformedCommand(_) => "malformed_command",
        FrameError::PayloadTooLarge { .. } => "payload_exceeds_max_protocol_message_length",
        FrameError::PayloadTooLargeForCommand { .. } => "payload_exceeds_max_for_command",
        FrameError::BadChecksum { .. } => "bad_checksum",
        FrameError::UnknownCommand(_) => "unknown_command",
        other => return format!("<unmapped {other:?}>"),
    };
    label.to_string()
}

// ---------------------------------------------------------------------------------------------
// Our values in btcd's `fields` shape
// ---------------------------------------------------------------------------------------------

fn hx(b: &[u8]) -> Value {
    Value::String(hex::encode(b))
}

fn hash(h: &Hash256) -> Value {
    hx(&h.0)
}

fn hashes(list: &[Hash256]) -> Value {
    Value::Array(list.iter().map(hash).collect())
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

fn addr_v2(a: &AddrV2) -> Value {
    let addr = match &a.addr {
        AddrV2Address::Ipv4(ip) => ip.octets().to_vec(),
        AddrV2Address::Ipv6(ip) => ip.octets().to_vec(),
        AddrV2Address::TorV2(b) => b.to_vec(),
        AddrV2Address::TorV3(b) => b.to_vec(),
    };
    json!({
        "Addr": { "addr": hex::encode(addr), "netID": a.addr.network_id() },
        "Port": a.port,
        "Services": a.services.0,
        "Timestamp": a.time,
    })
}

fn inv_vect(iv: &InvVect) -> Value {
    json!({ "Hash": hash(&iv.hash), "Type": iv.inv_type.0 })
}

fn header(h: &BlockHeader) -> Value {
    json!({
        "Version": h.version,
        "PrevBlock": hash(&h.prev_block),
        "MerkleRoot": hash(&h.merkle_root),
        "Timestamp": h.time,
        "Bits": h.bits,
        "Nonce": h.nonce,
    })
}

fn tx(t: &Tx) -> Value {
    // btcd leaves `Witness` nil (JSON null) on every input of a transaction without witness
    // data, and sets it to the (possibly empty) stack otherwise.
    let witnesses: Vec<Vec<&[u8]>> = t.witnesses().collect();
    assert!(witnesses.is_empty() || witnesses.len() == t.input_count());
    let inputs: Vec<Value> = t
        .inputs()
        .enumerate()
        .map(|(i, txin)| {
            let witness = match witnesses.get(i) {
                Some(stack) => Value::Array(stack.iter().map(|w| hx(w)).collect()),
                None => Value::Null,
            };
            json!({
                "PreviousOutPoint": { "Hash": hash(&txin.prev_txid), "Index": txin.prev_index },
                "SignatureScript": hx(txin.script_sig),
                "Sequence": txin.sequence,
                "Witness": witness,
            })
        })
        .collect();
    let outputs: Vec<Value> = t
        .outputs()
        .map(|o| json!({ "Value": o.value, "PkScript": hx(o.script_pubkey) }))
        .collect();
    assert_eq!(inputs.len(), t.input_count(), "inputs() yields every input");
    assert_eq!(
        outputs.len(),
        t.output_count(),
        "outputs() yields every output"
    );
    json!({
        "Version": t.version(),
        "TxIn": inputs,
        "TxOut": outputs,
        "LockTime": t.lock_time(),
    })
}

/// A decoded message in btcd's `fields` shape. `Err` = the outcome is an error label.
fn message_fields(msg: &Message, ctx: &Context) -> Result<Value, String> {
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
        | Message::SendAddrV2
        | Message::WtxidRelay
        | Message::SendHeaders
        | Message::MemPool
        | Message::FilterClear => json!({}),
        Message::Addr(list) => {
            let with_time = ctx.version >= NET_ADDRESS_TIME_VERSION;
            json!({ "AddrList": list.iter().map(|a| net_address(a, with_time)).collect::<Vec<_>>() })
        }
        Message::AddrV2(list) => {
            json!({ "AddrList": list.iter().map(addr_v2).collect::<Vec<_>>() })
        }
        Message::Inv(l) | Message::GetData(l) | Message::NotFound(l) => inv_list(l),
        Message::GetBlocks(g) | Message::GetHeaders(g) => json!({
            "ProtocolVersion": g.version,
            "BlockLocatorHashes": hashes(&g.locator),
            "HashStop": hash(&g.stop),
        }),
        Message::Headers(h) => json!({ "Headers": h.iter().map(header).collect::<Vec<_>>() }),
        Message::Block(b) => json!({
            "Header": header(&b.header()),
            "Transactions": b.transactions().map(|t| tx(&t)).collect::<Vec<_>>(),
        }),
        Message::Tx(t) => tx(t),
        Message::Ping(n) | Message::Pong(n) => json!({ "Nonce": n }),
        Message::Reject(r) => json!({
            "Cmd": r.command,
            "Code": r.code.0,
            "Reason": r.reason,
            "Hash": hash(&r.hash),
        }),
        Message::FeeFilter(fee) => json!({ "MinFee": fee }),
        Message::MerkleBlock(m) => json!({
            "Header": header(&m.header),
            "Transactions": m.total_transactions,
            "Hashes": hashes(&m.hashes),
            "Flags": hx(&m.flags),
        }),
        Message::FilterLoad(f) => json!({
            "Filter": hx(&f.filter),
            "HashFuncs": f.hash_funcs,
            "Tweak": f.tweak,
            "Flags": f.flags.0,
        }),
        Message::FilterAdd(data) => json!({ "Data": hx(data) }),
        Message::GetCFilters(g) | Message::GetCFHeaders(g) => json!({
            "FilterType": g.filter_type,
            "StartHeight": g.start_height,
            "StopHash": hash(&g.stop_hash),
        }),
        Message::GetCFCheckpt(g) => json!({
            "FilterType": g.filter_type,
            "StopHash": hash(&g.stop_hash),
        }),
        Message::CFilter(c) => json!({
            "FilterType": c.filter_type,
            "BlockHash": hash(&c.block_hash),
            "Data": hx(&c.filter),
        }),
        Message::CFHeaders(c) => json!({
            "FilterType": c.filter_type,
            "StopHash": hash(&c.stop_hash),
            "PrevFilterHeader": hash(&c.prev_filter_header),
            "FilterHashes": hashes(&c.filter_hashes),
        }),
        Message::CFCheckpt(c) => json!({
            "FilterType": c.filter_type,
            "StopHash": hash(&c.stop_hash),
            "FilterHeaders": hashes(&c.filter_headers),
        }),
        // btcd's stream reader answers ErrUnknownMessage; we deliver the frame as `Unknown`.
        Message::Unknown { .. } => return Err("unknown_command".into()),
        other => return Err(format!("<no btcd shape for {:?}>", other.command())),
    })
}

// ---------------------------------------------------------------------------------------------
// Decoding one vector
// ---------------------------------------------------------------------------------------------

/// What a valid input decoded to.
struct Decoded {
    /// btcd-shaped fields.
    fields: Value,
    /// Our re-encoding of the decoded value.
    reencoded: Vec<u8>,
    /// The fields the re-encoding decodes to.
    redecoded: Value,
    /// Block hash or txid (wire order).
    hash: Option<Hash256>,
    /// Wtxid (transactions only).
    wtxid: Option<Hash256>,
    /// Bytes the frame decoder consumed (frames only).
    bytes_read: Option<usize>,
}

type Outcome = Result<Decoded, String>;

fn context(v: &Value) -> Context {
    let encoding = match v["encoding"].as_str() {
        Some("witness") => Encoding::Witness,
        Some("base") | None => Encoding::Base,
        Some(other) => panic!("{}: unknown encoding {other}", v["name"]),
    };
    Context {
        chain: Chain::Bitcoin,
        version: pver(v),
        encoding,
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
        wtxid: None,
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
        "varbytes" => primitive(
            &input,
            |r| r.read_var_bytes(MAX_VAR_LEN, Field::VarBytes).map_err(de),
            |b| hx(b),
            |b, out| put_var_bytes(out, b),
        ),
        "netaddress" => {
            // btcd's readNetAddress reads the timestamp only when asked to *and* the protocol
            // version is at least 31402 (WIRE.md 2.4); `NetAddress::decode` takes the result.
            let with_time = v["with_timestamp"].as_bool().expect("with_timestamp")
                && pver(v) >= NET_ADDRESS_TIME_VERSION;
            primitive(
                &input,
                |r| NetAddress::decode(r, with_time).map_err(de),
                |a| net_address(a, with_time),
                |a, out| a.encode(out, with_time),
            )
        }
        "netaddressv2" => primitive(
            &input,
            // `Ok(None)`: well-formed, but of a kind btcd drops (its ErrSkippedNetworkID).
            |r| match AddrV2::decode(r) {
                Ok(Some(a)) => Ok(a),
                Ok(None) => Err("skipped_network_id".to_string()),
                Err(e) => Err(de(e)),
            },
            addr_v2,
            |a, out| a.encode(out),
        ),
        "invvect" => primitive(
            &input,
            |r| InvVect::decode(r).map_err(de),
            inv_vect,
            |iv, out| iv.encode(out),
        ),
        "blockheader" => {
            let mut d = primitive(
                &input,
                |r| BlockHeader::decode(r).map_err(de),
                header,
                |h, out| h.encode(out),
            )?;
            let mut r = Reader::new(&input);
            d.hash = Some(BlockHeader::decode(&mut r).map_err(de)?.block_hash());
            Ok(d)
        }
        other => panic!("{}: unhandled kind {other}", v["name"]),
    }
}

/// Decodes a payload as a message, with its hashes, re-encoding and re-decoding.
fn decode_payload(command: Command, payload: Bytes, ctx: &Context) -> Outcome {
    let msg = Message::decode(command, payload, ctx).map_err(de)?;
    let fields = message_fields(&msg, ctx)?;
    let (hash, wtxid) = match &msg {
        Message::Block(b) => (Some(b.block_hash()), None),
        Message::Tx(t) => (Some(t.txid()), Some(t.wtxid())),
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
        redecoded: message_fields(&again, ctx)?,
        hash,
        wtxid,
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
        .find(|n| n.chain() == Chain::Bitcoin && n.magic() == magic)
        .unwrap_or_else(|| panic!("no Bitcoin network with magic {magic:#x}"))
}

fn sha256d(b: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(b)).into()
}

fn verack_frame(network: Network) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_message(network, &Message::Verack, &Context::BITCOIN, &mut out).unwrap();
    out.to_vec()
}

/// Feeds a whole stream to a fresh `FrameDecoder`, then decodes the first frame's payload.
/// A stream that ends before a frame is complete is `EOF` when it ended at a field boundary
/// (nothing of the frame, or the whole header and nothing of the payload) and `UnexpectedEOF`
/// otherwise, as btcd's `io.ReadFull` of the header and then the payload reports it.
fn decode_frame_with(v: &Value, policy: UnknownCommands) -> Outcome {
    let stream = bytes_of(v, "frame_hex");
    let network = network_of(v);
    // "Frames are always read with base encoding" (vectors/README.md).
    let ctx = context(v).with_encoding(Encoding::Base);
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

/// Frames are checked under both unknown-command policies; they must agree except on unknown
/// commands, which btcd discards by their length without looking at the checksum.
fn decode_frame(v: &Value) -> Outcome {
    let deliver = decode_frame_with(v, UnknownCommands::Deliver);
    let skip = decode_frame_with(v, UnknownCommands::Skip);
    let stream = bytes_of(v, "frame_hex");
    // Unknown = the header is valid (magic, command characters, lengths) but names no message.
    let unknown = stream.len() >= HEADER_SIZE
        && parse_header(
            stream[..HEADER_SIZE].try_into().unwrap(),
            network_of(v),
            pver(v),
        )
        .is_ok_and(|h| min_version(h.command, Chain::Bitcoin).is_none());
    if !unknown {
        match (&deliver, &skip) {
            (Ok(a), Ok(b)) => assert_eq!(a.fields, b.fields, "{}: policies differ", v["name"]),
            (Err(a), Err(b)) => assert_eq!(a, b, "{}: policies differ", v["name"]),
            _ => panic!(
                "{}: the unknown-command policy changed a known frame",
                v["name"]
            ),
        }
        return deliver;
    }
    // btcd's outcome for an unknown command: the payload is discarded by its length and the
    // stream stays in sync. `UnknownCommands::Skip` is that rule: the decoder takes the header,
    // holds nothing, skips `length` bytes and then decodes the next frame.
    let network = network_of(v);
    let length = u32::from_le_bytes(stream[16..20].try_into().unwrap()) as usize;
    let mut dec = FrameDecoder::new(network);
    dec.set_unknown_commands(UnknownCommands::Skip);
    let mut input: &[u8] = &stream;
    assert_eq!(dec.decode(&mut input), Ok(None), "{}: skipped", v["name"]);
    assert!(input.is_empty());
    assert_eq!(
        dec.buffered(),
        0,
        "{}: a skipped payload is not buffered",
        v["name"]
    );
    let mut tail = vec![0u8; (HEADER_SIZE + length).saturating_sub(stream.len())];
    tail.extend_from_slice(&verack_frame(network));
    let mut input: &[u8] = &tail;
    let next = dec.decode(&mut input).expect("the stream stays in sync");
    assert_eq!(
        next.map(|f| f.command),
        Some(Command::VERACK),
        "{}",
        v["name"]
    );
    // `UnknownCommands::Deliver` instead verifies the checksum first (Bitcoin Core's rule) and
    // hands the frame out as `Message::Unknown`, so a forged checksum is `bad_checksum` and a
    // payload that never arrives is a stream ending mid-frame.
    let payload = &stream[HEADER_SIZE..];
    let expected_deliver = if payload.len() < length {
        if payload.is_empty() {
            "EOF"
        } else {
            "UnexpectedEOF"
        }
    } else if sha256d(payload)[..4] == stream[20..24] {
        "unknown_command"
    } else {
        "bad_checksum"
    };
    match &deliver {
        Err(kind) => assert_eq!(kind, expected_deliver, "{}: Deliver policy", v["name"]),
        Ok(_) => panic!(
            "{}: an unknown command decoded to a known message",
            v["name"]
        ),
    }
    assert!(skip.is_err());
    Err("unknown_command".into())
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
    if let Some(want) = v.get("wtxid_display") {
        match d.wtxid {
            Some(w) if *want == json!(w.to_string()) => {}
            other => errs.push(format!("wtxid_display: got {other:?}, expected {want}")),
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
fn btcd_wire_vectors() {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("cannot read the btcd vectors at {VECTORS}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("vectors are JSON");
    let vectors = file["vectors"].as_array().expect("a vectors array");
    let count = file["count"].as_u64().expect("a count") as usize;
    assert_eq!(vectors.len(), count, "the file's count matches its vectors");

    let mut checked: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
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
    println!("total: {total} vectors checked");

    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(total, count, "every vector was checked");
    assert_eq!(
        total, 372,
        "the file still holds the 372 vectors this test was written for"
    );
    for kind in [
        "message",
        "frame",
        "varint",
        "varstring",
        "varbytes",
        "netaddress",
        "netaddressv2",
        "invvect",
        "blockheader",
    ] {
        assert!(
            checked.keys().any(|(k, _)| k == kind),
            "no vector of kind {kind}"
        );
    }
}
