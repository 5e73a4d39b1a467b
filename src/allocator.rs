//! The Rust allocator of this library: mimalloc for small blocks, glibc for large ones.
//!
//! The front allocates and frees a few hundred small blocks per request (headers, the parsed
//! request, the plan, the statement, futures) across its I/O threads. glibc served them at a
//! quarter of the front's CPU (`_int_malloc`, `_int_free`: its per-thread cache holds seven
//! blocks a size, and blocks freed on another thread go back through the arena); mimalloc's
//! per-thread pages serve them with no lock (BENCHMARKS.md, "The front's CPU").
//!
//! Large blocks (request bodies, results, a schema cache build's documents) stay with glibc,
//! which maps them on their own and unmaps them when freed, or hands them back on
//! `malloc_trim` (`memory.rs`): mimalloc would keep them in its arenas (a 50 MB body and its
//! result left the front 60 to 100 MB larger for good). The size alone says which allocator
//! owns a block: Rust passes the same layout to `dealloc` as to `alloc`, so no lookup is needed.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks of this size or more go to glibc (mimalloc's "medium" pages end at 128 kB).
const LARGE: usize = 64 << 10;

pub struct Allocator;

fn small(size: usize) -> bool {
    size < LARGE
}

// SAFETY: each block is allocated and freed by the allocator its size picks, and both honour
// the layout's size and alignment; a reallocation that crosses the boundary moves the block.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if small(layout.size()) {
            // SAFETY: mimalloc's aligned allocation; a nonzero size (GlobalAlloc's contract)
            unsafe { libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast() }
        } else {
            // SAFETY: the caller's layout, as GlobalAlloc requires
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if small(layout.size()) {
            // SAFETY: as in alloc, zeroed
            unsafe { libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast() }
        } else {
            // SAFETY: the caller's layout
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if small(layout.size()) {
            // SAFETY: a block of this size came from mimalloc (alloc, or realloc below)
            unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
        } else {
            // SAFETY: a block of this size came from glibc
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (small(layout.size()), small(new_size)) {
            // SAFETY: the block is mimalloc's and stays so
            (true, true) => unsafe { libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast() },
            // SAFETY: the block is glibc's and stays so
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: new_size with the old alignment is a valid layout (GlobalAlloc's
                // contract for realloc); the block moves to the other allocator, copying what
                // both sizes hold, and the old block is freed by its own
                unsafe {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    moved
                }
            }
        }
    }
}

/// Hand back what mimalloc holds free (pages of this thread, and the free memory of every
/// thread's abandoned and purged pages). Plain C, no PostgreSQL: any thread.
pub fn collect() {
    // SAFETY: mimalloc's own collection, callable at any time from any thread
    unsafe { libmimalloc_sys::mi_collect(true) }
}
