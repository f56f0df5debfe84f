//! Bitcoin transactions as zero-copy views: validated once, parsed lazily.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use crate::wire::encode::{Reader, put_compact_size};
use crate::wire::error::{DecodeError, Field};
use crate::wire::hash::{sha256d, sha256d_parts};
use crate::wire::{Encoding, Hash256};

/// Most inputs a transaction can have (32 MiB / 41-byte minimum input + 1).
pub const MAX_TX_INPUTS: u64 = 818_401;
/// Most outputs a transaction can have (32 MiB / 9-byte minimum output + 1).
pub const MAX_TX_OUTPUTS: u64 = 3_728_271;
/// Most witness items per input.
pub const MAX_WITNESS_ITEMS: u64 = 4_000_000;
/// Longest single script or witness item.
pub const MAX_SCRIPT_LEN: u64 = 4_000_000;
/// Most script and witness bytes in one transaction together.
pub const MAX_SCRIPT_BYTES: u64 = 4 * 1024 * 1024;

/// Where the parts of a transaction sit inside its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TxLayout {
    /// End of the transaction (exclusive), relative to where it started.
    pub len: usize,
    /// Offset of the witness section when the marker and flag are present.
    pub witness_start: Option<usize>,
    pub inputs: u32,
    pub outputs: u32,
}

/// Walks one transaction starting at the reader's position, checking every count and length,
/// without allocating. In witness mode a zero input count is read as the BIP144 marker.
#[inline]
pub(crate) fn scan_tx(r: &mut Reader<'_>, encoding: Encoding) -> Result<TxLayout, DecodeError> {
    match scan_tx_fast(r.rest(), encoding) {
        Some(layout) => {
            r.skip(layout.len)?;
            Ok(layout)
        }
        None => scan_tx_exact(r, encoding),
    }
}

/// A CompactSize at `b[*p..]` (canonical only), advancing `p`.
#[inline(always)]
fn compact_at(b: &[u8], p: &mut usize) -> Option<u64> {
    let first = *b.get(*p)?;
    if first < 0xfd {
        *p += 1;
        return Some(u64::from(first));
    }
    let rest = b.get(*p + 1..)?;
    let (value, len, min) = match first {
        0xfd => (u64::from(u16::from_le_bytes(*rest.first_chunk()?)), 3, 0xfd),
        0xfe => (
            u64::from(u32::from_le_bytes(*rest.first_chunk()?)),
            5,
            0x1_0000,
        ),
        _ => (u64::from_le_bytes(*rest.first_chunk()?), 9, 0x1_0000_0000),
    };
    if value < min {
        return None;
    }
    *p += len;
    Some(value)
}

/// [`scan_tx_exact`] for a well-formed transaction, on the bytes directly: one bounds check per
/// length read instead of one per field. `None` means "not the easy case" (anything malformed,
/// truncated or over a limit), and the caller walks the transaction again with
/// [`scan_tx_exact`], which reports the error exactly.
#[inline]
fn scan_tx_fast(b: &[u8], encoding: Encoding) -> Option<TxLayout> {
    let mut p = 4; // version
    let mut inputs = compact_at(b, &mut p)?;
    let mut has_marker = false;
    if inputs == 0 && encoding == Encoding::Witness {
        if *b.get(p)? != 0x01 {
            return None;
        }
        p += 1;
        has_marker = true;
        inputs = compact_at(b, &mut p)?;
    }
    if inputs > MAX_TX_INPUTS {
        return None;
    }
    let mut script_bytes: u64 = 0;
    for _ in 0..inputs {
        p += 36; // previous outpoint
        let len = compact_at(b, &mut p).filter(|&len| len <= MAX_SCRIPT_LEN)?;
        script_bytes += len;
        if script_bytes > MAX_SCRIPT_BYTES {
            return None;
        }
        p += len as usize + 4; // script, sequence
    }
    let outputs = compact_at(b, &mut p)?;
    if outputs > MAX_TX_OUTPUTS {
        return None;
    }
    for _ in 0..outputs {
        p += 8; // value
        let len = compact_at(b, &mut p).filter(|&len| len <= MAX_SCRIPT_LEN)?;
        script_bytes += len;
        if script_bytes > MAX_SCRIPT_BYTES {
            return None;
        }
        p += len as usize;
    }
    let mut witness_start = None;
    if has_marker {
        witness_start = Some(p);
        let mut any_witness = false;
        for _ in 0..inputs {
            let items = compact_at(b, &mut p)?;
            if items > MAX_WITNESS_ITEMS {
                return None;
            }
            any_witness |= items != 0;
            for _ in 0..items {
                let len = compact_at(b, &mut p).filter(|&len| len <= MAX_SCRIPT_LEN)?;
                script_bytes += len;
                if script_bytes > MAX_SCRIPT_BYTES {
                    return None;
                }
                p += len as usize;
            }
        }
        if !any_witness {
            return None;
        }
    }
    p += 4; // lock time
    (p <= b.len()).then_some(TxLayout {
        len: p,
        witness_start,
        inputs: inputs as u32,
        outputs: outputs as u32,
    })
}

/// The field-by-field walk behind [`scan_tx`], which reports every error at the field where
/// btcd reports it.
fn scan_tx_exact(r: &mut Reader<'_>, encoding: Encoding) -> Result<TxLayout, DecodeError> {
    let start = r.position();
    r.skip(4)?; // version
    let mut inputs = r.read_count(MAX_TX_INPUTS, Field::TxInputs)?;
    let mut has_marker = false;
    if inputs == 0 && encoding == Encoding::Witness {
        let flag = r.read_u8()?;
        if flag != 0x01 {
            return Err(DecodeError::BadWitnessFlag(flag));
        }
        has_marker = true;
        inputs = r.read_count(MAX_TX_INPUTS, Field::TxInputs)?;
    }
    let mut script_bytes: u64 = 0;
    for _ in 0..inputs {
        // Previous outpoint: hash, then index (two fields, so a cut between them is a clean
        // end of input, as in btcd).
        r.skip(32)?;
        r.skip(4)?;
        script_bytes += read_script(r, Field::Script)?;
        r.skip(4)?; // sequence
    }
    let outputs = r.read_count(MAX_TX_OUTPUTS, Field::TxOutputs)?;
    for _ in 0..outputs {
        r.skip(8)?; // value
        script_bytes += read_script(r, Field::Script)?;
    }
    if script_bytes > MAX_SCRIPT_BYTES {
        return Err(DecodeError::TooLong {
            field: Field::ScriptBytes,
            len: script_bytes,
            max: MAX_SCRIPT_BYTES,
        });
    }
    let mut witness_start = None;
    if has_marker {
        witness_start = Some(r.position() - start);
        let mut any_witness = false;
        for _ in 0..inputs {
            let items = r.read_count(MAX_WITNESS_ITEMS, Field::WitnessItems)?;
            any_witness |= items != 0;
            for _ in 0..items {
                script_bytes += read_script(r, Field::WitnessItem)?;
                if script_bytes > MAX_SCRIPT_BYTES {
                    return Err(DecodeError::TooLong {
                        field: Field::ScriptBytes,
                        len: script_bytes,
                        max: MAX_SCRIPT_BYTES,
                    });
                }
            }
        }
        if !any_witness {
            return Err(DecodeError::SuperfluousWitness);
        }
    }
    r.skip(4)?; // lock time
    Ok(TxLayout {
        len: r.position() - start,
        witness_start,
        inputs: inputs as u32,
        outputs: outputs as u32,
    })
}

#[inline]
fn read_script(r: &mut Reader<'_>, field: Field) -> Result<u64, DecodeError> {
    let len = r.read_compact_size()?;
    if len > MAX_SCRIPT_LEN {
        return Err(DecodeError::TooLong {
            field,
            len,
            max: MAX_SCRIPT_LEN,
        });
    }
    r.skip(len as usize)?;
    Ok(len)
}

/// A transaction: its bytes as received (a zero-copy slice of the receive buffer) plus where
/// the witness sits. Structure was validated on decode; hashes and fields are computed on demand.
#[derive(Clone, PartialEq, Eq)]
pub struct Tx {
    raw: Bytes,
    witness_start: Option<u32>,
    inputs: u32,
    outputs: u32,
}

impl core::fmt::Debug for Tx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tx")
            .field("txid", &self.txid())
            .field("len", &self.raw.len())
            .field("witness", &self.has_witness())
            .finish()
    }
}

impl Tx {
    /// Validates `raw` as exactly one transaction (read in `encoding`) and wraps it.
    #[inline]
    pub fn from_bytes(raw: Bytes, encoding: Encoding) -> Result<Tx, DecodeError> {
        let mut r = Reader::new(&raw);
        let layout = scan_tx(&mut r, encoding)?;
        r.finish()?;
        Ok(Tx::from_layout(raw, layout))
    }

    #[inline]
    pub(crate) fn from_layout(raw: Bytes, layout: TxLayout) -> Tx {
        Tx {
            raw,
            witness_start: layout.witness_start.map(|w| w as u32),
            inputs: layout.inputs,
            outputs: layout.outputs,
        }
    }

    /// The bytes as received (witness serialization if [`Tx::has_witness`]).
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// Whether the transaction carries witness data (BIP144 marker present).
    pub fn has_witness(&self) -> bool {
        self.witness_start.is_some()
    }

    /// Number of inputs.
    pub fn input_count(&self) -> usize {
        self.inputs as usize
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.outputs as usize
    }

    /// The version field.
    pub fn version(&self) -> i32 {
        i32::from_le_bytes([self.raw[0], self.raw[1], self.raw[2], self.raw[3]])
    }

    /// The lock time field.
    pub fn lock_time(&self) -> u32 {
        let n = self.raw.len();
        u32::from_le_bytes([
            self.raw[n - 4],
            self.raw[n - 3],
            self.raw[n - 2],
            self.raw[n - 1],
        ])
    }

    /// The three pieces of the base (non-witness) serialization.
    fn base_parts(&self) -> [&[u8]; 3] {
        match self.witness_start {
            None => [&self.raw[..], &[], &[]],
            Some(w) => {
                let n = self.raw.len();
                [&self.raw[..4], &self.raw[6..w as usize], &self.raw[n - 4..]]
            }
        }
    }

    /// Size of the base serialization.
    pub fn base_size(&self) -> usize {
        self.base_parts().iter().map(|p| p.len()).sum()
    }

    /// Size of the serialization as received.
    pub fn total_size(&self) -> usize {
        self.raw.len()
    }

    /// BIP141 weight: base size × 3 + total size.
    pub fn weight(&self) -> usize {
        self.base_size() * 3 + self.total_size()
    }

    /// The txid: double SHA-256 of the base serialization.
    pub fn txid(&self) -> Hash256 {
        match self.witness_start {
            None => Hash256(sha256d(&self.raw)),
            Some(_) => Hash256(sha256d_parts(&self.base_parts())),
        }
    }

    /// The wtxid: double SHA-256 of the witness serialization (equals the txid without witness).
    pub fn wtxid(&self) -> Hash256 {
        Hash256(sha256d(&self.raw))
    }

    /// Encoded size in `encoding`.
    pub fn encoded_len(&self, encoding: Encoding) -> usize {
        match encoding {
            Encoding::Witness => self.raw.len(),
            Encoding::Base => self.base_size(),
        }
    }

    /// Writes the transaction in `encoding` (witness data only if present and asked for).
    pub fn encode(&self, out: &mut BytesMut, encoding: Encoding) {
        match encoding {
            Encoding::Witness => out.put_slice(&self.raw),
            Encoding::Base => {
                for p in self.base_parts() {
                    out.put_slice(p);
                }
            }
        }
    }

    /// The inputs, parsed lazily from the bytes.
    pub fn inputs(&self) -> impl Iterator<Item = TxIn<'_>> + '_ {
        let mut r = Reader::new(&self.raw);
        let marker = if self.witness_start.is_some() { 6 } else { 4 };
        let n = match r.skip(marker).and_then(|_| r.read_compact_size()) {
            Ok(_) => self.inputs,
            Err(_) => 0,
        };
        // The structure was validated on construction, so the reads below cannot fail.
        (0..n).map_while(move |_| {
            Some(TxIn {
                prev_txid: r.read_hash().ok()?,
                prev_index: r.read_u32().ok()?,
                script_sig: r.read_var_slice(MAX_SCRIPT_LEN, Field::Script).ok()?,
                sequence: r.read_u32().ok()?,
            })
        })
    }

    /// The outputs, parsed lazily from the bytes.
    pub fn outputs(&self) -> impl Iterator<Item = TxOut<'_>> + '_ {
        let mut r = Reader::new(&self.raw);
        let marker = if self.witness_start.is_some() { 6 } else { 4 };
        let mut ok = r.skip(marker).and_then(|_| r.read_compact_size()).is_ok();
        for _ in 0..self.inputs {
            ok = ok
                && r.skip(36).is_ok()
                && r.read_var_slice(MAX_SCRIPT_LEN, Field::Script).is_ok()
                && r.skip(4).is_ok();
        }
        ok = ok && r.read_compact_size().is_ok();
        let n = if ok { self.outputs } else { 0 };
        (0..n).map_while(move |_| {
            Some(TxOut {
                value: r.read_i64().ok()?,
                script_pubkey: r.read_var_slice(MAX_SCRIPT_LEN, Field::Script).ok()?,
            })
        })
    }

    /// The witness stack of each input, in input order (empty if the transaction has no
    /// witness data).
    pub fn witnesses(&self) -> impl Iterator<Item = Vec<&[u8]>> + '_ {
        let (start, n) = match self.witness_start {
            Some(w) => (w as usize, self.inputs),
            None => (self.raw.len(), 0),
        };
        let mut r = Reader::new(&self.raw[start..]);
        (0..n).map_while(move |_| {
            let items = r.read_count(MAX_WITNESS_ITEMS, Field::WitnessItems).ok()?;
            let mut stack = Vec::with_capacity(r.capacity_for(items, 1));
            for _ in 0..items {
                stack.push(r.read_var_slice(MAX_SCRIPT_LEN, Field::WitnessItem).ok()?);
            }
            Some(stack)
        })
    }
}

/// One input of a [`Tx`], borrowed from the transaction's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxIn<'a> {
    /// Txid of the transaction whose output is spent.
    pub prev_txid: Hash256,
    /// Index of the spent output.
    pub prev_index: u32,
    /// The signature script.
    pub script_sig: &'a [u8],
    /// The sequence number.
    pub sequence: u32,
}

/// One output of a [`Tx`], borrowed from the transaction's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxOut<'a> {
    /// Value in satoshis.
    pub value: i64,
    /// The public-key script.
    pub script_pubkey: &'a [u8],
}

/// Builds the bytes of a simple transaction (for tests, examples and simulations): one input
/// spending `prev`, one output of `value` paying to `script`.
pub fn build_simple_tx(prev: Hash256, index: u32, value: i64, script: &[u8]) -> Tx {
    let mut out = BytesMut::with_capacity(60 + script.len());
    out.put_i32_le(2);
    put_compact_size(&mut out, 1);
    out.put_slice(&prev.0);
    out.put_u32_le(index);
    put_compact_size(&mut out, 0);
    out.put_u32_le(0xffff_ffff);
    put_compact_size(&mut out, 1);
    out.put_i64_le(value);
    put_compact_size(&mut out, script.len() as u64);
    out.put_slice(script);
    out.put_u32_le(0);
    Tx::from_bytes(out.freeze(), Encoding::Base).expect("a well-formed transaction")
}

#[cfg(all(test, feature = "std"))]
mod fast_path_tests {
    use super::*;

    /// The transactions of the corpus's segwit block (2,500, 2,065 with witnesses), as slices.
    fn corpus_txs(block: &[u8]) -> Vec<&[u8]> {
        let mut r = Reader::new(block);
        r.skip(80).unwrap();
        let n = r.read_compact_size().unwrap();
        (0..n)
            .map(|_| {
                let start = r.position();
                let layout = scan_tx_exact(&mut r, Encoding::Witness).unwrap();
                &block[start..start + layout.len]
            })
            .collect()
    }

    fn agree(b: &[u8], encoding: Encoding, what: &str) {
        let mut r = Reader::new(b);
        let exact = scan_tx_exact(&mut r, encoding).map(|l| (l, r.position()));
        let mut r = Reader::new(b);
        let fast = scan_tx(&mut r, encoding).map(|l| (l, r.position()));
        assert_eq!(fast, exact, "{what}");
        if let Some(l) = scan_tx_fast(b, encoding) {
            assert_eq!(Ok((l, l.len)), exact, "{what}: fast path accepted");
        }
    }

    #[test]
    fn fast_scan_agrees_with_the_exact_walk() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/corpus/block702861.raw"
        );
        let Ok(block) = std::fs::read(path) else {
            return; // corpus not beside this checkout
        };
        let txs = corpus_txs(&block);
        assert_eq!(txs.len(), 2500);
        let mut seed = 11u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        for (i, tx) in txs.iter().enumerate() {
            assert!(scan_tx_fast(tx, Encoding::Witness).is_some(), "tx {i}");
            agree(tx, Encoding::Witness, "as is");
            agree(tx, Encoding::Base, "base");
            if i % 10 != 0 {
                continue;
            }
            for cut in 0..tx.len() {
                agree(&tx[..cut], Encoding::Witness, "cut");
            }
            for _ in 0..200 {
                let mut m = tx.to_vec();
                let at = next() % m.len();
                m[at] = match next() % 4 {
                    0 => 0,
                    1 => 0xfd,
                    2 => 0xff,
                    _ => next() as u8,
                };
                agree(&m, Encoding::Witness, "mutated");
                agree(&m, Encoding::Base, "mutated base");
            }
        }
    }
}
