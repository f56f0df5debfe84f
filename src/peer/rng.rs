//! The peer's internal PRNG: xoshiro256++ seeded once from the caller's `RngCore`, so the same
//! seed and inputs give the same nonces, shuffles and delays.

use rand_core::RngCore;

/// A small, fast, deterministic PRNG (xoshiro256++). Not for key material.
#[derive(Clone, Debug)]
pub struct PeerRng {
    s: [u64; 4],
}

impl PeerRng {
    /// Seeds from `rng` (four `u64` draws).
    pub fn from_rng<R: RngCore + ?Sized>(rng: &mut R) -> PeerRng {
        let mut s = [
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
        ];
        if s == [0; 4] {
            s[0] = 0x9e37_79b9_7f4a_7c15;
        }
        PeerRng { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A non-zero random `u64` (nonces use zero as "none").
    pub fn nonzero_u64(&mut self) -> u64 {
        loop {
            let n = self.next_u64();
            if n != 0 {
                return n;
            }
        }
    }

    /// A uniform value in `0..n` (`n > 0`), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// A uniform `f64` in `(0, 1]`.
    pub fn unit_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// An exponentially distributed value with the given mean (Poisson process inter-arrival
    /// times), as Bitcoin Core draws trickle delays.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -ln(self.unit_open0()) * mean
    }
}

impl RngCore for PeerRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        PeerRng::next_u64(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = PeerRng::next_u64(self).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Natural logarithm for `x > 0` without `std`: split off the binary exponent, then the
/// atanh series on the mantissa (converges fast for m in [1, 2)). Accurate to ~1e-15.
pub(crate) fn ln(x: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let bits = x.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if exp == -1023 {
        // Subnormal: normalize by scaling up.
        let scaled = x * (1u64 << 54) as f64;
        return ln(scaled) - 54.0 * core::f64::consts::LN_2;
    }
    // Keep the mantissa in [sqrt(1/2), sqrt(2)) so the series argument stays small.
    if mantissa > core::f64::consts::SQRT_2 {
        mantissa /= 2.0;
        exp += 1;
    }
    let z = (mantissa - 1.0) / (mantissa + 1.0);
    let z2 = z * z;
    let mut term = z;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 41.0 {
        sum += term / k;
        term *= z2;
        k += 2.0;
    }
    2.0 * sum + exp as f64 * core::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u64);
    impl RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 += 1;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(7)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    #[test]
    fn deterministic_and_bounded() {
        let mut a = PeerRng::from_rng(&mut Counter(0));
        let mut b = PeerRng::from_rng(&mut Counter(0));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert!(a.below(7) < 7);
            b.below(7);
        }
    }

    #[test]
    fn ln_is_accurate() {
        for &(x, want) in &[
            (1.0, 0.0),
            (core::f64::consts::E, 1.0),
            (0.5, -core::f64::consts::LN_2),
            (1e-300, -690.7755278982137),
            (123_456.789, 11.723646487185881),
            (5e-324, -744.4400719213812),
        ] {
            assert!(
                (ln(x) - want).abs() < 1e-12 * want.abs().max(1.0),
                "ln({x}) = {}",
                ln(x)
            );
        }
    }

    #[test]
    fn exponential_mean() {
        let mut r = PeerRng::from_rng(&mut Counter(42));
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| r.exponential(2.0)).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.03, "{mean}");
    }
}
