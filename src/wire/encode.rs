//! Primitive encodings: fixed integers, CompactSize, var strings and var bytes.
//!
//! [`Reader`] is a bounds-checked cursor over a payload: every read returns a typed error instead
//! of panicking, and [`Reader::read_count`] checks a count against its limit before the caller
//! allocates anything. Writing goes straight into a `BytesMut` through the `put_*` helpers.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{BufMut, BytesMut};

use super::error::{DecodeError, EncodeError, Field};

/// The general serialization bound for strings and byte fields (32 MiB).
pub const MAX_VAR_LEN: u64 = 32 * 1024 * 1024;

/// A bounds-checked cursor over a byte slice.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes not yet read (without consuming them).
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Offset of the next byte to read.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether everything has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { extra }),
        }
    }

    /// The next `n` bytes.
    #[inline]
    pub fn read_slice(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if n > available {
            return Err(DecodeError::Truncated {
                needed: n,
                available,
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Skips `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.read_slice(n).map(|_| ())
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.read_slice(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// A byte.
    #[inline]
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// A bool (any non-zero byte is true).
    #[inline]
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.read_u8()? != 0)
    }

    /// A little-endian `u16`.
    #[inline]
    pub fn read_u16(&mut self) -> Result<u16, DecodeError> {
        self.read_array().map(u16::from_le_bytes)
    }

    /// A big-endian `u16` (ports).
    #[inline]
    pub fn read_u16_be(&mut self) -> Result<u16, DecodeError> {
        self.read_array().map(u16::from_be_bytes)
    }

    /// A little-endian `u32`.
    #[inline]
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        self.read_array().map(u32::from_le_bytes)
    }

    /// A little-endian `i32`.
    #[inline]
    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.read_array().map(i32::from_le_bytes)
    }

    /// A little-endian `u64`.
    #[inline]
    pub fn read_u64(&mut self) -> Result<u64, DecodeError> {
        self.read_array().map(u64::from_le_bytes)
    }

    /// A little-endian `i64`.
    #[inline]
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.read_array().map(i64::from_le_bytes)
    }

    /// A CompactSize; non-canonical encodings are rejected.
    #[inline(always)]
    pub fn read_compact_size(&mut self) -> Result<u64, DecodeError> {
        // One-byte sizes (every script length, count and item length below 253) inline;
        // the rest out of line.
        match self.buf.get(self.pos) {
            Some(&n) if n < 0xfd => {
                self.pos += 1;
                Ok(u64::from(n))
            }
            _ => self.read_compact_size_long(),
        }
    }

    #[inline(never)]
    fn read_compact_size_long(&mut self) -> Result<u64, DecodeError> {
        let first = self.read_u8()?;
        let (value, min) = match first {
            0xfd => (u64::from(self.read_u16()?), 0xfd),
            0xfe => (u64::from(self.read_u32()?), 0x1_0000),
            0xff => (self.read_u64()?, 0x1_0000_0000),
            n => return Ok(u64::from(n)),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalCompactSize);
        }
        Ok(value)
    }

    /// A CompactSize count, checked against `max` before the caller allocates.
    #[inline]
    pub fn read_count(&mut self, max: u64, field: Field) -> Result<usize, DecodeError> {
        let count = self.read_compact_size()?;
        if count > max {
            return Err(DecodeError::TooMany { field, count, max });
        }
        // `max` is always far below usize::MAX on supported targets.
        usize::try_from(count).map_err(|_| DecodeError::TooMany { field, count, max })
    }

    /// A capacity to reserve for `count` entries of at least `min_entry` bytes each: never
    /// more than the remaining bytes could hold, so a lying count cannot force an allocation.
    #[inline]
    pub fn capacity_for(&self, count: usize, min_entry: usize) -> usize {
        count.min(self.remaining() / min_entry.max(1))
    }

    /// Decodes up to `count` fixed-size entries of `N` bytes each into `out` with one bounds
    /// check for the lot, for as long as `entry` accepts them; returns how many it took. The
    /// caller decodes whatever is left field by field, so a truncated or rejected entry is
    /// reported exactly as the field-by-field path reports it.
    #[inline]
    pub(crate) fn read_fixed<T, const N: usize>(
        &mut self,
        count: usize,
        out: &mut Vec<T>,
        mut entry: impl FnMut(&[u8; N]) -> Option<T>,
    ) -> usize {
        let whole = (self.remaining() / N).min(count);
        let bytes = &self.buf[self.pos..self.pos + whole * N];
        let mut taken = 0;
        for chunk in bytes.chunks_exact(N) {
            let mut b = [0u8; N];
            b.copy_from_slice(chunk);
            match entry(&b) {
                Some(item) => out.push(item),
                None => break,
            }
            taken += 1;
        }
        self.pos += taken * N;
        taken
    }

    /// A length-prefixed byte string of at most `max` bytes.
    #[inline]
    pub fn read_var_slice(&mut self, max: u64, field: Field) -> Result<&'a [u8], DecodeError> {
        let len = self.read_compact_size()?;
        if len > max {
            return Err(DecodeError::TooLong { field, len, max });
        }
        self.read_slice(len as usize)
    }

    /// A length-prefixed byte string, copied out.
    pub fn read_var_bytes(&mut self, max: u64, field: Field) -> Result<Vec<u8>, DecodeError> {
        self.read_var_slice(max, field).map(<[u8]>::to_vec)
    }

    /// A length-prefixed string (invalid UTF-8 is replaced, as Bitcoin Core does for display).
    pub fn read_var_string(&mut self, max: u64, field: Field) -> Result<String, DecodeError> {
        let bytes = self.read_var_slice(max, field)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// A length-prefixed string that must be printable ASCII (0x20..=0x7e).
    pub fn read_ascii_string(&mut self, max: u64, field: Field) -> Result<String, DecodeError> {
        let bytes = self.read_var_slice(max.min(MAX_VAR_LEN), field)?;
        if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return Err(DecodeError::MalformedString);
        }
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// A 32-byte hash.
    #[inline]
    pub fn read_hash(&mut self) -> Result<super::Hash256, DecodeError> {
        self.read_array().map(super::Hash256)
    }
}

/// Encoded size of a CompactSize.
#[inline]
pub const fn compact_size_len(n: u64) -> usize {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Writes a CompactSize in its shortest form.
#[inline]
pub fn put_compact_size(out: &mut BytesMut, n: u64) {
    match n {
        0..=0xfc => out.put_u8(n as u8),
        0xfd..=0xffff => {
            out.put_u8(0xfd);
            out.put_u16_le(n as u16);
        }
        0x1_0000..=0xffff_ffff => {
            out.put_u8(0xfe);
            out.put_u32_le(n as u32);
        }
        _ => {
            out.put_u8(0xff);
            out.put_u64_le(n);
        }
    }
}

/// Writes a length-prefixed byte string.
#[inline]
pub fn put_var_bytes(out: &mut BytesMut, bytes: &[u8]) {
    put_compact_size(out, bytes.len() as u64);
    out.put_slice(bytes);
}

/// Size of the stack buffer list encoders stage entries in.
pub(crate) const STAGE: usize = 2048;

/// Appends `list` as fixed-size entries (`N` ≤ [`STAGE`]). Entries are written field by field
/// into a stack buffer that is appended a couple of kilobytes at a time: no `put_*` call (and
/// capacity check) per field, and no zero-filling of the output before writing it.
#[inline]
pub(crate) fn put_fixed<T, const N: usize>(
    out: &mut BytesMut,
    list: &[T],
    write: impl Fn(&T, &mut [u8; N]),
) {
    out.reserve(list.len() * N);
    let mut stage = [0u8; STAGE];
    for group in list.chunks((STAGE / N).max(1)) {
        let bytes = &mut stage[..group.len() * N];
        for (dst, item) in bytes.chunks_exact_mut(N).zip(group) {
            // Always `Some`: `chunks_exact_mut` yields `N` bytes.
            if let Some(dst) = dst.first_chunk_mut::<N>() {
                write(item, dst);
            }
        }
        out.extend_from_slice(bytes);
    }
}

/// Writes a CompactSize at the front of `dst` (which must have room); returns its length.
#[inline]
pub(crate) fn write_compact_size(dst: &mut [u8], n: u64) -> usize {
    match n {
        0..=0xfc => {
            dst[0] = n as u8;
            1
        }
        0xfd..=0xffff => {
            dst[0] = 0xfd;
            dst[1..3].copy_from_slice(&(n as u16).to_le_bytes());
            3
        }
        0x1_0000..=0xffff_ffff => {
            dst[0] = 0xfe;
            dst[1..5].copy_from_slice(&(n as u32).to_le_bytes());
            5
        }
        _ => {
            dst[0] = 0xff;
            dst[1..9].copy_from_slice(&n.to_le_bytes());
            9
        }
    }
}

/// Checks a list length against a message limit before encoding it.
#[inline]
pub fn check_count(count: usize, max: usize, field: Field) -> Result<(), EncodeError> {
    if count > max {
        return Err(EncodeError::TooMany { field, count, max });
    }
    Ok(())
}

/// Checks a field length against its limit before encoding it.
#[inline]
pub fn check_len(len: usize, max: usize, field: Field) -> Result<(), EncodeError> {
    if len > max {
        return Err(EncodeError::TooLong { field, len, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_round_trip_and_canonical() {
        for n in [
            0u64,
            1,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut out = BytesMut::new();
            put_compact_size(&mut out, n);
            assert_eq!(out.len(), compact_size_len(n));
            let mut r = Reader::new(&out);
            assert_eq!(r.read_compact_size(), Ok(n));
            assert!(r.is_empty());
        }
        for bad in [
            &[0xfd, 0xfc, 0x00][..],
            &[0xfe, 0xff, 0xff, 0, 0],
            &[0xff, 0, 0, 0, 0, 1, 0, 0, 0][..8],
        ] {
            let r = Reader::new(bad).read_compact_size();
            assert!(r.is_err(), "{bad:02x?}");
        }
        assert_eq!(
            Reader::new(&[0xfd, 0xfc, 0x00]).read_compact_size(),
            Err(DecodeError::NonCanonicalCompactSize)
        );
    }

    #[test]
    fn truncation_reports_boundary() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(
            r.read_u32(),
            Err(DecodeError::Truncated {
                needed: 4,
                available: 2
            })
        );
        r.skip(2).unwrap();
        assert_eq!(
            r.read_u8(),
            Err(DecodeError::Truncated {
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn count_is_checked_before_allocation() {
        let mut r = Reader::new(&[0xfe, 0xff, 0xff, 0xff, 0x7f]);
        assert!(matches!(
            r.read_count(50_000, Field::InvVectors),
            Err(DecodeError::TooMany {
                count: 0x7fff_ffff,
                ..
            })
        ));
        let r = Reader::new(&[0; 72]);
        assert_eq!(r.capacity_for(50_000, 36), 2);
    }
}
