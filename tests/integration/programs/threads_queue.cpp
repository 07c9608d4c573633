// Eight worker threads share a mutex/condition-variable work queue, and each
// accumulates its results in thread_local state.
//
// usage: threads_queue [STEPS=40] [PAUSE_MS=100]
//
// Each step the main thread queues a batch of tasks, waits on a condition
// variable until the workers finished all of them, and prints the batch's
// result, which does not depend on which worker ran which task. Workers keep
// a thread_local tally and mirror it into a shared slot; at the end each one
// checks that its thread_local copy (reached through the thread's TLS
// pointer, i.e. its restored fs base) still matches the mirror. Output is
// deterministic; per-thread task counts are not, so they are not printed.
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr int kWorkers = 8;
constexpr int kTasksPerStep = 400;

uint64_t work(uint64_t task) {
  uint64_t x = task * 0x9e3779b97f4a7c15ULL + 1;
  for (int i = 0; i < 20000; i++) x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ULL + static_cast<uint64_t>(i);
  return x;
}

struct Tally {
  uint64_t sum = 0;
  uint64_t tasks = 0;
};

thread_local Tally tls_tally;

std::mutex mu;
std::condition_variable work_ready;
std::condition_variable batch_done;
std::deque<uint64_t> queue;
int pending = 0;  // tasks of the current batch not finished yet
bool closing = false;
uint64_t batch_sum = 0;
Tally mirrors[kWorkers];
bool tls_matches[kWorkers];

void worker(int id) {
  std::unique_lock lock(mu);
  for (;;) {
    work_ready.wait(lock, [] { return closing || !queue.empty(); });
    if (queue.empty()) break;
    uint64_t task = queue.front();
    queue.pop_front();
    lock.unlock();
    uint64_t r = work(task);
    tls_tally.sum += r;
    tls_tally.tasks++;
    lock.lock();
    batch_sum += r;
    mirrors[id] = tls_tally;
    if (--pending == 0) batch_done.notify_one();
  }
  tls_matches[id] = tls_tally.sum == mirrors[id].sum && tls_tally.tasks == mirrors[id].tasks;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 40;
  const auto pause = std::chrono::milliseconds(argc > 2 ? std::atoi(argv[2]) : 100);

  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; i++) threads.emplace_back(worker, i);

  uint64_t total = 0;
  for (int step = 1; step <= steps; step++) {
    uint64_t sum;
    {
      std::unique_lock lock(mu);
      batch_sum = 0;
      pending = kTasksPerStep;
      for (int t = 0; t < kTasksPerStep; t++) queue.push_back(static_cast<uint64_t>(step) * kTasksPerStep + t);
      work_ready.notify_all();
      batch_done.wait(lock, [] { return pending == 0; });
      sum = batch_sum;
    }
    total += sum;
    std::printf("step %d batch %016" PRIx64 "\n", step, sum);
    std::fflush(stdout);
    std::this_thread::sleep_for(pause);
  }

  {
    std::lock_guard lock(mu);
    closing = true;
  }
  work_ready.notify_all();
  for (auto& t : threads) t.join();

  uint64_t tls_total = 0, tasks = 0;
  for (int i = 0; i < kWorkers; i++) {
    std::printf("worker %d thread_local tally %s\n", i, tls_matches[i] ? "intact" : "CORRUPT");
    tls_total += mirrors[i].sum;
    tasks += mirrors[i].tasks;
  }
  std::printf("done: %" PRIu64 " tasks, total %016" PRIx64 ", thread_local total %s\n", tasks, total,
              tls_total == total ? "matches" : "DIFFERS");
  return 0;
}
