//! Decred's mixing messages (protocol 10, WIRE.md 5.3): `mixpairreq`, `mixkeyxchg`,
//! `mixcphrtxt`, `mixslotres`, `mixfactpoly`, `mixdcnet`, `mixconfirm`, `mixsecrets`.
//!
//! A [`MixMessage`] is kept as its payload (a zero-copy slice of the receive buffer), validated
//! on construction against the message's layout and every bound. The peer needs little more
//! than the message hash (the `MSG_MIX` inventory hash: BLAKE-256 of the payload), the
//! signature, identity, session id and run, all read in place. [`MixMessage::body`] gives the
//! remaining fields as a borrowed view whose lists are walked lazily, so neither validation nor
//! the view allocates.

use core::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::is_strict_ascii;
use super::tx::{DcrTx, DcrTxOut};
use crate::blake256::blake256;
use crate::wire::Command;
use crate::wire::Hash256;
use crate::wire::encode::{MAX_VAR_LEN, Reader};
use crate::wire::error::{DecodeError, Field};

/// Length of a mix message signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of a mix identity (a compressed secp256k1 public key).
pub const IDENTITY_LEN: usize = 33;
/// Most peers in one mix: bounds every list of previously seen messages.
pub const MAX_MIX_PEERS: usize = 512;
/// Most mixed messages in one mix: bounds the slot-reservation and DC-net dimensions.
pub const MAX_MIX_MCOUNT: usize = 1024;
/// Longest field value (slot reservation element, factored-polynomial root).
pub const MAX_MIX_FIELD_VAL_LEN: usize = 32;
/// Length of one DC-net mixed message.
pub const MIX_MSG_SIZE: usize = 20;
/// Longest script class of a pair request.
pub const MAX_PAIR_REQ_SCRIPT_CLASS_LEN: usize = 32;
/// Most UTXOs of a pair request.
pub const MAX_PAIR_REQ_UTXOS: usize = 512;
/// Longest P2SH redeem script of a pair-request UTXO.
pub const MAX_PAIR_REQ_UTXO_SCRIPT_LEN: usize = 16_384;
/// Longest public key of a pair-request UTXO.
pub const MAX_PAIR_REQ_UTXO_PUBKEY_LEN: usize = 33;
/// Longest signature of a pair-request UTXO.
pub const MAX_PAIR_REQ_UTXO_SIGNATURE_LEN: usize = 64;
/// Length of an sntrup4591761 public key.
pub const PQ_PUBLIC_KEY_LEN: usize = 1218;
/// Length of an sntrup4591761 ciphertext.
pub const PQ_CIPHERTEXT_LEN: usize = 1047;

/// Offset of the session id (after signature and identity) in session messages.
const SESSION_AT: usize = SIGNATURE_LEN + IDENTITY_LEN;

/// Which mixing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MixKind {
    /// `mixpairreq`: a request to be paired into a mix.
    PairReq,
    /// `mixkeyxchg`: session key exchange.
    KeyExchange,
    /// `mixcphrtxt`: post-quantum ciphertexts.
    Ciphertexts,
    /// `mixslotres`: slot reservation.
    SlotReserve,
    /// `mixfactpoly`: the factored slot-reservation polynomial.
    FactoredPoly,
    /// `mixdcnet`: the XOR DC-net broadcast.
    DCNet,
    /// `mixconfirm`: a partially signed mix transaction.
    Confirm,
    /// `mixsecrets`: secrets revealed for blame assignment.
    Secrets,
}

impl MixKind {
    /// Every kind.
    pub const ALL: [MixKind; 8] = [
        MixKind::PairReq,
        MixKind::KeyExchange,
        MixKind::Ciphertexts,
        MixKind::SlotReserve,
        MixKind::FactoredPoly,
        MixKind::DCNet,
        MixKind::Confirm,
        MixKind::Secrets,
    ];

    /// The message's command.
    pub const fn command(self) -> Command {
        match self {
            MixKind::PairReq => Command::MIXPAIRREQ,
            MixKind::KeyExchange => Command::MIXKEYXCHG,
            MixKind::Ciphertexts => Command::MIXCPHRTXT,
            MixKind::SlotReserve => Command::MIXSLOTRES,
            MixKind::FactoredPoly => Command::MIXFACTPOLY,
            MixKind::DCNet => Command::MIXDCNET,
            MixKind::Confirm => Command::MIXCONFIRM,
            MixKind::Secrets => Command::MIXSECRETS,
        }
    }

    /// The kind a command names, if it is a mixing command.
    pub fn from_command(command: Command) -> Option<MixKind> {
        MixKind::ALL.into_iter().find(|k| k.command() == command)
    }

    /// The largest payload of this kind (from protocol 10).
    pub const fn max_payload_len(self) -> u32 {
        match self {
            MixKind::PairReq => 8_476_848,
            MixKind::KeyExchange => 17_815,
            MixKind::Ciphertexts => 552_584,
            MixKind::SlotReserve => 17_318_030,
            MixKind::FactoredPoly => 49_291,
            MixKind::DCNet => 20_988_047,
            MixKind::Confirm => 1_016_520,
            MixKind::Secrets => 70_831,
        }
    }
}

/// A mixing message: its kind and payload, validated on construction.
#[derive(Clone, PartialEq, Eq)]
pub struct MixMessage {
    kind: MixKind,
    payload: Bytes,
    /// Length of the trailing list of previously seen message hashes.
    seen: u32,
}

impl fmt::Debug for MixMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MixMessage")
            .field("kind", &self.kind)
            .field("run", &self.run())
            .field("len", &self.payload.len())
            .finish()
    }
}

impl MixMessage {
    /// Validates `payload` as a whole message of `kind` (layout and every bound) and wraps it.
    pub fn new(kind: MixKind, payload: Bytes) -> Result<MixMessage, DecodeError> {
        let seen = parse(kind, &payload)?.prev_msgs().len() as u32;
        Ok(MixMessage {
            kind,
            payload,
            seen,
        })
    }

    /// Which mixing message this is.
    pub fn kind(&self) -> MixKind {
        self.kind
    }

    /// The message's command.
    pub fn command(&self) -> Command {
        self.kind.command()
    }

    /// The payload as received.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The message hash: BLAKE-256 of the payload (the `MSG_MIX` inventory hash).
    pub fn hash(&self) -> Hash256 {
        Hash256(blake256(&self.payload))
    }

    /// The sender's signature over the message.
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        self.payload.first_chunk().unwrap_or(&[0; SIGNATURE_LEN])
    }

    /// The sender's identity (a compressed secp256k1 public key).
    pub fn identity(&self) -> &[u8; IDENTITY_LEN] {
        self.payload
            .get(SIGNATURE_LEN..)
            .and_then(<[u8]>::first_chunk)
            .unwrap_or(&[0; IDENTITY_LEN])
    }

    /// The session id (`None` for a pair request, which belongs to no session yet).
    pub fn session_id(&self) -> Option<&[u8; 32]> {
        if self.kind == MixKind::PairReq {
            return None;
        }
        self.payload.get(SESSION_AT..)?.first_chunk()
    }

    /// The run number within the session (`None` for a pair request).
    pub fn run(&self) -> Option<u32> {
        let at = match self.kind {
            MixKind::PairReq => return None,
            // Session id, then a 64-bit epoch.
            MixKind::KeyExchange => SESSION_AT + 32 + 8,
            _ => SESSION_AT + 32,
        };
        let word = self.payload.get(at..)?.first_chunk()?;
        Some(u32::from_le_bytes(*word))
    }

    /// The expiry height of a pair request (`None` for other kinds).
    pub fn expiry(&self) -> Option<u32> {
        if self.kind != MixKind::PairReq {
            return None;
        }
        let word = self.payload.get(SESSION_AT..)?.first_chunk()?;
        Some(u32::from_le_bytes(*word))
    }

    /// Hashes of the earlier messages this one references (empty for a pair request): the
    /// pair requests a key exchange saw, the key exchanges a ciphertexts message answers, and
    /// so on.
    pub fn prev_msgs(&self) -> Items<'_, Hash256> {
        let len = self.seen as usize;
        let start = self.payload.len().saturating_sub(len * 32);
        Items {
            raw: &self.payload[start..],
            len,
            read: Reader::read_hash,
        }
    }

    /// Every field after the signature and identity, as a borrowed view. Cannot fail for a
    /// message built by [`MixMessage::new`] or decoded from the wire (it was validated then);
    /// the `Result` only keeps the parser free of panics.
    pub fn body(&self) -> Result<MixBody<'_>, DecodeError> {
        parse(self.kind, &self.payload)
    }

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        self.payload.len()
    }

    /// Writes the payload.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.payload);
    }
}

/// A list borrowed from a message, validated when the message was, walked lazily.
pub struct Items<'a, T> {
    raw: &'a [u8],
    len: usize,
    read: fn(&mut Reader<'a>) -> Result<T, DecodeError>,
}

impl<T> Clone for Items<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Items<'_, T> {}

impl<'a, T> Items<'a, T> {
    /// Validates `count` items at the reader's position (a reader over `buf`).
    fn read(
        r: &mut Reader<'a>,
        buf: &'a [u8],
        count: usize,
        read: fn(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Items<'a, T>, DecodeError> {
        let start = r.position();
        for _ in 0..count {
            read(r)?;
        }
        Ok(Items {
            raw: &buf[start..r.position()],
            len: count,
            read,
        })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items' bytes as on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The items in order.
    pub fn iter(&self) -> ItemsIter<'a, T> {
        ItemsIter {
            r: Reader::new(self.raw),
            left: self.len,
            read: self.read,
        }
    }
}

impl<'a, T> IntoIterator for Items<'a, T> {
    type Item = T;
    type IntoIter = ItemsIter<'a, T>;

    fn into_iter(self) -> ItemsIter<'a, T> {
        self.iter()
    }
}

impl<T: fmt::Debug> fmt::Debug for Items<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Items`].
pub struct ItemsIter<'a, T> {
    r: Reader<'a>,
    left: usize,
    read: fn(&mut Reader<'a>) -> Result<T, DecodeError>,
}

impl<T> Iterator for ItemsIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Validated on construction; stop quietly if a read fails anyway.
        match (self.read)(&mut self.r) {
            Ok(item) => Some(item),
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// The fields of a mixing message after its signature and identity.
#[derive(Clone, Debug)]
pub enum MixBody<'a> {
    /// `mixpairreq`
    PairReq(MixPairReq<'a>),
    /// `mixkeyxchg`
    KeyExchange(MixKeyExchange<'a>),
    /// `mixcphrtxt`
    Ciphertexts(MixCiphertexts<'a>),
    /// `mixslotres`
    SlotReserve(MixSlotReserve<'a>),
    /// `mixfactpoly`
    FactoredPoly(MixFactoredPoly<'a>),
    /// `mixdcnet`
    DCNet(MixDCNet<'a>),
    /// `mixconfirm`
    Confirm(MixConfirm<'a>),
    /// `mixsecrets`
    Secrets(MixSecrets<'a>),
}

impl<'a> MixBody<'a> {
    /// The trailing list of previously seen message hashes (empty for a pair request).
    pub fn prev_msgs(&self) -> Items<'a, Hash256> {
        match self {
            MixBody::PairReq(_) => Items {
                raw: &[],
                len: 0,
                read: Reader::read_hash,
            },
            MixBody::KeyExchange(m) => m.seen_pair_reqs,
            MixBody::Ciphertexts(m) => m.seen_key_exchanges,
            MixBody::SlotReserve(m) => m.seen_ciphertexts,
            MixBody::FactoredPoly(m) => m.seen_slot_reserves,
            MixBody::DCNet(m) => m.seen_slot_reserves,
            MixBody::Confirm(m) => m.seen_dc_nets,
            MixBody::Secrets(m) => m.seen_secrets,
        }
    }
}

/// `mixpairreq`
#[derive(Clone, Debug)]
pub struct MixPairReq<'a> {
    /// Block height at which the request expires.
    pub expiry: u32,
    /// Output value to mix, in atoms (never negative).
    pub mix_amount: i64,
    /// Script class of the mixed outputs (printable ASCII, at most 32 bytes).
    pub script_class: &'a str,
    /// Version of the mix transaction.
    pub tx_version: u16,
    /// Lock time of the mix transaction.
    pub lock_time: u32,
    /// Number of mixed outputs wanted.
    pub message_count: u32,
    /// Total value of the contributed UTXOs (never negative).
    pub input_value: i64,
    /// Contributed UTXOs with ownership proofs (at most 512).
    pub utxos: Items<'a, MixPairReqUtxo<'a>>,
    /// Change output, if any.
    pub change: Option<DcrTxOut<'a>>,
    /// Flags.
    pub flags: u8,
    /// Flags that must match for requests to be paired.
    pub pairing_flags: u8,
}

/// One UTXO of a pair request, with the proof that the sender can spend it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixPairReqUtxo<'a> {
    /// Txid of the output.
    pub prev_hash: Hash256,
    /// Output index.
    pub prev_index: u32,
    /// Tree of the output.
    pub tree: i8,
    /// P2SH redeem script (empty otherwise; at most 16 384 bytes).
    pub script: &'a [u8],
    /// Public key (at most 33 bytes).
    pub pubkey: &'a [u8],
    /// Signature (at most 64 bytes).
    pub signature: &'a [u8],
    /// Opcode of the output's script type (0 for regular outputs).
    pub opcode: u8,
}

/// `mixkeyxchg`
#[derive(Clone, Debug)]
pub struct MixKeyExchange<'a> {
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Epoch of the session.
    pub epoch: u64,
    /// Run number.
    pub run: u32,
    /// The sender's position in the session.
    pub pos: u32,
    /// Ephemeral secp256k1 public key.
    pub ecdh: &'a [u8; 33],
    /// Ephemeral sntrup4591761 public key.
    pub pqpk: &'a [u8; PQ_PUBLIC_KEY_LEN],
    /// Commitment to the sender's secrets.
    pub commitment: &'a [u8; 32],
    /// Pair requests the sender saw (at most 512).
    pub seen_pair_reqs: Items<'a, Hash256>,
}

/// `mixcphrtxt`
#[derive(Clone, Debug)]
pub struct MixCiphertexts<'a> {
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Run number.
    pub run: u32,
    /// One ciphertext per key exchange seen.
    pub ciphertexts: Items<'a, &'a [u8; PQ_CIPHERTEXT_LEN]>,
    /// The key exchanges answered (as many as ciphertexts, at most 512).
    pub seen_key_exchanges: Items<'a, Hash256>,
}

/// `mixslotres`
#[derive(Clone, Debug)]
pub struct MixSlotReserve<'a> {
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Run number.
    pub run: u32,
    /// Rows of the matrix: mixed messages (1 to 1024).
    pub mcount: usize,
    /// Columns of the matrix: peers (1 to 512).
    pub kpcount: usize,
    /// The `mcount` × `kpcount` matrix of field values, row by row (each at most 32 bytes).
    pub dc_mix: Items<'a, &'a [u8]>,
    /// Ciphertexts messages the sender saw (at most 512).
    pub seen_ciphertexts: Items<'a, Hash256>,
}

/// `mixfactpoly`
#[derive(Clone, Debug)]
pub struct MixFactoredPoly<'a> {
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Run number.
    pub run: u32,
    /// Roots of the polynomial (at most 1024, each at most 32 bytes).
    pub roots: Items<'a, &'a [u8]>,
    /// Slot reservations the sender saw (at most 512).
    pub seen_slot_reserves: Items<'a, Hash256>,
}

/// `mixdcnet`
#[derive(Clone, Debug)]
pub struct MixDCNet<'a> {
    /// Number of vectors (at most 1024).
    pub vectors: usize,
    /// Messages per vector (at most 1024; zero when there are no vectors).
    pub vector_len: usize,
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Run number.
    pub run: u32,
    /// The `vectors` × `vector_len` mixed messages, vector by vector.
    pub dc_net: Items<'a, &'a [u8; MIX_MSG_SIZE]>,
    /// Slot reservations the sender saw (at most 512).
    pub seen_slot_reserves: Items<'a, Hash256>,
}

/// `mixconfirm`
#[derive(Clone, Debug)]
pub struct MixConfirm<'a> {
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Run number.
    pub run: u32,
    /// The mix transaction with the sender's signatures.
    pub mix: DcrTx,
    /// DC-net messages the sender saw (at most 512).
    pub seen_dc_nets: Items<'a, Hash256>,
}

/// `mixsecrets`
#[derive(Clone, Debug)]
pub struct MixSecrets<'a> {
    /// Session id.
    pub session_id: &'a [u8; 32],
    /// Run number.
    pub run: u32,
    /// The PRNG seed of the failed run.
    pub seed: &'a [u8; 32],
    /// Unpadded slot-reservation messages (at most 1024, each at most 32 bytes).
    pub slot_reserve_msgs: Items<'a, &'a [u8]>,
    /// DC-net messages (at most 1024).
    pub dc_net_msgs: Items<'a, &'a [u8; MIX_MSG_SIZE]>,
    /// Secrets messages the sender saw (at most 512).
    pub seen_secrets: Items<'a, Hash256>,
}

fn fixed<'a, const N: usize>(r: &mut Reader<'a>) -> Result<&'a [u8; N], DecodeError> {
    r.read_slice(N)?
        .first_chunk()
        .ok_or(DecodeError::Invalid("short fixed-size field"))
}

fn field_value<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    r.read_var_slice(MAX_MIX_FIELD_VAL_LEN as u64, Field::VarBytes)
}

fn utxo<'a>(r: &mut Reader<'a>) -> Result<MixPairReqUtxo<'a>, DecodeError> {
    Ok(MixPairReqUtxo {
        prev_hash: r.read_hash()?,
        prev_index: r.read_u32()?,
        tree: r.read_u8()? as i8,
        script: r.read_var_slice(MAX_PAIR_REQ_UTXO_SCRIPT_LEN as u64, Field::Script)?,
        pubkey: r.read_var_slice(MAX_PAIR_REQ_UTXO_PUBKEY_LEN as u64, Field::VarBytes)?,
        signature: r.read_var_slice(MAX_PAIR_REQ_UTXO_SIGNATURE_LEN as u64, Field::VarBytes)?,
        opcode: r.read_u8()?,
    })
}

/// A count of previously seen messages (at most 512).
fn read_seen_count(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    r.read_count(MAX_MIX_PEERS as u64, Field::PrevMixMsgs)
}

fn read_seen<'a>(r: &mut Reader<'a>, buf: &'a [u8]) -> Result<Items<'a, Hash256>, DecodeError> {
    let count = read_seen_count(r)?;
    Items::read(r, buf, count, Reader::read_hash)
}

/// A DC-net dimension: at most 1024.
fn check_dimension(n: u64) -> Result<usize, DecodeError> {
    if n > MAX_MIX_MCOUNT as u64 {
        return Err(DecodeError::TooMany {
            field: Field::MixElements,
            count: n,
            max: MAX_MIX_MCOUNT as u64,
        });
    }
    Ok(n as usize)
}

fn check_msg_size(size: u64) -> Result<(), DecodeError> {
    if size != MIX_MSG_SIZE as u64 {
        return Err(DecodeError::Invalid("mixed message length must be 20"));
    }
    Ok(())
}

/// A count with a lower bound of 1 and an upper bound, both [`Field::MixElements`].
fn read_nonzero_count(r: &mut Reader<'_>, max: usize) -> Result<usize, DecodeError> {
    let n = r.read_compact_size()?;
    if n == 0 {
        return Err(DecodeError::TooFew {
            field: Field::MixElements,
            count: 0,
            min: 1,
        });
    }
    if n > max as u64 {
        return Err(DecodeError::TooMany {
            field: Field::MixElements,
            count: n,
            max: max as u64,
        });
    }
    Ok(n as usize)
}

fn read_ascii_str<'a>(r: &mut Reader<'a>, max: usize) -> Result<&'a str, DecodeError> {
    let bytes = r.read_var_slice(max.min(MAX_VAR_LEN as usize) as u64, Field::VarString)?;
    if !is_strict_ascii(bytes) {
        return Err(DecodeError::MalformedString);
    }
    core::str::from_utf8(bytes).map_err(|_| DecodeError::MalformedString)
}

fn non_negative(value: i64, what: &'static str) -> Result<i64, DecodeError> {
    if value < 0 {
        return Err(DecodeError::Invalid(what));
    }
    Ok(value)
}

/// Parses a whole payload of `kind`: every field in order, every bound, nothing left over.
fn parse(kind: MixKind, payload: &Bytes) -> Result<MixBody<'_>, DecodeError> {
    let buf: &[u8] = payload;
    let mut r = Reader::new(buf);
    let r = &mut r;
    r.skip(SIGNATURE_LEN)?;
    r.skip(IDENTITY_LEN)?;
    let body = match kind {
        MixKind::PairReq => {
            let expiry = r.read_u32()?;
            let mix_amount = non_negative(r.read_i64()?, "negative mix amount")?;
            let script_class = read_ascii_str(r, MAX_PAIR_REQ_SCRIPT_CLASS_LEN)?;
            let tx_version = r.read_u16()?;
            let lock_time = r.read_u32()?;
            let message_count = r.read_u32()?;
            let input_value = non_negative(r.read_i64()?, "negative input value")?;
            let count = r.read_count(MAX_PAIR_REQ_UTXOS as u64, Field::MixUtxos)?;
            let utxos = Items::read(r, buf, count, utxo)?;
            let change = match r.read_u8()? {
                0 => None,
                1 => Some(DcrTxOut::decode(r)?),
                _ => return Err(DecodeError::Invalid("invalid change output flag")),
            };
            MixBody::PairReq(MixPairReq {
                expiry,
                mix_amount,
                script_class,
                tx_version,
                lock_time,
                message_count,
                input_value,
                utxos,
                change,
                flags: r.read_u8()?,
                pairing_flags: r.read_u8()?,
            })
        }
        MixKind::KeyExchange => MixBody::KeyExchange(MixKeyExchange {
            session_id: fixed(r)?,
            epoch: r.read_u64()?,
            run: r.read_u32()?,
            pos: r.read_u32()?,
            ecdh: fixed(r)?,
            pqpk: fixed(r)?,
            commitment: fixed(r)?,
            seen_pair_reqs: read_seen(r, buf)?,
        }),
        MixKind::Ciphertexts => {
            let session_id = fixed(r)?;
            let run = r.read_u32()?;
            // One count for both lists.
            let count = read_seen_count(r)?;
            MixBody::Ciphertexts(MixCiphertexts {
                session_id,
                run,
                ciphertexts: Items::read(r, buf, count, fixed::<PQ_CIPHERTEXT_LEN>)?,
                seen_key_exchanges: Items::read(r, buf, count, Reader::read_hash)?,
            })
        }
        MixKind::SlotReserve => {
            let session_id = fixed(r)?;
            let run = r.read_u32()?;
            let mcount = read_nonzero_count(r, MAX_MIX_MCOUNT)?;
            let kpcount = read_nonzero_count(r, MAX_MIX_PEERS)?;
            MixBody::SlotReserve(MixSlotReserve {
                session_id,
                run,
                mcount,
                kpcount,
                dc_mix: Items::read(r, buf, mcount * kpcount, field_value)?,
                seen_ciphertexts: read_seen(r, buf)?,
            })
        }
        MixKind::FactoredPoly => {
            let session_id = fixed(r)?;
            let run = r.read_u32()?;
            let count = r.read_count(MAX_MIX_MCOUNT as u64, Field::MixElements)?;
            MixBody::FactoredPoly(MixFactoredPoly {
                session_id,
                run,
                roots: Items::read(r, buf, count, field_value)?,
                seen_slot_reserves: read_seen(r, buf)?,
            })
        }
        MixKind::DCNet => {
            let session_id = fixed(r)?;
            let run = r.read_u32()?;
            // Dimensions, then the message size; all three are read before any is checked.
            let x = r.read_compact_size()?;
            let (vectors, vector_len) = if x == 0 {
                (0, 0)
            } else {
                let y = r.read_compact_size()?;
                let size = r.read_compact_size()?;
                let dims = (check_dimension(x)?, check_dimension(y)?);
                check_msg_size(size)?;
                dims
            };
            MixBody::DCNet(MixDCNet {
                vectors,
                vector_len,
                session_id,
                run,
                dc_net: Items::read(r, buf, vectors * vector_len, fixed::<MIX_MSG_SIZE>)?,
                seen_slot_reserves: read_seen(r, buf)?,
            })
        }
        MixKind::Confirm => MixBody::Confirm(MixConfirm {
            session_id: fixed(r)?,
            run: r.read_u32()?,
            mix: DcrTx::decode_at(payload, r)?,
            seen_dc_nets: read_seen(r, buf)?,
        }),
        MixKind::Secrets => {
            let session_id = fixed(r)?;
            let run = r.read_u32()?;
            let seed = fixed(r)?;
            let count = r.read_count(MAX_MIX_MCOUNT as u64, Field::MixElements)?;
            let slot_reserve_msgs = Items::read(r, buf, count, field_value)?;
            let n = r.read_compact_size()?;
            let n = if n == 0 {
                0
            } else {
                let size = r.read_compact_size()?;
                let n = check_dimension(n)?;
                check_msg_size(size)?;
                n
            };
            MixBody::Secrets(MixSecrets {
                session_id,
                run,
                seed,
                slot_reserve_msgs,
                dc_net_msgs: Items::read(r, buf, n, fixed::<MIX_MSG_SIZE>)?,
                seen_secrets: read_seen(r, buf)?,
            })
        }
    };
    r.finish()?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn factored_poly(roots: &[&[u8]], seen: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&[0xaa; SIGNATURE_LEN]);
        b.extend_from_slice(&[0xbb; IDENTITY_LEN]);
        b.extend_from_slice(&[0xcc; 32]);
        b.extend_from_slice(&7u32.to_le_bytes());
        b.push(roots.len() as u8);
        for root in roots {
            b.push(root.len() as u8);
            b.extend_from_slice(root);
        }
        b.push(seen as u8);
        for i in 0..seen {
            b.extend_from_slice(&[i as u8; 32]);
        }
        b
    }

    #[test]
    fn accessors_read_in_place() {
        let raw = factored_poly(&[&[1, 2], &[]], 2);
        let m = MixMessage::new(MixKind::FactoredPoly, Bytes::from(raw.clone())).unwrap();
        assert_eq!(m.command(), Command::MIXFACTPOLY);
        assert_eq!(m.hash(), Hash256(blake256(&raw)));
        assert_eq!(m.signature(), &[0xaa; SIGNATURE_LEN]);
        assert_eq!(m.identity(), &[0xbb; IDENTITY_LEN]);
        assert_eq!(m.session_id(), Some(&[0xcc; 32]));
        assert_eq!(m.run(), Some(7));
        assert_eq!(m.expiry(), None);
        let seen: Vec<Hash256> = m.prev_msgs().iter().collect();
        assert_eq!(seen, [Hash256([0; 32]), Hash256([1; 32])]);
        let Ok(MixBody::FactoredPoly(body)) = m.body() else {
            panic!("a factored polynomial")
        };
        assert_eq!(body.roots.iter().collect::<Vec<_>>(), [&[1u8, 2][..], &[]]);
    }

    #[test]
    fn bounds_are_enforced() {
        let long = [0u8; 33];
        assert_eq!(
            MixMessage::new(
                MixKind::FactoredPoly,
                Bytes::from(factored_poly(&[&long], 0))
            ),
            Err(DecodeError::TooLong {
                field: Field::VarBytes,
                len: 33,
                max: 32
            })
        );
        let mut raw = factored_poly(&[], 0);
        let last = raw.len() - 1;
        raw[last] = 0xfd;
        raw.extend_from_slice(&513u16.to_le_bytes());
        assert!(matches!(
            MixMessage::new(MixKind::FactoredPoly, Bytes::from(raw)),
            Err(DecodeError::TooMany {
                field: Field::PrevMixMsgs,
                count: 513,
                ..
            })
        ));
        let mut raw = factored_poly(&[], 0);
        raw.push(0);
        assert_eq!(
            MixMessage::new(MixKind::FactoredPoly, Bytes::from(raw)),
            Err(DecodeError::TrailingBytes { extra: 1 })
        );
    }
}
