//! The reference's frame pick: `np.random.seed(999); np.random.choice(n, size=T, replace=False)`.
//!
//! G2D re-seeds numpy's legacy global generator before every pick, so the chosen frames depend
//! only on the number of frames in the clip's folder. This module reproduces that pick exactly:
//! numpy's legacy `RandomState` is MT19937 seeded with `init_genrand(seed)`, `choice` without
//! replacement is `permutation(n)[:size]`, and `permutation` is a Fisher–Yates shuffle of
//! `arange(n)` that draws each index with numpy's masked rejection sampler `random_interval`.

/// The seed G2D passes to `np.random.seed` before picking frames.
pub const REFERENCE_FRAME_SEED: u32 = 999;

/// MT19937, the bit generator behind numpy's legacy `RandomState`.
#[derive(Debug, Clone)]
struct Mt19937 {
    state: [u32; 624],
    pos: usize,
}

impl Mt19937 {
    /// `init_genrand(seed)`, which is what `np.random.seed(int)` does.
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        Mt19937 { state, pos: 624 }
    }

    fn regenerate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..624 {
            let y = (self.state[i] & UPPER) | (self.state[(i + 1) % 624] & LOWER);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.state[i] = self.state[(i + 397) % 624] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// `genrand_int32`: the next tempered 32-bit output.
    fn next_u32(&mut self) -> u32 {
        if self.pos >= 624 {
            self.regenerate();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// numpy's `random_interval(max)`: uniform in `0..=max` by masked rejection (32-bit path).
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

/// `np.random.seed(seed); np.random.choice(n, size, replace=False)`, in numpy's order (not
/// sorted). Returns `None` when `size > n`, where numpy raises.
pub fn choice_without_replacement(seed: u32, n: usize, size: usize) -> Option<Vec<usize>> {
    if size > n || n > u32::MAX as usize {
        return None;
    }
    let mut rng = Mt19937::new(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.interval(i as u32) as usize;
        perm.swap(i, j);
    }
    perm.truncate(size);
    Some(perm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_matches_the_reference_stream() {
        // Matsumoto & Nishimura's reference: init_genrand(5489) starts 3499211612, 581869302.
        let mut rng = Mt19937::new(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
        assert_eq!(rng.next_u32(), 581_869_302);
        // The 10000th output of the default-seeded generator (C++ std::mt19937 requirement).
        let mut rng = Mt19937::new(5489);
        let v = (0..10_000).map(|_| rng.next_u32()).last().unwrap();
        assert_eq!(v, 4_123_659_995);
    }

    #[test]
    fn choice_matches_numpy() {
        // `np.random.seed(999); np.random.choice(n, k, replace=False)`, numpy 2.4.
        let expected: [(usize, &[usize], &[usize]); 8] = [
            (1, &[0], &[0]),
            (2, &[1], &[1, 0]),
            (3, &[1], &[1, 2, 0]),
            (4, &[2], &[2, 1, 3]),
            (5, &[3], &[3, 2, 1]),
            (7, &[3], &[3, 2, 5]),
            (10, &[6], &[6, 2, 8]),
            (37, &[23], &[23, 14, 26]),
        ];
        for (n, one, three) in expected {
            assert_eq!(choice_without_replacement(REFERENCE_FRAME_SEED, n, 1).unwrap(), one, "n = {n}");
            assert_eq!(choice_without_replacement(REFERENCE_FRAME_SEED, n, n.min(3)).unwrap(), three, "n = {n}");
        }
    }

    #[test]
    fn choice_is_a_prefix_of_a_permutation() {
        for n in 1..20 {
            let all = choice_without_replacement(REFERENCE_FRAME_SEED, n, n).unwrap();
            let mut sorted = all.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
            assert_eq!(choice_without_replacement(REFERENCE_FRAME_SEED, n, 1).unwrap()[0], all[0]);
        }
        assert!(choice_without_replacement(REFERENCE_FRAME_SEED, 2, 3).is_none());
    }
}
