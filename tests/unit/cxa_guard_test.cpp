// libckpt's own function-local-static guards (libckpt/src/cxa_guard.cpp),
// compiled into this test: a fork that copies a guard another thread was
// initialising must not leave the child waiting forever.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

extern "C" int __cxa_guard_acquire(uint64_t* g);
extern "C" void __cxa_guard_release(uint64_t* g);

TEST(CxaGuard, FirstCallerInitialisesThenEveryoneSeesItDone) {
  uint64_t guard = 0;
  ASSERT_EQ(__cxa_guard_acquire(&guard), 1);
  __cxa_guard_release(&guard);
  EXPECT_EQ(__cxa_guard_acquire(&guard), 0);
}

TEST(CxaGuard, AnotherThreadWaitsForTheInitialiser) {
  uint64_t guard = 0;
  ASSERT_EQ(__cxa_guard_acquire(&guard), 1);
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = __cxa_guard_acquire(&guard); });
  usleep(50 * 1000);
  EXPECT_EQ(result.load(), -1);  // still waiting: the initialiser is alive in this process
  __cxa_guard_release(&guard);
  waiter.join();
  EXPECT_EQ(result.load(), 0);
}

TEST(CxaGuard, ForkChildTakesOverAnInitialisationLeftInTheParent) {
  static uint64_t guard = 0;
  std::atomic<bool> holding{false}, done{false};
  // Another thread is in the middle of initialising when the process forks.
  std::thread initialiser([&] {
    ASSERT_EQ(__cxa_guard_acquire(&guard), 1);
    holding = true;
    while (!done) usleep(1000);
    __cxa_guard_release(&guard);
  });
  while (!holding) usleep(1000);
  pid_t child = fork();
  if (child == 0) {
    alarm(5);  // a child stuck in the guard dies of SIGALRM
    _exit(__cxa_guard_acquire(&guard) == 1 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  done = true;
  initialiser.join();
  ASSERT_TRUE(WIFEXITED(status)) << "child stuck in the guard (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(__cxa_guard_acquire(&guard), 0);
}
