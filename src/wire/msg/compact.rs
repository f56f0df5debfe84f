//! BIP152 compact block relay: `sendcmpct`, `cmpctblock`, `getblocktxn`, `blocktxn`, and the
//! Erlay announcement `sendtxrcncl` (BIP330).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use super::block::MAX_BLOCK_TXS;
use super::tx::{Tx, scan_tx};
use crate::wire::encode::{Reader, check_count, put_compact_size};
use crate::wire::error::{DecodeError, EncodeError, Field};
use crate::wire::{BlockHeader, Encoding, Hash256};

/// Most short ids plus prefilled transactions, and most requested indexes: transaction indexes
/// are 16 bits, and Bitcoin Core (like rust-bitcoin) rejects a `cmpctblock` whose short ids and
/// prefilled transactions together exceed `u16::MAX` ("indexes overflowed 16 bits").
pub const MAX_COMPACT_ENTRIES: usize = u16::MAX as usize;

/// `sendcmpct`: whether to announce new blocks with `cmpctblock`, and the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendCmpct {
    /// High-bandwidth mode: announce blocks with `cmpctblock` directly.
    pub announce: bool,
    /// Compact block version (1 without, 2 with witness).
    pub version: u64,
}

impl SendCmpct {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SendCmpct {
            announce: r.read_bool()?,
            version: r.read_u64()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(u8::from(self.announce));
        out.put_u64_le(self.version);
    }
}

/// `sendtxrcncl` (BIP330): transaction reconciliation support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendTxRcncl {
    /// Reconciliation protocol version.
    pub version: u32,
    /// Salt for short ids.
    pub salt: u64,
}

impl SendTxRcncl {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SendTxRcncl {
            version: r.read_u32()?,
            salt: r.read_u64()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_u32_le(self.version);
        out.put_u64_le(self.salt);
    }
}

/// A transaction sent along with a compact block, at its (absolute) index in the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefilledTx {
    /// Index of the transaction in the block.
    pub index: u16,
    /// The transaction.
    pub tx: Tx,
}

/// `cmpctblock`: a header, short transaction ids and prefilled transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmpctBlock {
    /// The block header.
    pub header: BlockHeader,
    /// Nonce for the short id hash.
    pub nonce: u64,
    /// 6-byte short transaction ids.
    pub short_ids: Vec<[u8; 6]>,
    /// Transactions sent in full, in increasing index order.
    pub prefilled: Vec<PrefilledTx>,
}

fn next_index(prev: Option<u64>, diff: u64) -> Result<u64, DecodeError> {
    let index = match prev {
        None => diff,
        Some(p) => p.saturating_add(1).saturating_add(diff),
    };
    if index > u64::from(u16::MAX) {
        return Err(DecodeError::Invalid(
            "compact block index overflows 16 bits",
        ));
    }
    Ok(index)
}

fn diff_of(prev: Option<u64>, index: u64) -> Result<u64, EncodeError> {
    match prev {
        None => Ok(index),
        Some(p) if index > p => Ok(index - p - 1),
        Some(_) => Err(EncodeError::Unrepresentable(
            "compact block indexes must be strictly increasing",
        )),
    }
}

fn read_tx(r: &mut Reader<'_>, payload: &Bytes, encoding: Encoding) -> Result<Tx, DecodeError> {
    let start = r.position();
    let layout = scan_tx(r, encoding)?;
    Ok(Tx::from_layout(
        payload.slice(start..start + layout.len),
        layout,
    ))
}

impl CmpctBlock {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        payload: &Bytes,
        encoding: Encoding,
    ) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode(r)?;
        let nonce = r.read_u64()?;
        let count = r.read_count(MAX_COMPACT_ENTRIES as u64, Field::ShortIds)?;
        let mut short_ids = Vec::with_capacity(r.capacity_for(count, 6));
        for _ in 0..count {
            short_ids.push(r.read_array()?);
        }
        let max_prefilled = (MAX_COMPACT_ENTRIES - count) as u64;
        let count = r.read_count(max_prefilled, Field::PrefilledTxs)?;
        let mut prefilled = Vec::with_capacity(r.capacity_for(count, 11));
        let mut prev = None;
        for _ in 0..count {
            let index = next_index(prev, r.read_compact_size()?)?;
            prev = Some(index);
            let tx = read_tx(r, payload, encoding)?;
            prefilled.push(PrefilledTx {
                index: index as u16,
                tx,
            });
        }
        Ok(CmpctBlock {
            header,
            nonce,
            short_ids,
            prefilled,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut, encoding: Encoding) -> Result<(), EncodeError> {
        check_count(
            self.short_ids.len() + self.prefilled.len(),
            MAX_COMPACT_ENTRIES,
            Field::ShortIds,
        )?;
        self.header.encode(out);
        out.put_u64_le(self.nonce);
        put_compact_size(out, self.short_ids.len() as u64);
        for id in &self.short_ids {
            out.put_slice(id);
        }
        put_compact_size(out, self.prefilled.len() as u64);
        let mut prev = None;
        for p in &self.prefilled {
            let index = u64::from(p.index);
            put_compact_size(out, diff_of(prev, index)?);
            prev = Some(index);
            p.tx.encode(out, encoding);
        }
        Ok(())
    }
}

/// `getblocktxn`: the transactions of a block wanted by (absolute) index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetBlockTxn {
    /// The block.
    pub block_hash: Hash256,
    /// Wanted indexes, strictly increasing.
    pub indexes: Vec<u16>,
}

impl GetBlockTxn {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let block_hash = r.read_hash()?;
        let count = r.read_count(MAX_COMPACT_ENTRIES as u64, Field::TxIndexes)?;
        let mut indexes = Vec::with_capacity(r.capacity_for(count, 1));
        let mut prev = None;
        for _ in 0..count {
            let index = next_index(prev, r.read_compact_size()?)?;
            prev = Some(index);
            indexes.push(index as u16);
        }
        Ok(GetBlockTxn {
            block_hash,
            indexes,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_count(self.indexes.len(), MAX_COMPACT_ENTRIES, Field::TxIndexes)?;
        out.put_slice(&self.block_hash.0);
        put_compact_size(out, self.indexes.len() as u64);
        let mut prev = None;
        for &i in &self.indexes {
            put_compact_size(out, diff_of(prev, u64::from(i))?);
            prev = Some(u64::from(i));
        }
        Ok(())
    }
}

/// `blocktxn`: transactions answering a `getblocktxn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTxn {
    /// The block.
    pub block_hash: Hash256,
    /// The transactions, in the order requested.
    pub transactions: Vec<Tx>,
}

impl BlockTxn {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        payload: &Bytes,
        encoding: Encoding,
    ) -> Result<Self, DecodeError> {
        let block_hash = r.read_hash()?;
        let count = r.read_count(MAX_BLOCK_TXS, Field::Transactions)?;
        let mut transactions = Vec::with_capacity(r.capacity_for(count, 10));
        for _ in 0..count {
            transactions.push(read_tx(r, payload, encoding)?);
        }
        Ok(BlockTxn {
            block_hash,
            transactions,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut, encoding: Encoding) -> Result<(), EncodeError> {
        check_count(
            self.transactions.len(),
            MAX_BLOCK_TXS as usize,
            Field::Transactions,
        )?;
        out.put_slice(&self.block_hash.0);
        put_compact_size(out, self.transactions.len() as u64);
        for tx in &self.transactions {
            tx.encode(out, encoding);
        }
        Ok(())
    }
}
