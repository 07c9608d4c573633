// The shared pid table: one file, many processes, no locks.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "pid_table.h"

namespace {

using ckpt::PidEntry;
using ckpt::PidTable;

class PidTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt-pidtable-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/table";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  // Runs body(i) in `n` forked processes at once, waits for all of them and
  // expects each to exit 0.
  template <typename Body>
  void in_children(int n, Body body) {
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 0) _exit(3);  // start together when the pipe closes
        _exit(body(i) ? 0 : 1);
      }
      kids.push_back(pid);
    }
    close(go[0]);
    close(go[1]);
    for (pid_t k : kids) {
      int status = 0;
      ASSERT_EQ(waitpid(k, &status, 0), k);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    }
  }

  std::multiset<pid_t> vpids(const PidTable& t) {
    std::multiset<pid_t> out;
    t.for_each([&](const PidEntry& e) {
      out.insert(e.vpid);
      return true;
    });
    return out;
  }

  std::string dir_, path_;
};

TEST_F(PidTableTest, InsertedEntriesAreFoundByVirtualAndRealPid) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  EXPECT_TRUE(t.insert(100, 5100, 1, 0));
  EXPECT_TRUE(t.insert(101, 5101, 100, ckpt::kPidZombie));
  PidEntry e{};
  ASSERT_TRUE(t.find_virtual(101, &e));
  EXPECT_EQ(e.vpid, 101);
  EXPECT_EQ(e.real, 5101);
  EXPECT_EQ(e.vppid, 100);
  EXPECT_EQ(e.flags, ckpt::kPidZombie);
  ASSERT_TRUE(t.find_real(5100, &e));
  EXPECT_EQ(e.vpid, 100);
  EXPECT_FALSE(t.find_virtual(5100, nullptr));
  EXPECT_FALSE(t.find_real(100, nullptr));
  EXPECT_EQ(t.count(), 2u);
  t.close();
}

TEST_F(PidTableTest, SecondInsertOfSameVirtualPidIsRefused) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  EXPECT_TRUE(t.insert(7, 70, 1, 0));
  EXPECT_FALSE(t.insert(7, 71, 1, 0));
  PidEntry e{};
  ASSERT_TRUE(t.find_virtual(7, &e));
  EXPECT_EQ(e.real, 70);
  EXPECT_FALSE(t.insert(0, 1, 1, 0));
  t.close();
}

TEST_F(PidTableTest, RemovedEntryIsGoneAndItsSlotIsReused) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  for (int round = 0; round < 10000; ++round) {
    ASSERT_TRUE(t.insert(1000 + round, 2000 + round, 1, 0));
    ASSERT_TRUE(t.remove(1000 + round));
    ASSERT_FALSE(t.find_virtual(1000 + round, nullptr));
  }
  EXPECT_FALSE(t.remove(1000));
  EXPECT_EQ(t.count(), 0u);
  // More rounds than slots: only reuse makes room for this.
  EXPECT_TRUE(t.insert(5, 6, 1, 0));
  t.close();
}

TEST_F(PidTableTest, SetRealAndSetFlagsChangeOnlyThatEntry) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  ASSERT_TRUE(t.insert(10, 10, 1, 0));
  ASSERT_TRUE(t.insert(11, 11, 10, 0));
  EXPECT_TRUE(t.set_real(11, 911));
  EXPECT_TRUE(t.set_flags(11, ckpt::kPidZombie));
  EXPECT_FALSE(t.set_real(12, 1));
  PidEntry e{};
  ASSERT_TRUE(t.find_real(911, &e));
  EXPECT_EQ(e.vpid, 11);
  EXPECT_EQ(e.vppid, 10);
  EXPECT_EQ(e.flags, ckpt::kPidZombie);
  ASSERT_TRUE(t.find_virtual(10, &e));
  EXPECT_EQ(e.real, 10);
  t.close();
}

TEST_F(PidTableTest, UpdateReplacesTheWholeEntry) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  ASSERT_TRUE(t.insert(20, 20, 1, ckpt::kPidZombie));
  EXPECT_TRUE(t.update({20, 920, 5, 0}));
  EXPECT_FALSE(t.update({21, 921, 5, 0}));
  PidEntry e{};
  ASSERT_TRUE(t.find_virtual(20, &e));
  EXPECT_EQ(e.real, 920);
  EXPECT_EQ(e.vppid, 5);
  EXPECT_EQ(e.flags, 0u);
  t.close();
}

TEST_F(PidTableTest, GroupOnlyEntriesNameGroupsNotProcesses) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  // Group 300's leader is gone; process 301 (now kernel pid 801) leads it.
  ASSERT_TRUE(t.insert(301, 801, 1, 0));
  ASSERT_TRUE(t.insert(300, 801, 0, ckpt::kPidGroupOnly));
  PidEntry e{};
  ASSERT_TRUE(t.find_real(801, &e));
  EXPECT_EQ(e.vpid, 301);
  ASSERT_TRUE(t.find_real_group(801, &e));
  EXPECT_EQ(e.vpid, 300);
  ASSERT_TRUE(t.insert(302, 802, 301, 0));
  ASSERT_TRUE(t.find_real_group(802, &e));
  EXPECT_EQ(e.vpid, 302);
  t.close();
}

TEST_F(PidTableTest, FullTableRefusesInsert) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  for (uint32_t i = 1; i <= ckpt::kPidTableCapacity; ++i) ASSERT_TRUE(t.insert(i, i, 1, 0)) << i;
  EXPECT_FALSE(t.insert(ckpt::kPidTableCapacity + 1, 1, 1, 0));
  ASSERT_TRUE(t.remove(17));
  EXPECT_TRUE(t.insert(ckpt::kPidTableCapacity + 1, 1, 1, 0));
  t.close();
}

TEST_F(PidTableTest, ReopenedFileHoldsTheEntries) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  ASSERT_TRUE(t.insert(42, 4242, 1, 0));
  t.close();
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  PidTable again;
  ASSERT_EQ(PidTable::open(path_.c_str(), again), 0);
  PidEntry e{};
  ASSERT_TRUE(again.find_virtual(42, &e));
  EXPECT_EQ(e.real, 4242);
  again.close();
}

TEST_F(PidTableTest, OpenMapsAtTheRequestedAddress) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  ASSERT_TRUE(t.insert(3, 33, 1, 0));
  void* where = mmap(nullptr, PidTable::file_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(where, MAP_FAILED);
  PidTable at;
  ASSERT_EQ(PidTable::open(path_.c_str(), at, where), 0);
  EXPECT_EQ(at.address(), where);
  EXPECT_TRUE(at.find_virtual(3, nullptr));
  // Both mappings are the same shared memory.
  ASSERT_TRUE(at.insert(4, 44, 1, 0));
  EXPECT_TRUE(t.find_virtual(4, nullptr));
  PidTable attached;
  ASSERT_TRUE(PidTable::attach(where, attached));
  EXPECT_EQ(attached.count(), 2u);
  at.close();
  t.close();
}

TEST_F(PidTableTest, OpenRefusesMissingExistingAndForeignFiles) {
  PidTable t;
  EXPECT_EQ(PidTable::open(path_.c_str(), t), -ENOENT);
  int fd = open(path_.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, PidTable::file_size()), 0);  // the right size, but zeros
  close(fd);
  EXPECT_EQ(PidTable::open(path_.c_str(), t), -EINVAL);
  EXPECT_EQ(PidTable::create(path_.c_str(), t), -EEXIST);
  EXPECT_FALSE(t.is_open());
  char zeros[64] = {};
  EXPECT_FALSE(PidTable::attach(zeros, t));
}

TEST_F(PidTableTest, ConcurrentInsertsFromForkedProcessesAllLand) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  constexpr int kProcs = 8, kEach = 600;
  in_children(kProcs, [&](int i) {
    PidTable mine;  // an exec'ed process would reopen the file instead
    if (PidTable::open(path_.c_str(), mine) != 0) return false;
    for (int k = 0; k < kEach; ++k) {
      pid_t v = 1 + i * kEach + k;
      if (!mine.insert(v, v + 100000, 1, 0)) return false;
      // Every other one leaves again, as reaped children do.
      if (k % 2 && !mine.remove(v)) return false;
    }
    return true;
  });
  std::multiset<pid_t> seen = vpids(t);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kProcs * kEach / 2));
  for (int i = 0; i < kProcs; ++i)
    for (int k = 0; k < kEach; ++k) {
      pid_t v = 1 + i * kEach + k;
      EXPECT_EQ(seen.count(v), k % 2 ? 0u : 1u) << v;
      PidEntry e{};
      if (k % 2 == 0) {
        ASSERT_TRUE(t.find_virtual(v, &e));
        EXPECT_EQ(e.real, v + 100000);
      }
    }
  t.close();
}

TEST_F(PidTableTest, RacingInsertsOfTheSameVirtualPidLeaveOneEntry) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  constexpr int kProcs = 6, kPids = 1500;
  // Like a parent and its child both recording the child: same vpid, same data.
  in_children(kProcs, [&](int) {
    for (pid_t v = 1; v <= kPids; ++v) t.insert(v, v * 3, 1, 0);
    return true;
  });
  std::multiset<pid_t> seen = vpids(t);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kPids));
  for (pid_t v = 1; v <= kPids; ++v) EXPECT_EQ(seen.count(v), 1u) << v;
  t.close();
}

TEST_F(PidTableTest, ReadersNeverSeeHalfWrittenEntries) {
  PidTable t;
  ASSERT_EQ(PidTable::create(path_.c_str(), t), 0);
  constexpr int kWriters = 3;
  // Writers churn entries whose fields agree (real = 7 * vpid, vppid =
  // vpid + 1); the reader checks every entry it copies.
  in_children(kWriters + 1, [&](int i) {
    if (i == kWriters) {
      for (int round = 0; round < 20000; ++round) {
        bool ok = true;
        t.for_each([&](const PidEntry& e) {
          ok = e.real == 7 * e.vpid && e.vppid == e.vpid + 1 && e.flags == static_cast<uint32_t>(e.vpid % 3);
          return ok;
        });
        if (!ok) return false;
      }
      return true;
    }
    for (int round = 0; round < 1000; ++round) {
      for (pid_t k = 0; k < 50; ++k) {
        pid_t v = 1 + i * 1000 + k;
        if (!t.insert(v, 7 * v, v + 1, v % 3)) return false;
      }
      for (pid_t k = 0; k < 50; ++k)
        if (!t.remove(1 + i * 1000 + k)) return false;
    }
    return true;
  });
  t.close();
}

}  // namespace
