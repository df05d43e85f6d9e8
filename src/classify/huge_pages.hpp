// classify/huge_pages.hpp — zeroed tables on transparent huge pages (private to the classify module).
//
// Purpose: the weight table (4 MiB at 20 hash bits) and the training slots (16 MiB) are read at
// random, one cache line per feature. With 4 KiB pages that is also a TLB miss for most features
// (1,024 and 4,096 pages, against a second-level TLB of a few thousand entries shared with
// everything else); with 2 MiB pages the whole table needs 2 or 8 entries. Measured on split A:
// batch training 12 % faster, scoring see BENCHMARKS.md.
//
// Guarantees: the memory is zeroed and aligned to 2 MiB; the kernel backs it with huge pages when
// transparent huge pages are in `madvise` or `always` mode (Debian's default is madvise), and with
// ordinary pages otherwise — only slower. Failure to allocate throws std::bad_alloc.
// Thread-safety: none needed (plain memory).
#pragma once

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace pw::classify::detail {

struct free_deleter {
  void operator()(void* p) const { std::free(p); }
};

template <class T>
using huge_page_array = std::unique_ptr<T[], free_deleter>;

// `count` zero-initialised elements of a trivially copyable T (all-zero bytes must be a valid T).
template <class T>
huge_page_array<T> allocate_on_huge_pages(std::size_t count) {
  static_assert(std::is_trivially_copyable_v<T>);
  constexpr std::size_t huge_page = std::size_t{2} << 20;
  const std::size_t bytes = (count * sizeof(T) + huge_page - 1) / huge_page * huge_page;
  void* p = std::aligned_alloc(huge_page, bytes);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without it the table works on small pages
  std::memset(p, 0, bytes);
  return huge_page_array<T>(static_cast<T*>(p));
}

}  // namespace pw::classify::detail
