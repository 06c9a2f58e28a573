//! Test-only: a small deterministic generator of odd JSON values, shared by the lint and
//! policy tests that check no input makes them panic.

use serde_json::{json, Map, Value};

/// A small deterministic generator (xorshift) of odd values built from meaningful names.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    pub fn value(&mut self, words: &[&str], depth: usize) -> Value {
        let word = |rng: &mut Rng| words[rng.below(words.len())].to_owned();
        match self.below(if depth == 0 { 4 } else { 8 }) {
            0 => Value::Null,
            1 => json!(self.below(3) == 0),
            2 => json!(self.below(2000)),
            3 => Value::String(word(self)),
            4 | 5 => {
                let n = self.below(4);
                Value::Array((0..n).map(|_| self.value(words, depth - 1)).collect())
            }
            _ => {
                let n = self.below(5);
                let mut map = Map::new();
                for _ in 0..n {
                    let k = word(self);
                    let v = self.value(words, depth - 1);
                    map.insert(k, v);
                }
                Value::Object(map)
            }
        }
    }
}
