//! Giving memory back after a burst. glibc's allocator keeps what a burst freed (2,000 streams
//! leave ~180 MB resident) for the next one; the kernel can have it back with `malloc_trim`,
//! which returns the free pages of every arena. Trimming while requests allocate would make
//! them wait on the arena locks, so it runs only once a burst is over: the requests in flight
//! have fallen to an eighth of the interval's peak (at least [`BURST`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Requests in flight over every connection.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// The most in flight since the trimmer last looked.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// A peak this high counts as a burst.
pub const BURST: usize = 64;
/// How often the trimmer looks.
pub const EVERY: Duration = Duration::from_secs(5);

/// A request started (paired with [`ended`]).
pub fn started() {
    let now = IN_FLIGHT.fetch_add(1, Ordering::Relaxed) + 1;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

/// A request ended.
pub fn ended() {
    IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
}

/// Whether a burst with `peak` requests in flight is over with `now` left.
fn burst_over(peak: usize, now: usize) -> bool {
    peak >= BURST && now <= peak / 8
}

/// Starts the trimmer on the current runtime.
pub fn spawn() {
    tokio::spawn(async {
        loop {
            tokio::time::sleep(EVERY).await;
            let now = IN_FLIGHT.load(Ordering::Relaxed);
            let peak = PEAK.swap(now, Ordering::Relaxed);
            if burst_over(peak, now) {
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }
    });
}

/// Returns free memory to the kernel (glibc only; elsewhere the allocator does its own).
// The host's one FFI call: glibc has no safe binding for it, and it takes no pointer.
#[allow(unsafe_code)]
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks the allocator's own free lists; 0 keeps no padding.
        let released = unsafe { libc::malloc_trim(0) };
        tracing::debug!(
            released = released == 1,
            "returned free memory after a burst"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_over_when_an_eighth_is_left() {
        assert!(burst_over(2000, 0));
        assert!(burst_over(2000, 250));
        assert!(!burst_over(2000, 251));
        assert!(!burst_over(BURST - 1, 0), "small peaks are no burst");
        assert!(!burst_over(0, 0));
    }

    /// Resident memory of this process, bytes.
    #[allow(unsafe_code)]
    fn rss() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
        let pages: usize = statm
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .expect("rss");
        // SAFETY: sysconf reads a constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        pages * usize::try_from(page).unwrap_or(4096)
    }

    /// What a burst freed between allocations that outlive it (so `free` cannot shrink the heap
    /// past them) stays resident until the trim, which gives it back.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_trim_gives_back_what_a_burst_freed() {
        std::thread::spawn(|| {
            // Resident memory is the whole process's: tests running beside this one allocate
            // too, so a measurement may be spoilt. One clean attempt of three proves it.
            let mut seen = Vec::new();
            for _ in 0..3 {
                let mut burst = Vec::new();
                let mut kept = Vec::new();
                for i in 0..4096 {
                    burst.push(vec![i as u8; 16 << 10]);
                    kept.push(vec![i as u8; 64]);
                }
                drop(burst);
                let before = rss();
                trim();
                let after = rss();
                assert!(kept.iter().enumerate().all(|(i, v)| v[63] == i as u8));
                if before.saturating_sub(after) >= 32 << 20 {
                    return;
                }
                seen.push((before, after));
            }
            panic!("resident bytes before and after each trim: {seen:?}");
        })
        .join()
        .expect("thread");
    }
}
