//! Decred chain-tip state: `getminings` / `miningstate` (the legacy mining-state exchange) and
//! `getinitstate` / `initstate` (protocol 8).

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{BufMut, BytesMut};

use super::{put_hashes, read_hashes};
use crate::wire::Hash256;
use crate::wire::encode::{Reader, check_count, check_len, put_compact_size, put_var_bytes};
use crate::wire::error::{DecodeError, EncodeError, Field};

/// Most block hashes in `miningstate` / `initstate`.
pub const MAX_STATE_BLOCKS: usize = 8;
/// Most vote hashes in `miningstate` / `initstate`.
pub const MAX_STATE_VOTES: usize = 40;
/// Most treasury-spend hashes in `initstate`.
pub const MAX_STATE_TSPENDS: usize = 7;
/// Most state types in a `getinitstate`.
pub const MAX_INIT_STATE_TYPES: usize = 32;
/// Longest state type string in a `getinitstate`.
pub const MAX_INIT_STATE_TYPE_LEN: usize = 32;

/// `getinitstate` type: the chain tip's blocks.
pub const INIT_STATE_HEAD_BLOCKS: &str = "headblocks";
/// `getinitstate` type: votes on the chain tip.
pub const INIT_STATE_HEAD_BLOCK_VOTES: &str = "headblockvotes";
/// `getinitstate` type: treasury spends in the mempool.
pub const INIT_STATE_TSPENDS: &str = "tspends";

/// `miningstate`: the blocks a miner may build on and the votes for them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MiningState {
    /// Message version.
    pub version: u32,
    /// Height of the blocks.
    pub height: u32,
    /// Candidate parent blocks (at most 8).
    pub block_hashes: Vec<Hash256>,
    /// Votes on them (at most 40).
    pub vote_hashes: Vec<Hash256>,
}

impl MiningState {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MiningState {
            version: r.read_u32()?,
            height: r.read_u32()?,
            block_hashes: read_hashes(r, MAX_STATE_BLOCKS, Field::Blocks)?,
            vote_hashes: read_hashes(r, MAX_STATE_VOTES, Field::Votes)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_count(self.block_hashes.len(), MAX_STATE_BLOCKS, Field::Blocks)?;
        check_count(self.vote_hashes.len(), MAX_STATE_VOTES, Field::Votes)?;
        out.put_u32_le(self.version);
        out.put_u32_le(self.height);
        put_hashes(out, &self.block_hashes, MAX_STATE_BLOCKS, Field::Blocks)?;
        put_hashes(out, &self.vote_hashes, MAX_STATE_VOTES, Field::Votes)
    }
}

/// `getinitstate`: which parts of the initial state the sender wants.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GetInitState {
    /// State types (at most 32, each printable ASCII of at most 32 bytes), e.g.
    /// [`INIT_STATE_HEAD_BLOCKS`].
    pub types: Vec<String>,
}

impl GetInitState {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = r.read_count(MAX_INIT_STATE_TYPES as u64, Field::InitStateTypes)?;
        let mut types = Vec::with_capacity(r.capacity_for(count, 1));
        for _ in 0..count {
            types.push(r.read_ascii_string(MAX_INIT_STATE_TYPE_LEN as u64, Field::VarString)?);
        }
        Ok(GetInitState { types })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_count(
            self.types.len(),
            MAX_INIT_STATE_TYPES,
            Field::InitStateTypes,
        )?;
        for t in &self.types {
            check_len(t.len(), MAX_INIT_STATE_TYPE_LEN, Field::VarString)?;
            if !super::is_strict_ascii(t.as_bytes()) {
                return Err(EncodeError::Unrepresentable(
                    "getinitstate types must be printable ASCII",
                ));
            }
        }
        put_compact_size(out, self.types.len() as u64);
        for t in &self.types {
            put_var_bytes(out, t.as_bytes());
        }
        Ok(())
    }
}

/// `initstate`: the chain tip's blocks, their votes and pending treasury spends.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InitState {
    /// Blocks at the tip (at most 8).
    pub block_hashes: Vec<Hash256>,
    /// Votes on them (at most 40).
    pub vote_hashes: Vec<Hash256>,
    /// Treasury spends (at most 7).
    pub tspend_hashes: Vec<Hash256>,
}

impl InitState {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(InitState {
            block_hashes: read_hashes(r, MAX_STATE_BLOCKS, Field::Blocks)?,
            vote_hashes: read_hashes(r, MAX_STATE_VOTES, Field::Votes)?,
            tspend_hashes: read_hashes(r, MAX_STATE_TSPENDS, Field::TSpends)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_count(self.block_hashes.len(), MAX_STATE_BLOCKS, Field::Blocks)?;
        check_count(self.vote_hashes.len(), MAX_STATE_VOTES, Field::Votes)?;
        check_count(self.tspend_hashes.len(), MAX_STATE_TSPENDS, Field::TSpends)?;
        put_hashes(out, &self.block_hashes, MAX_STATE_BLOCKS, Field::Blocks)?;
        put_hashes(out, &self.vote_hashes, MAX_STATE_VOTES, Field::Votes)?;
        put_hashes(out, &self.tspend_hashes, MAX_STATE_TSPENDS, Field::TSpends)
    }
}
