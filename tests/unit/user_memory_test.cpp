// ckpt_readable_user_memory, ckpt_user_string_length and
// ckpt_readable_user_strings: wrappers use them to leave pointers the kernel
// would refuse to the real call. Each answer here is checked against memory
// laid out on purpose: a readable page followed by one that is unmapped or
// PROT_NONE.
#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt/raw_syscall.h"

namespace {

// Two pages: the first readable and writable, the second made `second`.
class TwoPages {
 public:
  enum Second { kUnmapped, kProtNone, kReadable };
  explicit TwoPages(Second second) {
    base_ = static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base_, MAP_FAILED);
    memset(base_, 'x', 2 * kPage);
    if (second == kUnmapped) {
      EXPECT_EQ(munmap(base_ + kPage, kPage), 0);
    } else if (second == kProtNone) {
      EXPECT_EQ(mprotect(base_ + kPage, kPage, PROT_NONE), 0);
    }
    unmapped_second_ = second == kUnmapped;
  }
  ~TwoPages() { munmap(base_, unmapped_second_ ? kPage : 2 * kPage); }
  char* first() const { return base_; }
  char* second() const { return base_ + kPage; }
  // A string of `n` bytes ending right at the end of the first page: its NUL is the page's last byte.
  char* string_ending_at_boundary(size_t n) const {
    char* s = second() - n - 1;
    s[n] = '\0';
    return s;
  }

  static constexpr size_t kPage = 4096;

 private:
  char* base_;
  bool unmapped_second_;
};

TEST(UserMemory, RefusesNullPageAndKernelAddresses) {
  EXPECT_FALSE(ckpt_readable_user_memory(nullptr, 1));
  EXPECT_FALSE(ckpt_readable_user_memory(reinterpret_cast<void*>(16), 1));
  EXPECT_FALSE(ckpt_readable_user_memory(reinterpret_cast<void*>(0xffffffffff000000UL), 1));
  EXPECT_EQ(ckpt_user_string_length(nullptr, 4096), -1);
  EXPECT_EQ(ckpt_user_string_length(reinterpret_cast<const char*>(0xffffffffff000000UL), 4096), -1);
}

TEST(UserMemory, RefusesUnmappedAndProtNonePages) {
  for (auto kind : {TwoPages::kUnmapped, TwoPages::kProtNone}) {
    TwoPages pages(kind);
    EXPECT_TRUE(ckpt_readable_user_memory(pages.first(), TwoPages::kPage));
    EXPECT_FALSE(ckpt_readable_user_memory(pages.second(), 1));
    EXPECT_FALSE(ckpt_readable_user_memory(pages.second() - 8, 16)) << "a range running into the bad page";
    EXPECT_EQ(ckpt_user_string_length(pages.second(), 4096), -1);
  }
}

TEST(UserMemory, AcceptsStackHeapAndProgramMemory) {
  char on_stack[64] = "/proc/self/status";
  static const char kLiteral[] = "/dev/null";
  std::string on_heap(5000, 'y');
  EXPECT_TRUE(ckpt_readable_user_memory(on_stack, sizeof on_stack));
  EXPECT_TRUE(ckpt_readable_user_memory(on_heap.data(), on_heap.size()));
  EXPECT_EQ(ckpt_user_string_length(on_stack, 4096), 17);
  EXPECT_EQ(ckpt_user_string_length(kLiteral, 4096), 9);
  EXPECT_EQ(ckpt_user_string_length(on_heap.c_str(), 8192), 5000);
  EXPECT_TRUE(ckpt_readable_user_memory(kLiteral, 0));
}

TEST(UserMemory, StringEndingBeforeABadPageIsReadable) {
  TwoPages pages(TwoPages::kProtNone);
  EXPECT_EQ(ckpt_user_string_length(pages.string_ending_at_boundary(100), 4096), 100);
  // Without its NUL the string runs into the PROT_NONE page.
  pages.first()[TwoPages::kPage - 1] = 'x';
  EXPECT_EQ(ckpt_user_string_length(pages.second() - 100, 4096), -1);
}

TEST(UserMemory, StringLengthStopsAtMax) {
  TwoPages pages(TwoPages::kReadable);
  EXPECT_EQ(ckpt_user_string_length(pages.first(), 5000), 5000);
  pages.second()[100] = '\0';
  EXPECT_EQ(ckpt_user_string_length(pages.first(), 8192), static_cast<long>(TwoPages::kPage + 100));
}

TEST(UserMemory, StringVectors) {
  TwoPages pages(TwoPages::kUnmapped);
  char a[] = "a", b[] = "bb";
  char* good[] = {a, b, nullptr};
  EXPECT_TRUE(ckpt_readable_user_strings(good, 4096));
  EXPECT_TRUE(ckpt_readable_user_strings(nullptr, 4096)) << "NULL is an empty vector to execve";
  char* bad_string[] = {a, pages.second(), nullptr};
  EXPECT_FALSE(ckpt_readable_user_strings(bad_string, 4096));
  char* kernel_string[] = {a, reinterpret_cast<char*>(0xffffffffff000000UL), nullptr};
  EXPECT_FALSE(ckpt_readable_user_strings(kernel_string, 4096));
  // The vector itself ends in the unmapped page, without its NULL.
  auto** tail = reinterpret_cast<char**>(pages.second()) - 2;
  tail[0] = a;
  tail[1] = b;
  EXPECT_FALSE(ckpt_readable_user_strings(tail, 4096));
  EXPECT_FALSE(ckpt_readable_user_strings(reinterpret_cast<char**>(pages.second()), 4096));
  // A string longer than the bound is refused: the kernel answers E2BIG.
  TwoPages long_string(TwoPages::kReadable);
  long_string.second()[TwoPages::kPage - 1] = '\0';
  char* too_long[] = {long_string.first(), nullptr};
  EXPECT_FALSE(ckpt_readable_user_strings(too_long, 4096));
  EXPECT_TRUE(ckpt_readable_user_strings(too_long, 8192));
}

}  // namespace
