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
pub(crate) fn scan_tx(r: &mut Reader<'_>, encoding: Encoding) -> Result<TxLayout, DecodeError> {
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
    pub fn from_bytes(raw: Bytes, encoding: Encoding) -> Result<Tx, DecodeError> {
        let mut r = Reader::new(&raw);
        let layout = scan_tx(&mut r, encoding)?;
        r.finish()?;
        Ok(Tx::from_layout(raw, layout))
    }

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
