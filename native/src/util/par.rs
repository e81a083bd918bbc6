//! Data-parallel helpers over std::thread::scope. Work is split into chunks whose boundaries depend on
//! the problem size only (never on the thread count), so any per-chunk seeding stays reproducible.

/// Number of worker threads to use: `requested` if > 0, else all available cores.
pub fn thread_count(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }
}

/// Runs `f(chunk_index, start, end)` for every chunk of `[0, n)` of size `chunk`, spread over `threads`
/// threads that pull chunks from a shared counter. Panics in workers propagate to the caller (the FFI
/// layer converts them to an error status).
pub fn for_each_chunk<F>(n: usize, chunk: usize, threads: usize, f: F)
where
    F: Fn(usize, usize, usize) + Sync,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let chunk = chunk.max(1);
    let n_chunks = n.div_ceil(chunk);
    let threads = thread_count(threads).min(n_chunks.max(1));
    if threads <= 1 {
        for c in 0..n_chunks {
            f(c, c * chunk, ((c + 1) * chunk).min(n));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let c = next.fetch_add(1, Ordering::Relaxed);
                if c >= n_chunks {
                    break;
                }
                f(c, c * chunk, ((c + 1) * chunk).min(n));
            });
        }
    });
}

/// A raw pointer that may be shared across the scoped worker threads, for writing disjoint ranges of
/// one output slice (each chunk writes only its own rows, so there is no aliasing).
#[derive(Clone, Copy)]
pub struct SharedMut<T>(pub *mut T);
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// # Safety
    /// The caller guarantees that `[start, start + len)` is in bounds of the original slice and that
    /// no other thread touches that range at the same time.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice(&self, start: usize, len: usize) -> &mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(start), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn every_index_visited_once_any_thread_count() {
        for threads in [1, 2, 3, 8] {
            let sum = AtomicU64::new(0);
            let count = AtomicU64::new(0);
            for_each_chunk(1003, 17, threads, |_, a, b| {
                for i in a..b {
                    sum.fetch_add(i as u64, Ordering::Relaxed);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
            assert_eq!(count.load(Ordering::Relaxed), 1003);
            assert_eq!(sum.load(Ordering::Relaxed), 1003 * 1002 / 2);
        }
    }
}
