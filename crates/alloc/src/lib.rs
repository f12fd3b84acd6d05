//! The `flowc` binary's global allocator (and its benchmarks'): mimalloc,
//! called the way the system allocator is.
//!
//! The `mimalloc` crate's `MiMalloc` passes every request to
//! `mi_malloc_aligned`, whatever its alignment. In mimalloc 3, that call
//! takes the fast path only while the size class's page has a free block
//! at hand; otherwise a size that is not a power of two is *over-allocated*
//! (size + alignment − 1, from a larger size class), which is slow and
//! keeps the exhausted page from being refilled. On the largest benchmark
//! workflow, 164,000 of the route analysis's 1.7 million allocations went
//! that way (benches/README.md, eighth session). Every mimalloc block is
//! aligned to at least 8 bytes, so a request for 8 or less is an ordinary
//! `mi_malloc`; only larger alignments (`i128` fields) use the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};

/// The alignment every mimalloc block has (its smallest size class is one word).
const PLAIN_ALIGNMENT: usize = 8;

/// mimalloc as the global allocator: `#[global_allocator] static A: Mimalloc = Mimalloc;`.
pub struct Mimalloc;

// SAFETY: each method hands the request to the mimalloc function for it,
// which returns a block of at least `layout.size()` bytes aligned to
// `layout.align()` (plain calls only when 8 bytes of alignment are enough,
// which every mimalloc block has), or null; `mi_free` and `mi_realloc`
// accept any block mimalloc returned, aligned or not.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGNMENT {
            mi_malloc(layout.size()).cast()
        } else {
            mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGNMENT {
            mi_zalloc(layout.size()).cast()
        } else {
            mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi_free(ptr.cast::<c_void>())
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGNMENT {
            mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every alignment the program asks for come back aligned,
    /// zeroed when asked, and keep their bytes when they grow.
    #[test]
    fn blocks_are_aligned_zeroed_and_kept() {
        let allocator = Mimalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64] {
            for size in [1usize, 7, 8, 12, 24, 40, 48, 100, 1000, 5000] {
                let Ok(layout) = Layout::from_size_align(size, align) else { continue };
                // SAFETY: a non-zero size; each block is used within its size and freed once with its layout.
                unsafe {
                    let zeroed = allocator.alloc_zeroed(layout);
                    assert!(!zeroed.is_null());
                    assert_eq!(zeroed as usize % align, 0, "size {size} align {align}");
                    assert!(std::slice::from_raw_parts(zeroed, size).iter().all(|byte| *byte == 0));
                    allocator.dealloc(zeroed, layout);
                    let block = allocator.alloc(layout);
                    assert_eq!(block as usize % align, 0, "size {size} align {align}");
                    for index in 0..size {
                        *block.add(index) = (index % 251) as u8;
                    }
                    let grown = allocator.realloc(block, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown: size {size} align {align}");
                    for index in 0..size {
                        assert_eq!(*grown.add(index), (index % 251) as u8);
                    }
                    allocator.dealloc(grown, Layout::from_size_align_unchecked(size * 3, align));
                }
            }
        }
    }
}
