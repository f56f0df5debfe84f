//! `differential`: the same bytes through rust-bitcoin 0.32 (`RawNetworkMessage`) and through
//! our [`FrameDecoder`] + [`Message::decode`] (Bitcoin, latest protocol version, witness
//! encoding, the network whose magic the frame carries).
//!
//! The input is one frame whose length field and checksum are repaired first (so that mutated
//! payloads are compared rather than refused by both checksum checks); its magic picks the
//! network.
//!
//! * rust-bitcoin decodes a frame ⇒ we decode the same frame (same length) and our re-encoding
//!   equals rust-bitcoin's re-encoding, byte for byte;
//! * we decode a frame ⇒ rust-bitcoin decodes it too, with the same re-encoding;
//!
//! except for these intended differences, each skipped explicitly below:
//! * D1 command field: we accept only printable ASCII followed by NUL padding (Bitcoin Core's
//!   rule); rust-bitcoin accepts any ASCII, control characters and embedded NULs included.
//! * D2 payload caps: we apply btcd's per-command `MaxPayloadLength` before buffering;
//!   rust-bitcoin only its global 5 MB / 4 MB allocation bounds.
//! * D3 count and length limits (inv ≤ 50 000, addr ≤ 1000, headers ≤ 2000, locators ≤ 500,
//!   user agent ≤ 256, filterload ≤ 36 000 and ≤ 50 hash functions, filteradd ≤ 520, cfilter
//!   ≤ 262 144, cfheaders ≤ 2000, cfcheckpt ≤ 100 000, merkleblock flags, tx part counts and
//!   script bytes, compact block entries): btcd's limits, which rust-bitcoin does not have.
//! * D4 `addrv2`: like btcd we drop I2P, CJDNS and unknown-network entries, and OnionCat or
//!   IPv4-mapped IPv6 entries; rust-bitcoin keeps the first three and refuses the last two (and
//!   CJDNS addresses outside fc00::/8).
//! * D5 `reject`: the hash is on the wire only for `tx` and `block` (BIP61, btcd); rust-bitcoin
//!   always reads it, accepts only the eight known codes and UTF-8 strings (we replace invalid
//!   UTF-8, as Core does for display).
//! * D6 `version`: fields after `addr_recv` are optional (btcd, Core); rust-bitcoin requires all
//!   of them and a UTF-8 user agent (we replace invalid UTF-8).
//! * D7 `sendtxrcncl` (BIP330) is unknown to rust-bitcoin, which keeps any payload raw; we
//!   decode it and refuse a malformed one.
//! * D8 values the codec carries but the peer judges: `feefilter` outside [0, 21e14] and
//!   `filterload` flags above 2 are refused by rust-bitcoin's decoder; ours leaves them to the
//!   peer (`InvalidFeeFilter`) or the application.
//! * D9 `alert` is raw bytes to us (the alert system is retired); rust-bitcoin wants one var
//!   bytes field.
//! * D10 rust-bitcoin re-serializes the checksum it read, not the checksum of what it writes,
//!   so where decoding normalized a value (a bool byte other than 0 or 1 becomes 1) its
//!   re-encoding carries a stale checksum: re-encodings are compared without it (ours is
//!   always the checksum of our payload, see the roundtrip target).
//! * D11 BIP152 transaction indexes above 65 535 in `getblocktxn` / `cmpctblock`: refused
//!   like Bitcoin Core ("indexes overflowed 16 bits"); rust-bitcoin 0.32's consensus decoder
//!   only checks for u64 overflow.
//! * D12 `sendcmpct`'s announce flag: any non-zero byte is true (Bitcoin Core reads a bool so);
//!   rust-bitcoin refuses bytes other than 0 and 1.

use bitcoin::consensus::{deserialize_partial, serialize};
use bitcoin::p2p::address::AddrV2 as TheirAddrV2;
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitpeer::Network;
use bitpeer::network::Chain;
use bitpeer::wire::{
    Command, Context, DecodeError, FrameDecoder, FrameError, HEADER_SIZE, Message, checksum,
    encode_message,
};
use bytes::BytesMut;

enum Ours {
    /// Decoded, using this many bytes.
    Message(Message, usize),
    /// Not enough bytes for one frame.
    Incomplete,
    Frame(FrameError),
    Payload(Command, DecodeError),
}

fn network_for(data: &[u8]) -> Option<Network> {
    let magic = u32::from_le_bytes(data.get(..4)?.try_into().ok()?);
    Some(Network::new(Chain::Bitcoin, magic, 0, "differential"))
}

fn ours(data: &[u8], network: Network) -> Ours {
    let mut dec = FrameDecoder::new(network);
    let mut input = data;
    let frame = match dec.decode(&mut input) {
        Ok(Some(f)) => f,
        Ok(None) => return Ours::Incomplete,
        Err(e) => return Ours::Frame(e),
    };
    let used = data.len() - input.len();
    let command = frame.command;
    match Message::decode(command, frame.payload, &Context::BITCOIN) {
        Ok(m) => Ours::Message(m, used),
        Err(e) => Ours::Payload(command, e),
    }
}

fn our_bytes(network: Network, msg: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    if let Err(e) = encode_message(network, msg, &Context::BITCOIN, &mut out) {
        panic!("{msg:?} decoded but does not re-encode: {e}");
    }
    out.to_vec()
}

/// D4: entries rust-bitcoin keeps but we drop.
fn their_addrv2_has_dropped_entries(msg: &NetworkMessage) -> bool {
    match msg {
        NetworkMessage::AddrV2(list) => list.iter().any(|a| {
            matches!(
                a.addr,
                TheirAddrV2::I2p(_) | TheirAddrV2::Cjdns(_) | TheirAddrV2::Unknown(..)
            )
        }),
        _ => false,
    }
}

/// D4: walks a well-formed addrv2 payload and tells whether an entry is one rust-bitcoin
/// refuses but we drop (OnionCat or IPv4-mapped IPv6, CJDNS outside fc00::/8).
fn addrv2_has_entries_they_refuse(payload: &[u8]) -> bool {
    fn compact(p: &[u8], i: &mut usize) -> Option<u64> {
        let first = *p.get(*i)?;
        *i += 1;
        let n = match first {
            0xfd => 2,
            0xfe => 4,
            0xff => 8,
            v => return Some(u64::from(v)),
        };
        let bytes = p.get(*i..*i + n)?;
        *i += n;
        Some(
            bytes
                .iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }
    let mut i = 0;
    let Some(count) = compact(payload, &mut i) else {
        return false;
    };
    for _ in 0..count {
        i += 4;
        if compact(payload, &mut i).is_none() {
            return false;
        }
        let Some(&id) = payload.get(i) else {
            return false;
        };
        i += 1;
        let Some(len) = compact(payload, &mut i) else {
            return false;
        };
        let Some(addr) = payload.get(i..i + len as usize) else {
            return false;
        };
        let refused = match (id, len) {
            (2, 16) => {
                addr[..6] == [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43]
                    || (addr[..10] == [0; 10] && addr[10..12] == [0xff, 0xff])
            }
            (6, 16) => addr[0] != 0xfc,
            _ => false,
        };
        if refused {
            return true;
        }
        i += len as usize + 2;
    }
    false
}

/// D5: a reject rust-bitcoin cannot read back.
fn reject_they_refuse(r: &bitpeer::wire::Reject) -> bool {
    const KNOWN: [u8; 8] = [0x01, 0x10, 0x11, 0x12, 0x40, 0x41, 0x42, 0x43];
    !r.carries_hash()
        || !KNOWN.contains(&r.code.0)
        || r.command.contains('\u{fffd}')
        || r.reason.contains('\u{fffd}')
}

pub fn differential(data: &[u8]) {
    let Some(network) = network_for(data) else {
        return;
    };
    // Repair the frame so that mutated payloads reach both payload decoders instead of
    // failing both checksum checks: the length field says what follows the header and the
    // checksum is the payload's.
    let mut frame = data.to_vec();
    if frame.len() >= HEADER_SIZE {
        let payload_len = u32::try_from(frame.len() - HEADER_SIZE).unwrap_or(u32::MAX);
        frame[16..20].copy_from_slice(&payload_len.to_le_bytes());
        let sum = checksum(Chain::Bitcoin, &frame[HEADER_SIZE..]);
        frame[20..24].copy_from_slice(&sum);
    }
    let data = &frame[..];
    let theirs = deserialize_partial::<RawNetworkMessage>(data).ok();
    let ours = ours(data, network);
    match (theirs, ours) {
        (Some((raw, used)), Ours::Message(msg, our_used)) => {
            assert_eq!(used, our_used, "frame length differs");
            if their_addrv2_has_dropped_entries(raw.payload()) {
                return; // D4
            }
            let mine = our_bytes(network, &msg);
            let theirs = serialize(&raw);
            // D10: everything but the checksum, which rust-bitcoin writes back as it read it.
            let (a, b) = ((&mine[..20], &mine[24..]), (&theirs[..20], &theirs[24..]));
            assert_eq!(
                a,
                b,
                "re-encodings differ for {msg:?} / {:?}",
                raw.payload()
            );
        }
        (Some((raw, _)), Ours::Incomplete) => {
            panic!(
                "rust-bitcoin decoded {:?}, we wait for more bytes",
                raw.payload()
            )
        }
        (Some((raw, _)), Ours::Frame(e)) => match e {
            FrameError::MalformedCommand(_) => {} // D1
            // D2
            FrameError::PayloadTooLarge { .. } | FrameError::PayloadTooLargeForCommand { .. } => {}
            e => panic!(
                "rust-bitcoin decoded {:?}, our frame layer says {e}",
                raw.payload()
            ),
        },
        (Some((raw, _)), Ours::Payload(command, e)) => match (&e, raw.payload()) {
            (DecodeError::TooMany { .. } | DecodeError::TooLong { .. }, _) => {} // D3
            (DecodeError::TrailingBytes { .. }, NetworkMessage::Reject(_)) => {} // D5
            (
                DecodeError::Invalid(_),
                NetworkMessage::GetBlockTxn(_) | NetworkMessage::CmpctBlock(_),
            ) => {} // D11
            (_, NetworkMessage::Unknown { .. }) if command == Command::SENDTXRCNCL => {} // D7
            (e, m) => panic!("rust-bitcoin decoded {m:?}, we fail {command}: {e}"),
        },
        (None, Ours::Message(msg, used)) => {
            let frame = &data[..used];
            let payload = &frame[HEADER_SIZE..];
            let documented = match &msg {
                Message::AddrV2(_) => addrv2_has_entries_they_refuse(payload), // D4
                Message::Reject(r) => reject_they_refuse(r),                   // D5
                // D6: a short version, or a user agent that is not UTF-8 (so it does not
                // re-encode to the same bytes).
                Message::Version(_) => our_bytes(network, &msg) != frame,
                Message::FeeFilter(fee) => !(0..=2_100_000_000_000_000).contains(fee), // D8
                Message::FilterLoad(f) => f.flags.0 > 2,                               // D8
                Message::Alert(_) => true,                                             // D9
                Message::SendCmpct(_) => payload[0] > 1,                               // D12
                _ => false,
            };
            assert!(
                documented,
                "we decoded {msg:?} from {} bytes that rust-bitcoin refuses",
                frame.len()
            );
        }
        (None, _) => {}
    }
}
