//! Bit sets and square-ish bit matrices over equivalence classes, and the little parallelism the
//! matrix needs (rows split over the cores with scoped threads). No NetworkPolicy semantics here.

use std::sync::Mutex;

/// Words needed for `bits` bits.
pub fn words_for(bits: usize) -> usize {
    bits.div_ceil(64)
}

pub fn get(row: &[u64], i: usize) -> bool {
    row[i / 64] & (1 << (i % 64)) != 0
}

pub fn set(row: &mut [u64], i: usize) {
    row[i / 64] |= 1 << (i % 64);
}

/// Sets the first `bits` bits of `row` and clears the rest (the tail of the last word stays
/// clear, so popcounts never see bits past the end).
pub fn fill(row: &mut [u64], bits: usize) {
    for (w, word) in row.iter_mut().enumerate() {
        let start = w * 64;
        *word = if start + 64 <= bits {
            u64::MAX
        } else if start >= bits {
            0
        } else {
            (1u64 << (bits - start)) - 1
        };
    }
}

pub fn or_into(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d |= s;
    }
}

/// Set bits of `row` in the half-open range `lo..hi`.
pub fn count_range(row: &[u64], lo: usize, hi: usize) -> u64 {
    if lo >= hi {
        return 0;
    }
    let (first, last) = (lo / 64, (hi - 1) / 64);
    let low_mask = u64::MAX << (lo % 64);
    let high_mask = u64::MAX >> (63 - (hi - 1) % 64);
    if first == last {
        return (row[first] & low_mask & high_mask).count_ones() as u64;
    }
    let middle: u64 = row[first + 1..last]
        .iter()
        .map(|w| w.count_ones() as u64)
        .sum();
    (row[first] & low_mask).count_ones() as u64
        + middle
        + (row[last] & high_mask).count_ones() as u64
}

/// `rows` bit rows of `cols` bits each, row-major, each row padded to whole words.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BitMatrix {
    rows: usize,
    cols: usize,
    words: usize,
    data: Vec<u64>,
}

impl BitMatrix {
    pub fn zeros(rows: usize, cols: usize) -> BitMatrix {
        let words = words_for(cols);
        BitMatrix {
            rows,
            cols,
            words,
            data: vec![0; rows * words],
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn row_words(&self) -> usize {
        self.words
    }

    pub fn row(&self, i: usize) -> &[u64] {
        &self.data[i * self.words..(i + 1) * self.words]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [u64] {
        &mut self.data[i * self.words..(i + 1) * self.words]
    }

    pub fn get(&self, i: usize, j: usize) -> bool {
        get(self.row(i), j)
    }

    pub fn set(&mut self, i: usize, j: usize) {
        let words = self.words;
        set(&mut self.data[i * words..(i + 1) * words], j);
    }

    /// Fills every row in parallel: `f(row index, row)`.
    pub fn fill_rows(&mut self, f: impl Fn(usize, &mut [u64]) + Sync) {
        let words = self.words;
        if words == 0 {
            return;
        }
        // Blocks of 64 rows: enough work per hand-out, few hand-outs.
        par_chunks(&mut self.data, 64 * words, |block, chunk| {
            for (k, row) in chunk.chunks_mut(words).enumerate() {
                f(block * 64 + k, row);
            }
        });
    }

    /// The transpose of a `rows × cols` matrix given row by row.
    pub fn transpose_of<'a>(
        rows: usize,
        cols: usize,
        row: impl Fn(usize) -> &'a [u64] + Sync,
    ) -> BitMatrix {
        let mut out = BitMatrix::zeros(cols, rows);
        let out_words = out.words;
        if out_words == 0 {
            return out;
        }
        // Output block `b` holds output rows 64b..64b+64, i.e. source word column `b`.
        par_chunks(&mut out.data, 64 * out_words, |b, chunk| {
            let mut block = [0u64; 64];
            for w in 0..out_words {
                for (k, slot) in block.iter_mut().enumerate() {
                    let r = w * 64 + k;
                    *slot = if r < rows { row(r)[b] } else { 0 };
                }
                transpose64(&mut block);
                for (j, out_row) in chunk.chunks_mut(out_words).enumerate() {
                    out_row[w] = block[j];
                }
            }
        });
        out
    }

    /// `self[i][j] &= other(j)[i]`: ANDs in the transpose of a matrix given row by row
    /// (`self.cols()` rows of `self.rows()` bits) without building that transpose.
    pub fn and_transpose_of<'a>(&mut self, other: impl Fn(usize) -> &'a [u64] + Sync) {
        let (words, other_rows) = (self.words, self.cols);
        if words == 0 {
            return;
        }
        // Block `b` holds rows 64b..64b+64 of self, i.e. word column `b` of the other rows.
        par_chunks(&mut self.data, 64 * words, |b, chunk| {
            let mut block = [0u64; 64];
            for w in 0..words {
                for (k, slot) in block.iter_mut().enumerate() {
                    let r = w * 64 + k;
                    *slot = if r < other_rows { other(r)[b] } else { 0 };
                }
                transpose64(&mut block);
                for (j, row) in chunk.chunks_mut(words).enumerate() {
                    row[w] &= block[j];
                }
            }
        });
    }

    pub fn transpose(&self) -> BitMatrix {
        BitMatrix::transpose_of(self.rows, self.cols, |i| self.row(i))
    }
}

/// Transposes a 64×64 bit block in place (bit `j` of word `k` is element (k, j)).
fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32;
    let mut m: u64 = 0x0000_0000_FFFF_FFFF;
    while j != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k] ^= t << j;
            a[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        m ^= m << j;
    }
}

/// How many threads to use: the cores, and one when the work is too small to share.
fn threads_for(work: usize) -> usize {
    if work < 1 << 12 {
        return 1;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(16)
}

/// Calls `f(chunk index, chunk)` for every `chunk_len` slice of `data`, on all cores; chunks are
/// handed out one at a time so uneven rows still keep every core busy.
pub fn par_chunks<T: Send>(data: &mut [T], chunk_len: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let chunk_len = chunk_len.max(1);
    let threads = threads_for(data.len());
    if threads <= 1 {
        for (i, c) in data.chunks_mut(chunk_len).enumerate() {
            f(i, c);
        }
        return;
    }
    let queue = Mutex::new(data.chunks_mut(chunk_len).enumerate());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                // A poisoned lock means another worker panicked; the scope re-raises that.
                let next = match queue.lock() {
                    Ok(mut q) => q.next(),
                    Err(_) => None,
                };
                match next {
                    Some((i, c)) => f(i, c),
                    None => break,
                }
            });
        }
    });
}

/// Maps `0..n` to values on all cores, keeping the order.
pub fn par_map<R: Send + Default + Clone>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let mut out = vec![R::default(); n];
    let per_chunk = n.div_ceil(64).max(1);
    par_chunks(&mut out, per_chunk, |c, chunk| {
        for (k, slot) in chunk.iter_mut().enumerate() {
            *slot = f(c * per_chunk + k);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rows: usize, cols: usize, seed: u64) -> BitMatrix {
        let mut m = BitMatrix::zeros(rows, cols);
        let mut x = seed | 1;
        for i in 0..rows {
            for j in 0..cols {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x.is_multiple_of(3) {
                    m.set(i, j);
                }
            }
        }
        m
    }

    #[test]
    fn transpose_matches_the_definition() {
        for (rows, cols) in [(1, 1), (3, 70), (64, 64), (130, 5), (200, 333), (300, 300)] {
            let m = sample(rows, cols, (rows * 1000 + cols) as u64);
            let t = m.transpose();
            assert_eq!((t.rows(), t.cols()), (cols, rows));
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(m.get(i, j), t.get(j, i), "{rows}x{cols} at {i},{j}");
                }
            }
            assert_eq!(t.transpose(), m);
            if rows == cols {
                let mut ones = BitMatrix::zeros(rows, rows);
                ones.fill_rows(|_, row| fill(row, rows));
                ones.and_transpose_of(|i| m.row(i));
                assert_eq!(
                    ones, t,
                    "{rows}x{cols}: AND with the transpose of m on ones is it"
                );
            }
        }
    }

    #[test]
    fn ranges_and_fills_count_the_right_bits() {
        let mut row = vec![0u64; 4];
        fill(&mut row, 200);
        assert_eq!(count_range(&row, 0, 256), 200);
        assert_eq!(count_range(&row, 10, 10), 0);
        assert_eq!(count_range(&row, 63, 65), 2);
        assert_eq!(count_range(&row, 130, 199), 69);
        fill(&mut row, 0);
        assert_eq!(count_range(&row, 0, 256), 0);
    }

    #[test]
    fn parallel_rows_cover_every_row_once() {
        let mut m = BitMatrix::zeros(1000, 1000);
        m.fill_rows(|i, row| set(row, i));
        for i in 0..1000 {
            assert_eq!(count_range(m.row(i), 0, 1000), 1);
            assert!(m.get(i, i));
        }
        let squares = par_map(100_000, |i| i * 2);
        assert!(squares.iter().enumerate().all(|(i, v)| *v == i * 2));
    }
}
