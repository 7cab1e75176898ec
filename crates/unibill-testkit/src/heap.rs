//! Heap accounting for memory tests and benchmarks: a global allocator
//! that forwards every call to the system allocator and counts the bytes
//! live and their high-water mark, for the threads chosen to be counted
//! (the client's, not a sandbox's or a scripted server's).
//!
//! A test binary installs it once:
//!
//! ```
//! #[global_allocator]
//! static ALLOCATOR: unibill_testkit::heap::CountingAllocator =
//!     unibill_testkit::heap::CountingAllocator;
//!
//! unibill_testkit::heap::count_this_thread(true);
//! let start = unibill_testkit::heap::reset_peak();
//! let kept = vec![0u8; 1 << 20];
//! assert!(unibill_testkit::heap::peak() - start >= 1 << 20);
//! # drop(kept);
//! ```
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static BY_DEFAULT: AtomicBool = AtomicBool::new(true);

thread_local! {
    /// This thread's own choice; `None` follows [`count_threads_by_default`].
    static THIS_THREAD: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Whether threads that made no choice of their own are counted (at
/// first, yes).
pub fn count_threads_by_default(counted: bool) {
    BY_DEFAULT.store(counted, Ordering::Relaxed);
}

/// Whether the calling thread's allocations are counted.
pub fn count_this_thread(counted: bool) {
    THIS_THREAD.with(|c| c.set(Some(counted)));
}

fn counted() -> bool {
    THIS_THREAD
        .try_with(Cell::get)
        .ok()
        .flatten()
        .unwrap_or_else(|| BY_DEFAULT.load(Ordering::Relaxed))
}

/// Bytes live now, counted since the start (may be negative when counted
/// threads free what uncounted ones allocated).
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// The high-water mark of [`live`] since the last [`reset_peak`].
pub fn peak() -> isize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a measurement: the high-water mark is set to the bytes live now,
/// which are returned.
pub fn reset_peak() -> isize {
    let now = live();
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn grew(n: usize) {
    if counted() {
        let n = n as isize;
        let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn shrank(n: usize) {
    if counted() {
        LIVE.fetch_sub(n as isize, Ordering::Relaxed);
    }
}

/// The counting allocator; install it with `#[global_allocator]`.
#[derive(Debug)]
pub struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only bookkeeping (and allocate nothing).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}
