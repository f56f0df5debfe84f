//! `message_payload`: an arbitrary payload decoded as a chosen command at a chosen protocol
//! version, chain and encoding. If it decodes, re-encoding must succeed and decoding the
//! re-encoded bytes must give an equal message (decode ∘ encode ∘ decode = decode), and the
//! re-encoding must be stable (encode ∘ decode ∘ encode = encode).
//!
//! Input layout: `[command, version, flags, payload...]`: `command` indexes `COMMAND_NAMES`,
//! `version` indexes `VERSIONS`, `flags` bit 0 = Decred, bit 1 = base encoding.
//!
//! Only payloads a frame could carry (no longer than the command's cap at that version) are
//! held to the round trip, because the frame layer never hands `Message::decode` anything
//! longer: before protocol 209 `addr` may carry one entry on encode but the decoder, like
//! btcd's, only counts against 1000 (the 35-byte cap is what limits it on the wire).
//!
//! Intended, documented asymmetries, normalized before comparing:
//! * `version` below 70001 (Bitcoin): the relay byte is read if present but never written
//!   (btcd), so it decodes back as the default `true`.

use bitpeer::network::Chain;
use bitpeer::wire::{Context, Encoding, Message, max_payload_len, versions};
use bytes::{Bytes, BytesMut};

use super::VERSIONS;

/// Applies the documented lossy cases of re-encoding at `ctx`.
pub fn normalize(msg: Message, ctx: &Context) -> Message {
    match msg {
        Message::Version(mut v)
            if ctx.chain == Chain::Bitcoin && ctx.version < versions::BIP0037 =>
        {
            v.relay = true;
            Message::Version(v)
        }
        other => other,
    }
}

pub fn message_payload(data: &[u8]) {
    let [command, version, flags, payload @ ..] = data else {
        return;
    };
    let command = super::command(*command);
    let version = VERSIONS[usize::from(*version) % VERSIONS.len()];
    let ctx = Context {
        chain: if flags & 1 == 0 {
            Chain::Bitcoin
        } else {
            Chain::Decred
        },
        version,
        encoding: if flags & 2 == 0 {
            Encoding::Witness
        } else {
            Encoding::Base
        },
    };
    let Ok(msg) = Message::decode(command, Bytes::copy_from_slice(payload), &ctx) else {
        return;
    };
    assert_eq!(msg.command(), command);
    if payload.len() > max_payload_len(command, version, ctx.chain) as usize {
        return;
    }
    let mut out = BytesMut::new();
    if let Err(e) = msg.encode_payload(&mut out, &ctx) {
        panic!("{msg:?} decoded at {ctx:?} but does not re-encode: {e}");
    }
    let first = out.freeze();
    let again = match Message::decode(command, first.clone(), &ctx) {
        Ok(m) => m,
        Err(e) => panic!("{msg:?} re-encoded as {first:02x?}, which does not decode: {e}"),
    };
    let msg = normalize(msg, &ctx);
    assert_eq!(
        normalize(again.clone(), &ctx),
        msg,
        "decode∘encode∘decode ≠ decode"
    );
    let mut second = BytesMut::new();
    again
        .encode_payload(&mut second, &ctx)
        .expect("re-decoded message encodes");
    assert_eq!(second, first, "encode∘decode∘encode ≠ encode");
}
