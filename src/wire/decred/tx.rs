//! Decred transactions and blocks as zero-copy views (WIRE.md 5.2): validated once on decode,
//! parsed lazily on access, hashed with BLAKE-256.
//!
//! A Decred transaction has a *prefix* (inputs' outpoints and sequences, outputs, lock time,
//! expiry) and a *witness* (per input: value, block height and index, signature script). The
//! upper 16 bits of the first word say which of the two are on the wire
//! ([`TxSerType`]); the txid hashes the prefix only.

use bytes::{BufMut, Bytes, BytesMut};

use super::header::DcrBlockHeader;
use crate::blake256::{Blake256, blake256};
use crate::wire::Hash256;
use crate::wire::encode::{MAX_VAR_LEN, Reader, compact_size_len, put_var_bytes};
use crate::wire::error::{DecodeError, Field};

/// Most inputs a transaction can have (32 MiB / 43-byte minimum input + 1).
pub const MAX_TX_INPUTS: u64 = 780_336;
/// Most outputs a transaction can have (32 MiB / 9-byte minimum output + 1).
pub const MAX_TX_OUTPUTS: u64 = 3_728_271;
/// Longest signature or public-key script.
pub const MAX_SCRIPT_LEN: u64 = MAX_VAR_LEN;
/// Most transactions per tree of a block from protocol version 4 (1 310 720 / 30 + 1).
pub const MAX_TREE_TXS: u64 = 43_691;
/// Most transactions per tree of a block up to protocol version 3 (1 000 000 / 30 + 1).
pub const MAX_TREE_TXS_V3: u64 = 33_334;

/// Which parts of a transaction a serialization carries (upper 16 bits of the version word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxSerType {
    /// Prefix then witness (type 0): what `tx` and `block` messages carry.
    Full,
    /// Prefix only (type 1): the serialization the txid hashes.
    NoWitness,
    /// Witness only (type 2).
    OnlyWitness,
}

impl TxSerType {
    /// The value in the version word.
    pub const fn to_u16(self) -> u16 {
        match self {
            TxSerType::Full => 0,
            TxSerType::NoWitness => 1,
            TxSerType::OnlyWitness => 2,
        }
    }

    /// The serialization type of a version-word value, if known.
    pub const fn from_u16(n: u16) -> Option<TxSerType> {
        match n {
            0 => Some(TxSerType::Full),
            1 => Some(TxSerType::NoWitness),
            2 => Some(TxSerType::OnlyWitness),
            _ => None,
        }
    }

    fn has_prefix(self) -> bool {
        self != TxSerType::OnlyWitness
    }

    fn has_witness(self) -> bool {
        self != TxSerType::NoWitness
    }
}

/// Where the parts of a transaction sit inside its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// Length of the transaction.
    len: usize,
    ser_type: TxSerType,
    /// Offset of the witness section (its count); `len` when there is none. The prefix, when
    /// present, is `4..witness_start`.
    witness_start: usize,
    inputs: u32,
    outputs: u32,
}

/// Walks one transaction starting at the reader's position, checking every count and length
/// without allocating. Fields are read one at a time, so input that ends between two fields is
/// a clean end (`Truncated { available: 0, .. }`), as in dcrd.
fn scan_tx(r: &mut Reader<'_>) -> Result<Layout, DecodeError> {
    let start = r.position();
    let word = r.read_u32()?;
    let ser = (word >> 16) as u16;
    let ser_type = TxSerType::from_u16(ser).ok_or(DecodeError::UnknownTxType(ser))?;
    let mut inputs = 0;
    let mut outputs = 0;
    if ser_type.has_prefix() {
        inputs = r.read_count(MAX_TX_INPUTS, Field::TxInputs)?;
        for _ in 0..inputs {
            r.skip(32)?; // previous txid
            r.skip(4)?; // previous output index
            r.skip(1)?; // tree
            r.skip(4)?; // sequence
        }
        outputs = r.read_count(MAX_TX_OUTPUTS, Field::TxOutputs)?;
        for _ in 0..outputs {
            r.skip(8)?; // value
            r.skip(2)?; // script version
            r.read_var_slice(MAX_SCRIPT_LEN, Field::Script)?;
        }
        r.skip(4)?; // lock time
        r.skip(4)?; // expiry
    }
    let witness_start = r.position() - start;
    if ser_type.has_witness() {
        let count = if ser_type == TxSerType::Full {
            let count = r.read_compact_size()?;
            if count != inputs as u64 {
                return Err(DecodeError::MismatchedWitnessCount {
                    inputs: inputs as u64,
                    witnesses: count,
                });
            }
            inputs
        } else {
            inputs = r.read_count(MAX_TX_INPUTS, Field::TxInputs)?;
            inputs
        };
        for _ in 0..count {
            r.skip(8)?; // value in
            r.skip(4)?; // block height
            r.skip(4)?; // block index
            r.read_var_slice(MAX_SCRIPT_LEN, Field::Script)?;
        }
    }
    let len = r.position() - start;
    Ok(Layout {
        len,
        ser_type,
        witness_start: if ser_type.has_witness() {
            witness_start
        } else {
            len
        },
        inputs: inputs as u32,
        outputs: outputs as u32,
    })
}

/// A Decred transaction: its bytes as received (a zero-copy slice of the receive buffer) and
/// where its prefix and witness sit. Structure was validated on decode; fields and hashes are
/// computed on demand.
#[derive(Clone, PartialEq, Eq)]
pub struct DcrTx {
    raw: Bytes,
    ser_type: TxSerType,
    witness_start: u32,
    inputs: u32,
    outputs: u32,
}

impl core::fmt::Debug for DcrTx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DcrTx")
            .field("txid", &self.txid())
            .field("ser_type", &self.ser_type)
            .field("len", &self.raw.len())
            .finish()
    }
}

impl DcrTx {
    /// Validates `raw` as exactly one transaction and wraps it.
    pub fn from_bytes(raw: Bytes) -> Result<DcrTx, DecodeError> {
        let mut r = Reader::new(&raw);
        let layout = scan_tx(&mut r)?;
        r.finish()?;
        Ok(DcrTx::from_layout(raw, layout))
    }

    /// Validates one transaction at the reader's position (a reader over `buf`) and returns it
    /// as a zero-copy slice of `buf`.
    pub(crate) fn decode_at(buf: &Bytes, r: &mut Reader<'_>) -> Result<DcrTx, DecodeError> {
        let start = r.position();
        let layout = scan_tx(r)?;
        Ok(DcrTx::from_layout(
            buf.slice(start..start + layout.len),
            layout,
        ))
    }

    fn from_layout(raw: Bytes, layout: Layout) -> DcrTx {
        DcrTx {
            raw,
            ser_type: layout.ser_type,
            witness_start: layout.witness_start as u32,
            inputs: layout.inputs,
            outputs: layout.outputs,
        }
    }

    /// The bytes as received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// Which parts of the transaction the bytes carry.
    pub fn ser_type(&self) -> TxSerType {
        self.ser_type
    }

    /// The transaction version (lower 16 bits of the version word).
    pub fn version(&self) -> u16 {
        u16::from_le_bytes([self.raw[0], self.raw[1]])
    }

    /// Number of inputs (from the prefix, or from the witness for a witness-only
    /// serialization).
    pub fn input_count(&self) -> usize {
        self.inputs as usize
    }

    /// Number of outputs (zero for a witness-only serialization).
    pub fn output_count(&self) -> usize {
        self.outputs as usize
    }

    /// The prefix bytes after the version word, if the serialization carries the prefix.
    fn prefix_body(&self) -> Option<&[u8]> {
        self.ser_type
            .has_prefix()
            .then(|| &self.raw[4..self.witness_start as usize])
    }

    /// The witness bytes after the version word (or after the prefix), if carried.
    fn witness_body(&self) -> Option<&[u8]> {
        self.ser_type
            .has_witness()
            .then(|| &self.raw[self.witness_start as usize..])
    }

    fn prefix_u32_from_end(&self, back: usize) -> u32 {
        match self.prefix_body() {
            Some(p) => {
                let at = p.len() - back;
                u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
            }
            None => 0,
        }
    }

    /// The lock time (zero for a witness-only serialization, as dcrd decodes it).
    pub fn lock_time(&self) -> u32 {
        self.prefix_u32_from_end(8)
    }

    /// The expiry height (zero for a witness-only serialization).
    pub fn expiry(&self) -> u32 {
        self.prefix_u32_from_end(4)
    }

    /// The inputs' prefix parts (outpoint and sequence), parsed lazily; empty for a
    /// witness-only serialization.
    pub fn inputs(&self) -> impl Iterator<Item = DcrTxIn> + '_ {
        let body = self.prefix_body().unwrap_or(&[]);
        let mut r = Reader::new(body);
        let n = match r.read_compact_size() {
            Ok(_) if !body.is_empty() => self.inputs,
            _ => 0,
        };
        // The structure was validated on construction, so the reads below cannot fail.
        (0..n).map_while(move |_| {
            Some(DcrTxIn {
                prev_hash: r.read_hash().ok()?,
                prev_index: r.read_u32().ok()?,
                tree: r.read_u8().ok()? as i8,
                sequence: r.read_u32().ok()?,
            })
        })
    }

    /// The outputs, parsed lazily; empty for a witness-only serialization.
    pub fn outputs(&self) -> impl Iterator<Item = DcrTxOut<'_>> + '_ {
        let body = self.prefix_body().unwrap_or(&[]);
        let mut r = Reader::new(body);
        let mut ok = !body.is_empty() && r.read_compact_size().is_ok();
        for _ in 0..self.inputs {
            ok = ok && r.skip(41).is_ok();
        }
        ok = ok && r.read_compact_size().is_ok();
        let n = if ok { self.outputs } else { 0 };
        (0..n).map_while(move |_| DcrTxOut::decode(&mut r).ok())
    }

    /// The inputs' witness parts (value, block height and index, signature script), parsed
    /// lazily; empty for a prefix-only serialization.
    pub fn witnesses(&self) -> impl Iterator<Item = DcrTxInWitness<'_>> + '_ {
        let body = self.witness_body().unwrap_or(&[]);
        let mut r = Reader::new(body);
        let n = match r.read_compact_size() {
            Ok(_) if !body.is_empty() => self.inputs,
            _ => 0,
        };
        (0..n).map_while(move |_| {
            Some(DcrTxInWitness {
                value_in: r.read_i64().ok()?,
                block_height: r.read_u32().ok()?,
                block_index: r.read_u32().ok()?,
                signature_script: r.read_var_slice(MAX_SCRIPT_LEN, Field::Script).ok()?,
            })
        })
    }

    fn version_word(&self, ser: TxSerType) -> [u8; 4] {
        [
            self.raw[0],
            self.raw[1],
            ser.to_u16() as u8,
            (ser.to_u16() >> 8) as u8,
        ]
    }

    /// The txid: BLAKE-256 of the prefix serialization (serialization type 1). For a
    /// witness-only serialization this is the hash of the prefix dcrd would rebuild from it
    /// (zero outpoints and sequences, no outputs, zero lock time and expiry).
    pub fn txid(&self) -> Hash256 {
        let mut h = Blake256::new();
        h.update(&self.version_word(TxSerType::NoWitness));
        match self.prefix_body() {
            Some(p) => h.update(p),
            None => {
                let mut n = [0u8; 9];
                let len = put_compact_size_into(&mut n, self.inputs as u64);
                h.update(&n[..len]);
                hash_zeros(&mut h, self.inputs as usize * 41);
                // No outputs, zero lock time and expiry.
                hash_zeros(&mut h, 1 + 8);
            }
        }
        Hash256(h.finalize())
    }

    /// BLAKE-256 of the witness serialization (serialization type 2). For a prefix-only
    /// serialization, the witness dcrd would rebuild (zero values, heights and indexes, empty
    /// scripts) is hashed.
    pub fn witness_hash(&self) -> Hash256 {
        let mut h = Blake256::new();
        h.update(&self.version_word(TxSerType::OnlyWitness));
        match self.witness_body() {
            Some(w) => h.update(w),
            None => {
                let mut n = [0u8; 9];
                let len = put_compact_size_into(&mut n, self.inputs as u64);
                h.update(&n[..len]);
                hash_zeros(&mut h, self.inputs as usize * 17);
            }
        }
        Hash256(h.finalize())
    }

    /// The full hash: BLAKE-256 of the txid followed by the witness hash.
    pub fn full_hash(&self) -> Hash256 {
        let mut both = [0u8; 64];
        both[..32].copy_from_slice(&self.txid().0);
        both[32..].copy_from_slice(&self.witness_hash().0);
        Hash256(blake256(&both))
    }

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        self.raw.len()
    }

    /// Writes the transaction as received.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.raw);
    }
}

/// Writes a CompactSize into `buf`, returning its length.
fn put_compact_size_into(buf: &mut [u8; 9], n: u64) -> usize {
    let le = n.to_le_bytes();
    let (tag, len) = match compact_size_len(n) {
        1 => {
            buf[0] = n as u8;
            return 1;
        }
        3 => (0xfd, 2),
        5 => (0xfe, 4),
        _ => (0xff, 8),
    };
    buf[0] = tag;
    buf[1..1 + len].copy_from_slice(&le[..len]);
    1 + len
}

/// Feeds `n` zero bytes to `h`.
fn hash_zeros(h: &mut Blake256, mut n: usize) {
    const ZEROS: [u8; 1024] = [0; 1024];
    while n > 0 {
        let take = n.min(ZEROS.len());
        h.update(&ZEROS[..take]);
        n -= take;
    }
}

/// The prefix part of one input of a [`DcrTx`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcrTxIn {
    /// Txid of the transaction whose output is spent.
    pub prev_hash: Hash256,
    /// Index of the spent output.
    pub prev_index: u32,
    /// Tree of the spent output (0 regular, 1 stake).
    pub tree: i8,
    /// The sequence number.
    pub sequence: u32,
}

/// The witness part of one input of a [`DcrTx`], borrowed from the transaction's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcrTxInWitness<'a> {
    /// Value of the spent output, in atoms.
    pub value_in: i64,
    /// Height of the block holding the spent output.
    pub block_height: u32,
    /// Index of the spent transaction in that block.
    pub block_index: u32,
    /// The signature script.
    pub signature_script: &'a [u8],
}

/// One output of a [`DcrTx`], borrowed from the transaction's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcrTxOut<'a> {
    /// Value in atoms.
    pub value: i64,
    /// Script version.
    pub version: u16,
    /// The public-key script.
    pub pk_script: &'a [u8],
}

impl<'a> DcrTxOut<'a> {
    /// Decodes one output (value, script version, script of at most 32 MiB).
    pub fn decode(r: &mut Reader<'a>) -> Result<DcrTxOut<'a>, DecodeError> {
        Ok(DcrTxOut {
            value: r.read_i64()?,
            version: r.read_u16()?,
            pk_script: r.read_var_slice(MAX_SCRIPT_LEN, Field::Script)?,
        })
    }

    /// Encodes the output.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_i64_le(self.value);
        out.put_u16_le(self.version);
        put_var_bytes(out, self.pk_script);
    }
}

/// Most transactions per tree at protocol `version`.
pub const fn max_tree_txs(version: u32) -> u64 {
    if version <= 3 {
        MAX_TREE_TXS_V3
    } else {
        MAX_TREE_TXS
    }
}

/// A Decred block: its bytes as received (a zero-copy slice of the receive buffer). The header,
/// the regular tree and the stake tree were validated on decode; transactions are re-walked
/// lazily on access.
#[derive(Clone, PartialEq, Eq)]
pub struct DcrBlock {
    raw: Bytes,
    regular: u32,
    stake: u32,
    /// Offset of the stake tree's count.
    stake_start: u32,
}

impl core::fmt::Debug for DcrBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DcrBlock")
            .field("hash", &self.block_hash())
            .field("txs", &self.regular)
            .field("stxs", &self.stake)
            .field("len", &self.raw.len())
            .finish()
    }
}

impl DcrBlock {
    /// Validates `raw` as exactly one block; the per-tree transaction limit depends on the
    /// protocol `version` ([`max_tree_txs`]).
    pub fn from_bytes(raw: Bytes, version: u32) -> Result<DcrBlock, DecodeError> {
        let mut r = Reader::new(&raw);
        DcrBlockHeader::decode(&mut r)?;
        let max = max_tree_txs(version);
        let regular = r.read_count(max, Field::Transactions)?;
        for _ in 0..regular {
            scan_tx(&mut r)?;
        }
        let stake_start = r.position();
        let stake = r.read_count(max, Field::Transactions)?;
        for _ in 0..stake {
            scan_tx(&mut r)?;
        }
        r.finish()?;
        Ok(DcrBlock {
            regular: regular as u32,
            stake: stake as u32,
            stake_start: stake_start as u32,
            raw,
        })
    }

    /// The bytes as received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// The 180-byte header.
    pub fn header(&self) -> DcrBlockHeader {
        let mut b = [0u8; DcrBlockHeader::SIZE];
        b.copy_from_slice(&self.raw[..DcrBlockHeader::SIZE]);
        DcrBlockHeader::from_bytes(&b)
    }

    /// The block hash: BLAKE-256 of the header bytes.
    pub fn block_hash(&self) -> Hash256 {
        Hash256(blake256(&self.raw[..DcrBlockHeader::SIZE]))
    }

    /// Number of transactions in the regular tree.
    pub fn tx_count(&self) -> usize {
        self.regular as usize
    }

    /// Number of transactions in the stake tree.
    pub fn stake_tx_count(&self) -> usize {
        self.stake as usize
    }

    /// The regular tree, each transaction a zero-copy [`DcrTx`] slice of the block.
    pub fn transactions(&self) -> DcrTxs<'_> {
        self.tree(DcrBlockHeader::SIZE, self.regular)
    }

    /// The stake tree (tickets, votes, revocations, treasury transactions).
    pub fn stake_transactions(&self) -> DcrTxs<'_> {
        self.tree(self.stake_start as usize, self.stake)
    }

    fn tree(&self, count_at: usize, left: u32) -> DcrTxs<'_> {
        let mut r = Reader::new(&self.raw[count_at..]);
        let pos = match r.read_compact_size() {
            Ok(_) => count_at + r.position(),
            Err(_) => self.raw.len(),
        };
        DcrTxs {
            raw: &self.raw,
            pos,
            left,
        }
    }

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        self.raw.len()
    }

    /// Writes the block as received.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.raw);
    }
}

/// Iterator over one transaction tree of a [`DcrBlock`].
#[derive(Clone, Debug)]
pub struct DcrTxs<'a> {
    raw: &'a Bytes,
    pos: usize,
    left: u32,
}

impl Iterator for DcrTxs<'_> {
    type Item = DcrTx;

    fn next(&mut self) -> Option<DcrTx> {
        if self.left == 0 {
            return None;
        }
        let mut r = Reader::new(&self.raw[self.pos..]);
        // The block was validated on construction, so this cannot fail; stop quietly if it does.
        let layout = scan_tx(&mut r).ok()?;
        let tx = DcrTx::from_layout(self.raw.slice(self.pos..self.pos + layout.len), layout);
        self.pos += layout.len;
        self.left -= 1;
        Some(tx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for DcrTxs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// One input, two outputs, full serialization.
    fn sample(ser: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&ser.to_le_bytes());
        let prefix = ser != 2;
        let witness = ser != 1;
        if prefix {
            b.push(1);
            b.extend_from_slice(&[7; 32]);
            b.extend_from_slice(&3u32.to_le_bytes());
            b.push(1);
            b.extend_from_slice(&0xffff_fffeu32.to_le_bytes());
            b.push(2);
            for v in [5i64, 6] {
                b.extend_from_slice(&v.to_le_bytes());
                b.extend_from_slice(&0u16.to_le_bytes());
                b.extend_from_slice(&[2, 0x51, 0x52]);
            }
            b.extend_from_slice(&11u32.to_le_bytes());
            b.extend_from_slice(&12u32.to_le_bytes());
        }
        if witness {
            b.push(1);
            b.extend_from_slice(&9i64.to_le_bytes());
            b.extend_from_slice(&100u32.to_le_bytes());
            b.extend_from_slice(&2u32.to_le_bytes());
            b.extend_from_slice(&[3, 1, 2, 3]);
        }
        b
    }

    #[test]
    fn parts_and_hashes_agree_across_serializations() {
        let full = DcrTx::from_bytes(Bytes::from(sample(0))).unwrap();
        let prefix = DcrTx::from_bytes(Bytes::from(sample(1))).unwrap();
        let witness = DcrTx::from_bytes(Bytes::from(sample(2))).unwrap();
        assert_eq!(full.txid(), prefix.txid());
        assert_eq!(full.txid(), Hash256(blake256(&sample(1))));
        assert_eq!(full.witness_hash(), witness.witness_hash());
        assert_eq!(full.witness_hash(), Hash256(blake256(&sample(2))));
        assert_eq!(full.lock_time(), 11);
        assert_eq!(full.expiry(), 12);
        assert_eq!(witness.lock_time(), 0);
        assert_eq!(full.inputs().count(), 1);
        assert_eq!(full.outputs().map(|o| o.value).collect::<Vec<_>>(), [5, 6]);
        assert_eq!(
            full.witnesses().next().unwrap().signature_script,
            &[1, 2, 3]
        );
        assert_eq!(prefix.witnesses().count(), 0);
        assert_eq!(witness.inputs().count(), 0);
        assert_eq!(witness.witnesses().count(), 1);
        let mut both = [0u8; 64];
        both[..32].copy_from_slice(&full.txid().0);
        both[32..].copy_from_slice(&full.witness_hash().0);
        assert_eq!(full.full_hash(), Hash256(blake256(&both)));
    }

    #[test]
    fn synthesized_parts_match_dcrd_rebuilds() {
        // A witness-only transaction's txid hashes the prefix dcrd rebuilds from it.
        let witness = DcrTx::from_bytes(Bytes::from(sample(2))).unwrap();
        let mut rebuilt = Vec::new();
        rebuilt.extend_from_slice(&[1, 0, 1, 0, 1]);
        rebuilt.extend_from_slice(&[0; 41]);
        rebuilt.extend_from_slice(&[0; 9]);
        assert_eq!(witness.txid(), Hash256(blake256(&rebuilt)));
        let prefix = DcrTx::from_bytes(Bytes::from(sample(1))).unwrap();
        let mut rebuilt = Vec::new();
        rebuilt.extend_from_slice(&[1, 0, 2, 0, 1]);
        rebuilt.extend_from_slice(&[0; 17]);
        assert_eq!(prefix.witness_hash(), Hash256(blake256(&rebuilt)));
    }

    #[test]
    fn witness_count_must_match_and_type_must_be_known() {
        let mut b = sample(0);
        let at = b.len() - (8 + 4 + 4 + 4) - 1;
        b[at] = 2;
        assert_eq!(
            DcrTx::from_bytes(Bytes::from(b)),
            Err(DecodeError::MismatchedWitnessCount {
                inputs: 1,
                witnesses: 2
            })
        );
        assert_eq!(
            DcrTx::from_bytes(Bytes::from(sample(3))),
            Err(DecodeError::UnknownTxType(3))
        );
    }
}
