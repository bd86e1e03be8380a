//! A counting global allocator with thread-local counters.
//!
//! Install it in a test binary with
//! `#[global_allocator] static A: test_support::CountingAllocator = test_support::CountingAllocator;`
//! and measure with [`allocations_during`]. Counts are per thread, so tests running in
//! parallel do not disturb each other.

// A `GlobalAlloc` impl is unsafe by definition; this is the only unsafe code in the workspace
// and it forwards to the system allocator unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Forwards to [`System`] and counts every allocation and reallocation on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

fn bump() {
    // `try_with` because the allocator may run while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made so far on this thread (only meaningful with [`CountingAllocator`]
/// installed as the global allocator).
pub fn thread_allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Runs `f` and returns its result with the number of heap allocations it made on this thread.
pub fn allocations_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = thread_allocations();
    let result = f();
    (result, thread_allocations() - before)
}
