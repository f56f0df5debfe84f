//! Decred committed filters: the version-1 messages (`getcfilter`, `getcfheaders`,
//! `getcftypes`, `cfilter`, `cfheaders`, `cftypes`, protocol 6), `getcfilterv2` / `cfilterv2`
//! (protocol 7) and the batched `getcfsv2` / `cfiltersv2` (protocol 11).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use super::{put_hashes, read_hashes};
use crate::wire::Hash256;
use crate::wire::encode::{Reader, check_count, check_len, put_compact_size, put_var_bytes};
use crate::wire::error::{DecodeError, EncodeError, Field};

/// Largest filter in bytes.
pub const MAX_CFILTER_DATA_SIZE: usize = 262_144;
/// Most locator hashes in a `getcfheaders`.
pub const MAX_CF_LOCATORS: usize = 500;
/// Most filter headers in a `cfheaders`.
pub const MAX_CF_HEADERS_PER_MSG: usize = 2000;
/// Most filter types in a `cftypes`.
pub const MAX_FILTER_TYPES: usize = 256;
/// Most inclusion-proof hashes in a `cfilterv2`.
pub const MAX_HEADER_PROOF_HASHES: usize = 32;
/// Most filters in a `cfiltersv2`.
pub const MAX_CFILTERS_V2_PER_BATCH: usize = 100;

/// Filter type 0: the regular filter.
pub const FILTER_TYPE_REGULAR: u8 = 0;
/// Filter type 1: the extended filter.
pub const FILTER_TYPE_EXTENDED: u8 = 1;

/// `getcfilter`: one block's version-1 filter of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetCFilter {
    /// The block.
    pub block_hash: Hash256,
    /// Filter type.
    pub filter_type: u8,
}

impl GetCFilter {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetCFilter {
            block_hash: r.read_hash()?,
            filter_type: r.read_u8()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.block_hash.0);
        out.put_u8(self.filter_type);
    }
}

/// `getcfheaders` (Decred layout): a block locator, a stop hash and a filter type.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DcrGetCFHeaders {
    /// Locator hashes, newest first (at most 500).
    pub locator: Vec<Hash256>,
    /// Stop at this hash.
    pub stop_hash: Hash256,
    /// Filter type.
    pub filter_type: u8,
}

impl DcrGetCFHeaders {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DcrGetCFHeaders {
            locator: read_hashes(r, MAX_CF_LOCATORS, Field::Locators)?,
            stop_hash: r.read_hash()?,
            filter_type: r.read_u8()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        put_hashes(out, &self.locator, MAX_CF_LOCATORS, Field::Locators)?;
        out.put_slice(&self.stop_hash.0);
        out.put_u8(self.filter_type);
        Ok(())
    }
}

/// `cfilter` (Decred layout): one block's filter, a zero-copy slice of the receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcrCFilter {
    /// The block.
    pub block_hash: Hash256,
    /// Filter type.
    pub filter_type: u8,
    /// The filter bytes (at most 262 144).
    pub data: Bytes,
}

impl DcrCFilter {
    pub(crate) fn decode(r: &mut Reader<'_>, payload: &Bytes) -> Result<Self, DecodeError> {
        let block_hash = r.read_hash()?;
        let filter_type = r.read_u8()?;
        let data = r.read_var_slice(MAX_CFILTER_DATA_SIZE as u64, Field::CompactFilter)?;
        Ok(DcrCFilter {
            block_hash,
            filter_type,
            data: payload.slice_ref(data),
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_len(self.data.len(), MAX_CFILTER_DATA_SIZE, Field::CompactFilter)?;
        out.put_slice(&self.block_hash.0);
        out.put_u8(self.filter_type);
        put_var_bytes(out, &self.data);
        Ok(())
    }
}

/// `cfheaders` (Decred layout): filter headers up to a stop hash.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DcrCFHeaders {
    /// Last block of the range.
    pub stop_hash: Hash256,
    /// Filter type.
    pub filter_type: u8,
    /// Filter headers (at most 2000).
    pub header_hashes: Vec<Hash256>,
}

impl DcrCFHeaders {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DcrCFHeaders {
            stop_hash: r.read_hash()?,
            filter_type: r.read_u8()?,
            header_hashes: read_hashes(r, MAX_CF_HEADERS_PER_MSG, Field::FilterHeaders)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_slice(&self.stop_hash.0);
        out.put_u8(self.filter_type);
        put_hashes(
            out,
            &self.header_hashes,
            MAX_CF_HEADERS_PER_MSG,
            Field::FilterHeaders,
        )
    }
}

/// `cftypes`: the filter types a node serves (one byte each, read one at a time).
pub(crate) fn decode_cftypes(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let count = r.read_count(MAX_FILTER_TYPES as u64, Field::FilterTypes)?;
    let mut types = Vec::with_capacity(r.capacity_for(count, 1));
    for _ in 0..count {
        types.push(r.read_u8()?);
    }
    Ok(types)
}

pub(crate) fn encode_cftypes(types: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(types.len(), MAX_FILTER_TYPES, Field::FilterTypes)?;
    put_compact_size(out, types.len() as u64);
    out.put_slice(types);
    Ok(())
}

/// `cfilterv2` (and each entry of `cfiltersv2`): a block's version-2 filter with the proof
/// that commits it to the block header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CFilterV2 {
    /// The block.
    pub block_hash: Hash256,
    /// The filter bytes (at most 262 144), a zero-copy slice of the receive buffer.
    pub data: Bytes,
    /// Index of the filter in the header commitment tree.
    pub proof_index: u32,
    /// Inclusion proof (at most 32 hashes).
    pub proof_hashes: Vec<Hash256>,
}

impl CFilterV2 {
    pub(crate) fn decode(r: &mut Reader<'_>, payload: &Bytes) -> Result<Self, DecodeError> {
        let block_hash = r.read_hash()?;
        let data = r.read_var_slice(MAX_CFILTER_DATA_SIZE as u64, Field::CompactFilter)?;
        Ok(CFilterV2 {
            block_hash,
            data: payload.slice_ref(data),
            proof_index: r.read_u32()?,
            proof_hashes: read_hashes(r, MAX_HEADER_PROOF_HASHES, Field::Proofs)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_len(self.data.len(), MAX_CFILTER_DATA_SIZE, Field::CompactFilter)?;
        check_count(
            self.proof_hashes.len(),
            MAX_HEADER_PROOF_HASHES,
            Field::Proofs,
        )?;
        out.put_slice(&self.block_hash.0);
        put_var_bytes(out, &self.data);
        out.put_u32_le(self.proof_index);
        put_hashes(
            out,
            &self.proof_hashes,
            MAX_HEADER_PROOF_HASHES,
            Field::Proofs,
        )
    }
}

/// `getcfsv2`: version-2 filters for a range of blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetCFsV2 {
    /// First block of the range.
    pub start_hash: Hash256,
    /// Last block of the range.
    pub end_hash: Hash256,
}

impl GetCFsV2 {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetCFsV2 {
            start_hash: r.read_hash()?,
            end_hash: r.read_hash()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.start_hash.0);
        out.put_slice(&self.end_hash.0);
    }
}

/// `cfiltersv2`: at most 100 version-2 filters.
pub(crate) fn decode_cfilters_v2(
    r: &mut Reader<'_>,
    payload: &Bytes,
) -> Result<Vec<CFilterV2>, DecodeError> {
    let count = r.read_count(MAX_CFILTERS_V2_PER_BATCH as u64, Field::CFilters)?;
    // Smallest entry: hash 32, empty filter 1, proof index 4, no proofs 1.
    let mut list = Vec::with_capacity(r.capacity_for(count, 38));
    for _ in 0..count {
        list.push(CFilterV2::decode(r, payload)?);
    }
    Ok(list)
}

pub(crate) fn encode_cfilters_v2(
    list: &[CFilterV2],
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_CFILTERS_V2_PER_BATCH, Field::CFilters)?;
    put_compact_size(out, list.len() as u64);
    for f in list {
        f.encode(out)?;
    }
    Ok(())
}
