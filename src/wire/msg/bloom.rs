//! BIP37 bloom filtering: `filterload`, `filteradd`, `merkleblock`.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use super::block::MAX_BLOCK_TXS;
use crate::wire::encode::{Reader, check_count, check_len, put_compact_size, put_var_bytes};
use crate::wire::error::{DecodeError, EncodeError, Field};
use crate::wire::{BlockHeader, Hash256};

/// Largest bloom filter in bytes.
pub const MAX_FILTER_LOAD_FILTER_SIZE: usize = 36_000;
/// Most hash functions of a bloom filter.
pub const MAX_FILTER_LOAD_HASH_FUNCS: u32 = 50;
/// Largest `filteradd` element.
pub const MAX_FILTER_ADD_DATA_SIZE: usize = 520;
/// Most flag bytes in a `merkleblock`.
pub const MAX_MERKLE_FLAGS: usize = (MAX_BLOCK_TXS / 8) as usize;

/// BIP37 update behaviour of a filter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BloomFlags(pub u8);

impl BloomFlags {
    /// Never update.
    pub const NONE: BloomFlags = BloomFlags(0);
    /// Add every matched outpoint.
    pub const ALL: BloomFlags = BloomFlags(1);
    /// Add outpoints of pay-to-pubkey and multisig outputs only.
    pub const P2PUBKEY_ONLY: BloomFlags = BloomFlags(2);
}

/// A `filterload` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterLoad {
    /// The filter bits (at most 36 000 bytes; a slice of the receive buffer).
    pub filter: Bytes,
    /// Number of hash functions (at most 50).
    pub hash_funcs: u32,
    /// Hash seed tweak.
    pub tweak: u32,
    /// Update behaviour.
    pub flags: BloomFlags,
}

impl FilterLoad {
    pub(crate) fn decode(r: &mut Reader<'_>, payload: &Bytes) -> Result<FilterLoad, DecodeError> {
        let filter = r.read_var_slice(MAX_FILTER_LOAD_FILTER_SIZE as u64, Field::BloomFilter)?;
        let filter = payload.slice_ref(filter);
        let hash_funcs = r.read_u32()?;
        let tweak = r.read_u32()?;
        let flags = BloomFlags(r.read_u8()?);
        // Checked after the whole message is read, as btcd does: a truncated message is
        // reported as truncated whatever its hash-function count.
        if hash_funcs > MAX_FILTER_LOAD_HASH_FUNCS {
            return Err(DecodeError::TooMany {
                field: Field::HashFuncs,
                count: u64::from(hash_funcs),
                max: u64::from(MAX_FILTER_LOAD_HASH_FUNCS),
            });
        }
        Ok(FilterLoad {
            filter,
            hash_funcs,
            tweak,
            flags,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_len(
            self.filter.len(),
            MAX_FILTER_LOAD_FILTER_SIZE,
            Field::BloomFilter,
        )?;
        check_count(
            self.hash_funcs as usize,
            MAX_FILTER_LOAD_HASH_FUNCS as usize,
            Field::HashFuncs,
        )?;
        put_var_bytes(out, &self.filter);
        out.put_u32_le(self.hash_funcs);
        out.put_u32_le(self.tweak);
        out.put_u8(self.flags.0);
        Ok(())
    }
}

pub(crate) fn decode_filter_add(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    r.read_var_bytes(MAX_FILTER_ADD_DATA_SIZE as u64, Field::FilterAddData)
}

pub(crate) fn encode_filter_add(data: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_len(data.len(), MAX_FILTER_ADD_DATA_SIZE, Field::FilterAddData)?;
    put_var_bytes(out, data);
    Ok(())
}

/// A `merkleblock`: a header and a partial merkle tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleBlock {
    /// The block header.
    pub header: BlockHeader,
    /// Transactions in the block.
    pub total_transactions: u32,
    /// Partial merkle tree hashes.
    pub hashes: Vec<Hash256>,
    /// Partial merkle tree flag bits.
    pub flags: Vec<u8>,
}

impl MerkleBlock {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<MerkleBlock, DecodeError> {
        let header = BlockHeader::decode(r)?;
        let total_transactions = r.read_u32()?;
        let count = r.read_count(MAX_BLOCK_TXS, Field::TxHashes)?;
        let mut hashes = Vec::with_capacity(r.capacity_for(count, 32));
        for _ in 0..count {
            hashes.push(r.read_hash()?);
        }
        let flags = r.read_var_bytes(MAX_MERKLE_FLAGS as u64, Field::MerkleFlags)?;
        Ok(MerkleBlock {
            header,
            total_transactions,
            hashes,
            flags,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_count(self.hashes.len(), MAX_BLOCK_TXS as usize, Field::TxHashes)?;
        check_len(self.flags.len(), MAX_MERKLE_FLAGS, Field::MerkleFlags)?;
        self.header.encode(out);
        out.put_u32_le(self.total_transactions);
        put_compact_size(out, self.hashes.len() as u64);
        for h in &self.hashes {
            out.put_slice(&h.0);
        }
        put_var_bytes(out, &self.flags);
        Ok(())
    }
}
