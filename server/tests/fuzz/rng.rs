//! The generator: splitmix64 from one seed, so that a seed replays a whole run.

/// The seed when `MESSAGEDB_FUZZ_SEED` is unset (`messaged` in ASCII).
const DEFAULT_SEED: u64 = 0x6d65_7373_6167_6564;

/// splitmix64: the same sequence on every platform and build.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True `p` times in a hundred.
    pub fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// A random (v4) UUID as text.
    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_le_bytes());
        b[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }

    /// 64 hex digits, the secret part of a token.
    pub fn hex64(&mut self) -> String {
        (0..4).map(|_| format!("{:016x}", self.next())).collect()
    }
}

/// The seed of this run: `MESSAGEDB_FUZZ_SEED` (decimal or `0x` hex), else a fixed one.
pub fn seed() -> u64 {
    match std::env::var("MESSAGEDB_FUZZ_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| {
                panic!("MESSAGEDB_FUZZ_SEED={s:?} is not a u64 (decimal or 0x-hex)")
            })
        }
        Err(_) => DEFAULT_SEED,
    }
}
