//! `roundtrip`: structure-aware. An arbitrary [`Message`] (feature `arbitrary`) at an arbitrary
//! protocol version where it exists and an arbitrary encoding is encoded as a frame, which must
//! succeed and fit the command's cap; the frame then goes through [`FrameDecoder`] and
//! [`Message::decode`], which must give back the original.
//!
//! Version-dependent fields the wire cannot carry are normalized first (documented in
//! `src/wire/arbitrary.rs`): `addr` keeps one entry before 209 and drops entry times before
//! 31402, `ping` has no nonce up to 60000, `version` has no relay byte before 70001. With
//! `Encoding::Base`, witness data is stripped and a block remembers the encoding it was read
//! in: there the checks are on bytes (see the end of [`roundtrip`]).

use arbitrary::{Arbitrary, Unstructured};
use bitpeer::Network;
use bitpeer::wire::{
    Context, EncodeError, Encoding, FrameDecoder, HEADER_SIZE, Message, encode_message,
    max_payload_len, versions,
};
use bytes::BytesMut;

use super::VERSIONS;

fn has_witness(msg: &Message) -> bool {
    match msg {
        Message::Tx(t) => t.has_witness(),
        Message::Block(b) => b.has_witness(),
        Message::CmpctBlock(c) => c.prefilled.iter().any(|p| p.tx.has_witness()),
        Message::BlockTxn(b) => b.transactions.iter().any(|t| t.has_witness()),
        _ => false,
    }
}

/// What the wire can carry of `msg` at `version` (see the module docs).
fn normalize(msg: Message, version: u32) -> Message {
    match msg {
        Message::Addr(mut list) => {
            if version < versions::MULTIPLE_ADDRESS {
                list.truncate(1);
            }
            if version < versions::NET_ADDRESS_TIME {
                for a in &mut list {
                    a.time = 0;
                }
            }
            Message::Addr(list)
        }
        Message::Ping(_) if version <= versions::BIP0031 => Message::Ping(0),
        Message::Version(mut v) if version < versions::BIP0037 => {
            v.relay = true;
            Message::Version(v)
        }
        other => other,
    }
}

fn decode_frame(network: Network, ctx: &Context, wire: &[u8]) -> Message {
    let mut dec = FrameDecoder::new(network);
    dec.set_protocol_version(ctx.version);
    let mut input = wire;
    let frame = match dec.decode(&mut input) {
        Ok(Some(f)) => f,
        other => panic!("our own frame does not decode: {other:?}"),
    };
    assert!(input.is_empty(), "one frame, no more");
    match Message::decode(frame.command, frame.payload, ctx) {
        Ok(m) => m,
        Err(e) => panic!("our own {} payload does not decode: {e}", frame.command),
    }
}

pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(msg) = Message::arbitrary(&mut u) else {
        return;
    };
    let network = Network::BITCOIN_MAINNET;
    let version = match u.choose(&VERSIONS) {
        Ok(v) => *v,
        Err(_) => versions::LATEST,
    };
    let encoding = if u.arbitrary::<bool>().unwrap_or(false) {
        Encoding::Base
    } else {
        Encoding::Witness
    };
    let ctx = Context {
        chain: network.chain(),
        version,
        encoding,
    };
    let msg = normalize(msg, version);
    let mut wire = BytesMut::new();
    match encode_message(network, &msg, &ctx, &mut wire) {
        Ok(()) => {}
        // The message does not exist at this version: nothing to round-trip.
        Err(EncodeError::InvalidForVersion { .. }) => return,
        Err(e) => panic!("{msg:?} does not encode at {ctx:?}: {e}"),
    }
    let cap = max_payload_len(msg.command(), version, network.chain()) as usize;
    assert!(wire.len() <= HEADER_SIZE + cap);
    let back = decode_frame(network, &ctx, &wire);
    if encoding == Encoding::Witness {
        assert_eq!(back, msg, "decode(encode(m)) ≠ m at {ctx:?}");
        return;
    }
    // Base encoding: a `Block` remembers the encoding it was read in (its transactions are
    // re-walked lazily in it), so the same bytes read in base and in witness encoding are not
    // `==`. Compare bytes: stable re-encoding, and without witness data the very same message
    // bytes in witness form; with witness data, none left after the round trip.
    let mut again = BytesMut::new();
    encode_message(network, &back, &ctx, &mut again).expect("decoded message encodes");
    assert_eq!(again, wire, "base encoding is not stable");
    assert!(!has_witness(&back), "base encoding carried witness data");
    if !has_witness(&msg) {
        let full = ctx.with_encoding(Encoding::Witness);
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        encode_message(network, &back, &full, &mut a).expect("encodes");
        encode_message(network, &msg, &full, &mut b).expect("encodes");
        assert_eq!(a, b, "decode(encode(m)) ≠ m at {ctx:?}");
    }
}
