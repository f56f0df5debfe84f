//! BLAKE-256: the 14-round, 256-bit member of the BLAKE family (SHA-3
//! finalist), as used by Decred for block and transaction hashes.
//!
//! This is the original BLAKE, not BLAKE2 or BLAKE3, with an all-zero salt.
//! The implementation is portable, allocation-free and uses no `unsafe`.

/// Initial chain value (the same words as SHA-256's initial state).
const IV: [u32; 8] = [
    0x6A09_E667,
    0xBB67_AE85,
    0x3C6E_F372,
    0xA54F_F53A,
    0x510E_527F,
    0x9B05_688C,
    0x1F83_D9AB,
    0x5BE0_CD19,
];

/// Round constants: the leading 512 bits of the fractional part of pi.
const C: [u32; 16] = [
    0x243F_6A88,
    0x85A3_08D3,
    0x1319_8A2E,
    0x0370_7344,
    0xA409_3822,
    0x299F_31D0,
    0x082E_FA98,
    0xEC4E_6C89,
    0x4528_21E6,
    0x38D0_1377,
    0xBE54_66CF,
    0x34E9_0C6C,
    0xC0AC_29B7,
    0xC97C_50DD,
    0x3F84_D5B5,
    0xB547_0917,
];

/// Message-word permutations; round `r` uses row `r % 10`.
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// Block size in bytes.
const BLOCK: usize = 64;

/// The G mixing function applied to four state words for step `$i` of
/// round `$r`. All indices are constants, so every lookup folds away.
macro_rules! g {
    ($v:ident, $m:ident, $r:expr, $i:expr, $a:expr, $b:expr, $c:expr, $d:expr) => {
        let x = SIGMA[$r % 10][2 * $i];
        let y = SIGMA[$r % 10][2 * $i + 1];
        $v[$a] = $v[$a].wrapping_add($v[$b]).wrapping_add($m[x] ^ C[y]);
        $v[$d] = ($v[$d] ^ $v[$a]).rotate_right(16);
        $v[$c] = $v[$c].wrapping_add($v[$d]);
        $v[$b] = ($v[$b] ^ $v[$c]).rotate_right(12);
        $v[$a] = $v[$a].wrapping_add($v[$b]).wrapping_add($m[y] ^ C[x]);
        $v[$d] = ($v[$d] ^ $v[$a]).rotate_right(8);
        $v[$c] = $v[$c].wrapping_add($v[$d]);
        $v[$b] = ($v[$b] ^ $v[$c]).rotate_right(7);
    };
}

/// One full round: four column steps followed by four diagonal steps.
macro_rules! round {
    ($v:ident, $m:ident, $r:expr) => {
        g!($v, $m, $r, 0, 0, 4, 8, 12);
        g!($v, $m, $r, 1, 1, 5, 9, 13);
        g!($v, $m, $r, 2, 2, 6, 10, 14);
        g!($v, $m, $r, 3, 3, 7, 11, 15);
        g!($v, $m, $r, 4, 0, 5, 10, 15);
        g!($v, $m, $r, 5, 1, 6, 11, 12);
        g!($v, $m, $r, 6, 2, 7, 8, 13);
        g!($v, $m, $r, 7, 3, 4, 9, 14);
    };
}

/// Compresses one 64-byte block into `h`; `t` is the bit counter.
#[inline]
fn compress(h: &mut [u32; 8], block: &[u8; BLOCK], t: u64) {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    }
    let t0 = t as u32;
    let t1 = (t >> 32) as u32;
    let mut v = [
        h[0],
        h[1],
        h[2],
        h[3],
        h[4],
        h[5],
        h[6],
        h[7],
        C[0],
        C[1],
        C[2],
        C[3],
        C[4] ^ t0,
        C[5] ^ t0,
        C[6] ^ t1,
        C[7] ^ t1,
    ];
    round!(v, m, 0);
    round!(v, m, 1);
    round!(v, m, 2);
    round!(v, m, 3);
    round!(v, m, 4);
    round!(v, m, 5);
    round!(v, m, 6);
    round!(v, m, 7);
    round!(v, m, 8);
    round!(v, m, 9);
    round!(v, m, 10);
    round!(v, m, 11);
    round!(v, m, 12);
    round!(v, m, 13);
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

/// Streaming BLAKE-256 hasher.
#[derive(Clone)]
pub struct Blake256 {
    /// Chain value.
    h: [u32; 8],
    /// Message bits compressed so far.
    t: u64,
    /// Pending bytes not yet compressed.
    buf: [u8; BLOCK],
    /// Number of valid bytes in `buf` (always `< BLOCK`).
    buf_len: usize,
}

impl Blake256 {
    /// Creates a hasher in the initial state.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            h: IV,
            t: 0,
            buf: [0; BLOCK],
            buf_len: 0,
        }
    }

    /// Absorbs `data` into the hash state.
    pub fn update(&mut self, mut data: &[u8]) {
        if self.buf_len > 0 {
            let start = self.buf_len % BLOCK;
            let take = (BLOCK - start).min(data.len());
            let (head, rest) = data.split_at(take);
            self.buf[start..start + take].copy_from_slice(head);
            data = rest;
            self.buf_len = start + take;
            if self.buf_len < BLOCK {
                return;
            }
            self.t = self.t.wrapping_add(512);
            compress(&mut self.h, &self.buf, self.t);
            self.buf_len = 0;
        }
        while let Some((block, rest)) = data.split_first_chunk::<BLOCK>() {
            self.t = self.t.wrapping_add(512);
            compress(&mut self.h, block, self.t);
            data = rest;
        }
        self.buf[..data.len()].copy_from_slice(data);
        self.buf_len = data.len();
    }

    /// Applies the final padding and returns the 32-byte digest.
    #[must_use]
    pub fn finalize(mut self) -> [u8; 32] {
        let n = self.buf_len % BLOCK;
        let total = self.t.wrapping_add((n as u64) << 3);
        let len = total.to_be_bytes();
        let mut block = [0u8; BLOCK];
        block[..n].copy_from_slice(&self.buf[..n]);
        block[n] = 0x80;
        if n <= 55 {
            // Padding fits in this block. A block carrying no message bits
            // (only possible when `n == 0`) is compressed with counter 0.
            block[55] |= 0x01;
            block[56..].copy_from_slice(&len);
            let t = if n == 0 { 0 } else { total };
            compress(&mut self.h, &block, t);
        } else {
            // Length does not fit: finish this block, then a padding-only
            // block whose counter is 0.
            compress(&mut self.h, &block, total);
            let mut last = [0u8; BLOCK];
            last[55] = 0x01;
            last[56..].copy_from_slice(&len);
            compress(&mut self.h, &last, 0);
        }
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.h.iter()) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

impl Default for Blake256 {
    fn default() -> Self {
        Self::new()
    }
}

/// One-shot BLAKE-256 of `data`.
#[must_use]
pub fn blake256(data: &[u8]) -> [u8; 32] {
    let mut h = Blake256::new();
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn empty() {
        assert_eq!(
            blake256(b""),
            hex("716f6e863f744b9ac22c97ec7b76ea5f5908bc5b2f67c61510bfc4751384ea7a")
        );
    }

    #[test]
    fn one_zero_byte() {
        assert_eq!(
            blake256(&[0u8]),
            hex("0ce8d4ef4dd7cd8d62dfded9d4edb0a774ae6a41929a74da23109e8f11139c87")
        );
    }

    #[test]
    fn seventy_two_zero_bytes() {
        assert_eq!(
            blake256(&[0u8; 72]),
            hex("d419bad32d504fb7d44d460c42c5593fe544fa4c135dec31e21bd9abdcc22d41")
        );
    }

    #[test]
    fn quick_brown_fox() {
        assert_eq!(
            blake256(b"The quick brown fox jumps over the lazy dog"),
            hex("7576698ee9cad30173080678e5965916adbb11cb5245d386bf1ffda1cb26c9d7")
        );
    }

    /// Padding boundaries (messages `0, 1, 2, ...` as bytes), cross-checked
    /// against the independent `blake-hash` crate: 55 shares the 0x80/0x01
    /// byte, 56..=64 and 120 need a padding-only final block (counter 0).
    #[test]
    fn padding_boundaries() {
        let cases: [(usize, &str); 6] = [
            (
                55,
                "d7ec78bc615d99e41d371cf6401449969144b5f789bde014a9aeafd8987257f2",
            ),
            (
                56,
                "26ca422697c9fabc642129b1a5669be07fb0a3c31f14f1c7859e048ad5958e44",
            ),
            (
                63,
                "cfce445066d35322557b432540bd2f0af4caf9f426568236d9944426a5df792a",
            ),
            (
                64,
                "4432b2c1e983b0c326583516920f3949c2acf5d85a99353601228cab40c867bc",
            ),
            (
                119,
                "7271691baf3f4ea7795006522897316eccd614816fa4fe10c546c11e882ac016",
            ),
            (
                120,
                "6b4831d9c2ab2403b17ce7063f804ce559db6951563678294acd9a0a418bab35",
            ),
        ];
        let mut data = [0u8; 120];
        for (i, b) in data.iter_mut().enumerate() {
            *b = i as u8;
        }
        for (len, want) in cases {
            assert_eq!(blake256(&data[..len]), hex(want), "len {len}");
        }
    }

    fn message(len: usize) -> [u8; 200] {
        let mut buf = [0u8; 200];
        for (i, b) in buf.iter_mut().take(len).enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        buf
    }

    #[test]
    fn streaming_matches_one_shot() {
        for len in 0..=200usize {
            let buf = message(len);
            let msg = &buf[..len];
            let expected = blake256(msg);
            for split in 0..=len {
                let mut h = Blake256::new();
                h.update(&msg[..split]);
                h.update(&msg[split..]);
                assert_eq!(h.finalize(), expected, "len {len} split {split}");
            }
            let mut h = Blake256::default();
            for b in msg {
                h.update(core::slice::from_ref(b));
            }
            assert_eq!(h.clone().finalize(), expected, "len {len} bytewise");
            h.update(&[]);
            assert_eq!(h.finalize(), expected, "len {len} empty update");
        }
    }
}
