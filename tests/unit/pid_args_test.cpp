// The table of system calls that take ids (plugins/pid/pid_args.h): one test
// per entry that every id argument, and nothing else, becomes the kernel's.
#include <gtest/gtest.h>

#include <linux/capability.h>
#include <sys/resource.h>

#include <set>
#include <string>

#include "pid_args.h"

namespace ckpt::pid {
namespace {

// Virtual ids as the tests see them: processes +1000, groups +2000.
pid_t fake_process(pid_t v) { return v + 1000; }
pid_t fake_group(pid_t v) { return v + 2000; }
constexpr IdTranslator kFake{fake_process, fake_group};
constexpr long kPrioProcess = PRIO_PROCESS, kPrioGroup = PRIO_PGRP, kIoprioProcess = 1, kIoprioGroup = 2;

class PidCallTest : public ::testing::TestWithParam<PidCall> {};

TEST_P(PidCallTest, IdArgumentsBecomeRealAndNothingElseChanges) {
  const PidCall& call = GetParam();
  __user_cap_header_struct app_header{_LINUX_CAPABILITY_VERSION_3, 42};
  long args[6] = {11, 12, 13, 14, 15, 16};
  bool who_by_which = false;
  for (int i = 0; i < 6; ++i) {
    if (call.args[i] == IdArg::CapHeader) args[i] = reinterpret_cast<long>(&app_header);
    if (call.args[i] == IdArg::PriorityWho) args[0] = kPrioProcess, who_by_which = true;
    if (call.args[i] == IdArg::IoprioWho) args[0] = kIoprioProcess, who_by_which = true;
  }
  long expected[6];
  std::copy(args, args + 6, expected);
  __user_cap_header_struct copy{};
  translate_pid_args(call, args, kFake, &copy);
  for (int i = 0; i < 6; ++i) {
    switch (call.args[i]) {
      case IdArg::None:
        EXPECT_EQ(args[i], expected[i]) << call.name << ": argument " << i << " is no id";
        break;
      case IdArg::Process:
      case IdArg::PriorityWho:
      case IdArg::IoprioWho:
        EXPECT_EQ(args[i], expected[i] + 1000) << call.name << ": argument " << i;
        break;
      case IdArg::CapHeader:
        ASSERT_EQ(args[i], reinterpret_cast<long>(&copy)) << call.name << " must not change the application's header";
        EXPECT_EQ(copy.pid, 1042);
        EXPECT_EQ(app_header.pid, 42);
        copy.version = _LINUX_CAPABILITY_VERSION_1;  // as the kernel answers a version it does not like
        finish_pid_args(call, expected, args);
        EXPECT_EQ(app_header.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_1))
            << call.name << ": the kernel's answer did not reach the application";
        break;
    }
  }
  if (who_by_which) {
    // The same argument names a process group, or a user (left alone).
    long group[6] = {call.args[1] == IdArg::PriorityWho ? kPrioGroup : kIoprioGroup, 21};
    translate_pid_args(call, group, kFake, &copy);
    EXPECT_EQ(group[1], 2021) << call.name << " with a process group";
    long user[6] = {PRIO_USER, 1000};
    if (call.args[1] == IdArg::IoprioWho) user[0] = 3;  // IOPRIO_WHO_USER
    translate_pid_args(call, user, kFake, &copy);
    EXPECT_EQ(user[1], 1000) << call.name << ": a uid is no pid";
  }
}

TEST_P(PidCallTest, SelfAnyAndBadPointersAreLeftAlone) {
  const PidCall& call = GetParam();
  for (long special : {0L, -1L}) {
    long args[6] = {special, special, special, special, special, special};
    if (call.args[1] == IdArg::PriorityWho) args[0] = kPrioProcess;
    if (call.args[1] == IdArg::IoprioWho) args[0] = kIoprioProcess;
    long before[6];
    std::copy(args, args + 6, before);
    __user_cap_header_struct copy{};
    translate_pid_args(call, args, kFake, &copy);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(args[i], before[i]) << call.name << ": argument " << i << " = " << special;
  }
  long bad[6] = {static_cast<long>(0xffffffffff000000UL), 16};
  translate_pid_args(call, bad, kFake, nullptr);  // a header copy would crash: none is made
}

std::string name_of(const ::testing::TestParamInfo<PidCall>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(EveryCall, PidCallTest, ::testing::ValuesIn(kPidCalls), name_of);

TEST(PidCallTable, EachSystemCallOnceAndFindable) {
  std::set<long> seen;
  for (const PidCall& c : kPidCalls) {
    EXPECT_TRUE(seen.insert(c.nr).second) << c.name << " is listed twice";
    EXPECT_EQ(find_pid_call(c.nr), &c);
  }
  EXPECT_EQ(find_pid_call(SYS_read), nullptr);
}

}  // namespace
}  // namespace ckpt::pid
