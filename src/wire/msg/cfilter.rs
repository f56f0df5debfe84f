//! BIP157 compact filter messages.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use crate::wire::Hash256;
use crate::wire::encode::{Reader, check_count, check_len, put_compact_size, put_var_bytes};
use crate::wire::error::{DecodeError, EncodeError, Field};

/// Largest compact filter in bytes.
pub const MAX_CFILTER_DATA_SIZE: usize = 262_144;
/// Most filter hashes in a `cfheaders`.
pub const MAX_CF_HEADERS_PER_MSG: usize = 2000;
/// Most filter headers in a `cfcheckpt`.
pub const MAX_CF_CHECKPOINTS: usize = 100_000;

/// Filter type 0: the basic filter.
pub const FILTER_TYPE_BASIC: u8 = 0;

/// `getcfilters` and `getcfheaders`: a filter type and a height range ending at a stop hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetCFilters {
    /// Filter type.
    pub filter_type: u8,
    /// First block height.
    pub start_height: u32,
    /// Last block hash.
    pub stop_hash: Hash256,
}

impl GetCFilters {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetCFilters {
            filter_type: r.read_u8()?,
            start_height: r.read_u32()?,
            stop_hash: r.read_hash()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.filter_type);
        out.put_u32_le(self.start_height);
        out.put_slice(&self.stop_hash.0);
    }
}

/// `getcfcheckpt`: a filter type and a stop hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetCFCheckpt {
    /// Filter type.
    pub filter_type: u8,
    /// Last block hash.
    pub stop_hash: Hash256,
}

impl GetCFCheckpt {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetCFCheckpt {
            filter_type: r.read_u8()?,
            stop_hash: r.read_hash()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.filter_type);
        out.put_slice(&self.stop_hash.0);
    }
}

/// `cfilter`: one block's filter (a zero-copy slice of the receive buffer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CFilter {
    /// Filter type.
    pub filter_type: u8,
    /// The block.
    pub block_hash: Hash256,
    /// The filter bytes (at most 262 144).
    pub filter: Bytes,
}

impl CFilter {
    pub(crate) fn decode(r: &mut Reader<'_>, payload: &Bytes) -> Result<Self, DecodeError> {
        let filter_type = r.read_u8()?;
        let block_hash = r.read_hash()?;
        let data = r.read_var_slice(MAX_CFILTER_DATA_SIZE as u64, Field::CompactFilter)?;
        Ok(CFilter {
            filter_type,
            block_hash,
            filter: payload.slice_ref(data),
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_len(
            self.filter.len(),
            MAX_CFILTER_DATA_SIZE,
            Field::CompactFilter,
        )?;
        out.put_u8(self.filter_type);
        out.put_slice(&self.block_hash.0);
        put_var_bytes(out, &self.filter);
        Ok(())
    }
}

/// `cfheaders`: filter hashes for a range, chained from the previous filter header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CFHeaders {
    /// Filter type.
    pub filter_type: u8,
    /// Last block hash of the range.
    pub stop_hash: Hash256,
    /// Filter header before the range.
    pub prev_filter_header: Hash256,
    /// Filter hashes (at most 2000).
    pub filter_hashes: Vec<Hash256>,
}

impl CFHeaders {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let filter_type = r.read_u8()?;
        let stop_hash = r.read_hash()?;
        let prev_filter_header = r.read_hash()?;
        let filter_hashes = read_hashes(r, MAX_CF_HEADERS_PER_MSG)?;
        Ok(CFHeaders {
            filter_type,
            stop_hash,
            prev_filter_header,
            filter_hashes,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u8(self.filter_type);
        out.put_slice(&self.stop_hash.0);
        out.put_slice(&self.prev_filter_header.0);
        put_hashes(out, &self.filter_hashes, MAX_CF_HEADERS_PER_MSG)
    }
}

/// `cfcheckpt`: filter headers at every 1000th block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CFCheckpt {
    /// Filter type.
    pub filter_type: u8,
    /// Last block hash.
    pub stop_hash: Hash256,
    /// Filter headers (at most 100 000).
    pub filter_headers: Vec<Hash256>,
}

impl CFCheckpt {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let filter_type = r.read_u8()?;
        let stop_hash = r.read_hash()?;
        let filter_headers = read_hashes(r, MAX_CF_CHECKPOINTS)?;
        Ok(CFCheckpt {
            filter_type,
            stop_hash,
            filter_headers,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u8(self.filter_type);
        out.put_slice(&self.stop_hash.0);
        put_hashes(out, &self.filter_headers, MAX_CF_CHECKPOINTS)
    }
}

fn read_hashes(r: &mut Reader<'_>, max: usize) -> Result<Vec<Hash256>, DecodeError> {
    let count = r.read_count(max as u64, Field::FilterHeaders)?;
    let mut v = Vec::with_capacity(r.capacity_for(count, 32));
    for _ in 0..count {
        v.push(r.read_hash()?);
    }
    Ok(v)
}

fn put_hashes(out: &mut BytesMut, hashes: &[Hash256], max: usize) -> Result<(), EncodeError> {
    check_count(hashes.len(), max, Field::FilterHeaders)?;
    put_compact_size(out, hashes.len() as u64);
    for h in hashes {
        out.put_slice(&h.0);
    }
    Ok(())
}
