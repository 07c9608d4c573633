// The System V kind's shared id table (plugins/sysv/sysv_table.h) and its
// section "sysv" (sysv_section.h) as ckpt_restart and ckpt_info read it
// (sysv_image.h): virtual ids stay unique per kind, SEM_UNDO adjustments
// add up and are cleared as the kernel clears them, and a crafted section
// is refused with its reason.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "section_schema.h"
#include "sysv_image.h"
#include "sysv_table.h"

namespace ckpt::sysv {
namespace {

class SysvTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/sysv_table_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/t.sysv";
    ASSERT_EQ(SysvTable::create(path_.c_str(), "/nonexistent/pid/table", "host1", table_), 0);
  }
  void TearDown() override {
    table_.close();
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
  SysvTable table_;
};

TEST_F(SysvTableTest, ObjectKeepsItsRealIdAsVirtualUntilTaken) {
  EXPECT_EQ(table_.record(IpcKind::Shm, 5, 0x1234), 5);
  EXPECT_EQ(table_.record(IpcKind::Shm, 5, 0x1234), 5) << "recording twice gives the same id";
  EXPECT_EQ(table_.record(IpcKind::Sem, 5, 0), 5) << "kinds have their own ids";
}

TEST_F(SysvTableTest, NewObjectWhoseRealIdIsAnotherVirtualIdGetsAnotherOne) {
  // After a restart: virtual 7 is the kernel's 100; the kernel then hands out 7.
  ASSERT_TRUE(table_.insert({1, IpcKind::Msg, 7, 100, 0, 0, 0, 0}));
  int32_t virt = table_.record(IpcKind::Msg, 7, 0);
  EXPECT_NE(virt, 7);
  ASSERT_NE(table_.find_virtual(IpcKind::Msg, virt), nullptr);
  EXPECT_EQ(table_.find_virtual(IpcKind::Msg, virt)->real, 7);
  EXPECT_EQ(table_.find_virtual(IpcKind::Msg, 7)->real, 100);
}

TEST_F(SysvTableTest, KeyHeldElsewhereIsFoundByKeyOnlyWhenFlagged) {
  ASSERT_TRUE(table_.insert({1, IpcKind::Sem, 3, 40, 0x99, kKeyElsewhere, 0, 0}));
  ASSERT_TRUE(table_.insert({1, IpcKind::Sem, 4, 41, 0x98, 0, 0, 0}));
  ASSERT_NE(table_.find_virtual_key(IpcKind::Sem, 0x99), nullptr);
  EXPECT_EQ(table_.find_virtual_key(IpcKind::Sem, 0x99)->virt, 3);
  EXPECT_EQ(table_.find_virtual_key(IpcKind::Sem, 0x98), nullptr) << "the kernel answers for keys it holds";
  EXPECT_EQ(table_.find_virtual_key(IpcKind::Shm, 0x99), nullptr);
}

TEST_F(SysvTableTest, AdjustmentsAddUpAndVanishAtZero) {
  ASSERT_TRUE(table_.insert({1, IpcKind::Sem, 3, 3, 0, 0, 0, 0}));
  EXPECT_TRUE(table_.add_adjustment(10, 3, 0, 1));
  EXPECT_TRUE(table_.add_adjustment(10, 3, 0, 2));
  EXPECT_TRUE(table_.add_adjustment(11, 3, 0, -1));
  int count = 0, sum10 = 0;
  table_.for_each_adjustment([&](SysvAdjustment& a) {
    ++count;
    if (a.vpid == 10) sum10 = a.adj;
  });
  EXPECT_EQ(count, 2);
  EXPECT_EQ(sum10, 3);
  EXPECT_TRUE(table_.add_adjustment(10, 3, 0, -3));
  count = 0;
  table_.for_each_adjustment([&](SysvAdjustment&) { ++count; });
  EXPECT_EQ(count, 1);
}

TEST_F(SysvTableTest, SetvalClearsOneSemaphoreSetallAndRemovalClearAll) {
  ASSERT_TRUE(table_.insert({1, IpcKind::Sem, 3, 3, 0, 0, 0, 0}));
  table_.add_adjustment(10, 3, 0, 1);
  table_.add_adjustment(11, 3, 1, 1);
  table_.add_adjustment(12, 4, 0, 1);
  table_.clear_adjustments(3, 0);
  int count = 0;
  table_.for_each_adjustment([&](SysvAdjustment& a) {
    ++count;
    EXPECT_FALSE(a.virt_semid == 3 && a.semnum == 0);
  });
  EXPECT_EQ(count, 2);
  table_.remove(table_.find_virtual(IpcKind::Sem, 3));
  count = 0;
  table_.for_each_adjustment([&](SysvAdjustment& a) {
    ++count;
    EXPECT_EQ(a.virt_semid, 4);
  });
  EXPECT_EQ(count, 1);
  table_.drop_process(12);
  count = 0;
  table_.for_each_adjustment([&](SysvAdjustment&) { ++count; });
  EXPECT_EQ(count, 0);
}

TEST_F(SysvTableTest, ReopenedTableIsTheSameAndAForeignFileIsRefused) {
  table_.record(IpcKind::Shm, 9, 0);
  SysvTable again;
  ASSERT_EQ(SysvTable::open(path_.c_str(), again), 0);
  EXPECT_NE(again.find_virtual(IpcKind::Shm, 9), nullptr);
  EXPECT_STREQ(again.pid_table(), "/nonexistent/pid/table");
  EXPECT_STREQ(again.host(), "host1");
  again.close();
  std::string other = dir_ + "/other";
  FILE* f = fopen(other.c_str(), "w");
  std::vector<char> zeros(SysvTable::file_size());
  fwrite(zeros.data(), 1, zeros.size(), f);
  fclose(f);
  EXPECT_EQ(SysvTable::open(other.c_str(), again), -EINVAL);
  unlink(other.c_str());
}

TEST_F(SysvTableTest, LockHeldByAProcessThatDiedIsTakenOver) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    table_.lock();  // the table is shared (MAP_SHARED): killed while holding it
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  table_.lock();
  table_.unlock();
}

TEST_F(SysvTableTest, SweepRemovesTablesWhosePidTableIsGone) {
  std::string pid_table = dir_ + "/live.pids";
  fclose(fopen(pid_table.c_str(), "w"));
  char live[4200], dead[4200];
  sysv_table_name(live, sizeof live, dir_.c_str(), getuid(), 1, 1, 1);
  sysv_table_name(dead, sizeof dead, dir_.c_str(), getuid(), 2, 2, 2);
  SysvTable a, b;
  ASSERT_EQ(SysvTable::create(live, pid_table.c_str(), "host1", a), 0);
  ASSERT_EQ(SysvTable::create(dead, (dir_ + "/gone.pids").c_str(), "host1", b), 0);
  a.close();
  b.close();
  sweep_dead_sysv_tables(dir_.c_str(), path_.c_str());
  EXPECT_EQ(access(live, F_OK), 0);
  EXPECT_NE(access(dead, F_OK), 0);
  EXPECT_EQ(access(path_.c_str(), F_OK), 0) << "the caller's own table stays";
  unlink(live);
  unlink(pid_table.c_str());
}

// ---- section "sysv" ----

struct Section {
  SysvSectionHeader header{};
  std::vector<SysvAttach> attaches;
  std::vector<SysvObjectRecord> objects;
  std::vector<SysvAdjRecord> adjustments;
  std::vector<uint8_t> data;

  Section() {
    header.version = kSysvSectionVersion;
    header.saver = 1;
    std::strcpy(header.table_path, "/dev/shm/ckpt-0-1-1.sysv");
  }
  void add_message(int64_t type, const std::string& text) {
    SysvMessage m{type, text.size()};
    size_t at = data.size();
    data.resize(at + sizeof m + ((text.size() + 7) & ~size_t{7}));
    std::memcpy(data.data() + at, &m, sizeof m);
    std::memcpy(data.data() + at + sizeof m, text.data(), text.size());
  }
  std::vector<uint8_t> bytes() {
    header.attach_count = static_cast<uint32_t>(attaches.size());
    header.object_count = static_cast<uint32_t>(objects.size());
    header.adjustment_count = static_cast<uint32_t>(adjustments.size());
    header.data_bytes = data.size();
    std::vector<uint8_t> out(sizeof header);
    std::memcpy(out.data(), &header, sizeof header);
    auto add = [&](const auto& v) {
      size_t at = out.size();
      out.resize(at + v.size() * sizeof v[0]);
      if (!v.empty()) std::memcpy(out.data() + at, v.data(), v.size() * sizeof v[0]);
    };
    add(attaches);
    add(objects);
    add(adjustments);
    add(data);
    return out;
  }
};

SysvObjectRecord queue_record(uint64_t len, uint32_t count) {
  SysvObjectRecord o{};
  o.kind = IpcKind::Msg;
  o.virt = 5;
  o.key = 0x51;
  o.mode = 0620;
  o.count = count;
  o.data_len = len;
  return o;
}

TEST(SysvSection, QueueReadsBackInOrderAndDecodes) {
  Section s;
  s.add_message(2, "second type");
  s.add_message(1, "x");
  s.objects.push_back(queue_record(s.data.size(), 2));
  s.adjustments.push_back({42, 5, 0, -1});
  std::vector<uint8_t> bytes = s.bytes();
  SysvSectionData d;
  ASSERT_EQ(read_sysv_section(bytes, d), "");
  std::vector<SysvMessageView> messages;
  ASSERT_EQ(read_messages(d.contents(d.objects[0]), 2, messages), "");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type, 2);
  EXPECT_EQ(std::string(messages[0].text.begin(), messages[0].text.end()), "second type");
  EXPECT_EQ(messages[1].type, 1);
  image::Json j = image::decode_section(kSysvSection, bytes);
  ASSERT_TRUE(j.contains("content")) << j.dump();
  EXPECT_EQ(j["content"]["objects"][0]["kind"], "msg");
  EXPECT_EQ(j["content"]["objects"][0]["messages"][1]["text"], "x");
  EXPECT_EQ(j["content"]["sem_undo"][0]["adj"], -1);
}

TEST(SysvSection, CraftedSectionsAreRefusedWithTheirReason) {
  auto refusal = [](Section s) {
    SysvSectionData d;
    std::vector<uint8_t> bytes = s.bytes();
    return read_sysv_section(bytes, d);
  };
  {
    Section s;
    s.add_message(1, "abc");
    s.objects.push_back(queue_record(s.data.size(), 2));  // says two messages, holds one
    EXPECT_NE(refusal(s).find("msg 5: message 1 is cut off"), std::string::npos) << refusal(s);
  }
  {
    Section s;
    SysvObjectRecord o = queue_record(64, 0);  // contents beyond the data area
    s.objects.push_back(o);
    EXPECT_NE(refusal(s).find("contents outside the data area"), std::string::npos);
  }
  {
    Section s;
    SysvObjectRecord o{};
    o.kind = static_cast<IpcKind>(9);
    s.objects.push_back(o);
    EXPECT_NE(refusal(s).find("unknown kind 9"), std::string::npos);
  }
  {
    Section s;
    SysvObjectRecord o{};
    o.kind = IpcKind::Sem;
    o.size = 3;
    s.data.resize(4);
    o.data_len = 4;  // three semaphores need six bytes
    s.objects.push_back(o);
    EXPECT_NE(refusal(s).find("values do not match its size"), std::string::npos);
  }
  {
    Section s;
    s.header.version = 7;
    EXPECT_NE(refusal(s).find("version 7"), std::string::npos);
  }
  {
    Section s;
    std::vector<uint8_t> bytes = s.bytes();
    bytes.resize(bytes.size() - 1);
    SysvSectionData d;
    EXPECT_NE(read_sysv_section(bytes, d), "");
  }
}

}  // namespace
}  // namespace ckpt::sysv
