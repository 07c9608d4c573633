// The real binaries over real sockets: ckpt_coordinator, ckpt_command, a
// fake worker speaking the wire protocol, and ensure_coordinator().
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "coordinator_start.h"
#include "restart_script.h"

namespace ckpt::coord {
namespace {

namespace fs = std::filesystem;
using proto::Barrier;
using proto::MsgType;

struct CommandResult {
  int status;
  std::string out;  // stdout and stderr
};

CommandResult sh(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  CommandResult r{};
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return r;
}

std::string command(uint16_t port, const std::string& args) {
  return std::string(CKPT_COMMAND_BIN) + " --coord-port " + std::to_string(port) + " " + args;
}

uint16_t wait_for_port_file(const fs::path& file) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(file);
    unsigned port = 0;
    if (in >> port && port != 0) return static_cast<uint16_t>(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "coordinator did not write " << file;
  return 0;
}

CoordinatorRequest request(uint16_t port, CoordinatorMode mode, bool wait = true) {
  CoordinatorRequest r;
  r.port = port;
  r.mode = mode;
  r.wait_until_listening = wait;
  return r;
}

class CoordinatorSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_smoke_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Coordinators started by ensure_coordinator() log (and report their
    // port) under TMPDIR: keep that inside the test's directory.
    ::setenv("TMPDIR", tmpl, 1);
  }
  void TearDown() override {
    ::unsetenv("TMPDIR");
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  // Runs the coordinator in the foreground as our child, on a free port.
  uint16_t start(std::vector<std::string> extra = {}) {
    const fs::path port_file = dir_ / "port";
    std::vector<std::string> args = {CKPT_COORDINATOR_BIN, "--port", "0", "--port-file", port_file.string(),
                                     "--ckptdir", (dir_ / "ckpt").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    fs::create_directory(dir_ / "ckpt");
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const std::string log = (dir_ / "coordinator.log").string();
      std::freopen(log.c_str(), "w", stderr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return wait_for_port_file(port_file);
  }

  int wait_exit() {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  }

  fs::path dir_;
  pid_t pid_ = -1;
};

// The secret the coordinator on `port` made in its default place (TMPDIR is
// the test's directory).
auth::Secret secret_of(uint16_t port) {
  std::string error;
  const std::string path = ckpt::cli::secret_file_path("", port, error);
  EXPECT_FALSE(path.empty()) << error;
  auth::Secret secret{};
  char why[512];
  EXPECT_TRUE(auth::read_secret(path.c_str(), secret, why, sizeof why)) << why;
  return secret;
}

// A worker speaking the protocol by hand.
class FakeWorker {
 public:
  explicit FakeWorker(uint16_t port) {
    std::string error;
    bool refused = false;
    fd_ = connect_authenticated("localhost", port, secret_of(port), error, refused);
    EXPECT_GE(fd_, 0) << error;
    proto::HelloPayload h{};
    h.virt_pid = 4242;
    h.real_pid = ::getpid();
    std::strcpy(h.progname, "fake");
    std::strcpy(h.hostname, "smokehost");
    std::strcpy(h.unique_id, "fake-1");
    send(proto::make_header(MsgType::Hello, sizeof h), std::string(reinterpret_cast<char*>(&h), sizeof h));
  }
  ~FakeWorker() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send(const proto::MsgHeader& h, const std::string& payload = {}) {
    std::string error;
    EXPECT_TRUE(send_message(fd_, h, payload, error)) << error;
  }
  proto::MsgHeader recv(std::string* payload = nullptr) {
    proto::MsgHeader h{};
    std::string p, error;
    EXPECT_TRUE(recv_message(fd_, h, p, error)) << error;
    if (payload) *payload = p;
    return h;
  }

 private:
  int fd_ = -1;
};

TEST_F(CoordinatorSmoke, CommandStatusListAndJson) {
  const uint16_t port = start();
  auto status = sh(command(port, "--status"));
  EXPECT_EQ(status.status, 0) << status.out;
  EXPECT_NE(status.out.find("state:           IDLE"), std::string::npos) << status.out;
  auto json = sh(command(port, "--status --json"));
  EXPECT_EQ(json.status, 0);
  EXPECT_NE(json.out.find("\"port\":" + std::to_string(port)), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"processes\":0"), std::string::npos);

  FakeWorker w(port);
  EXPECT_EQ(w.recv().type, static_cast<uint16_t>(MsgType::Welcome));
  auto list = sh(command(port, "--list"));
  EXPECT_EQ(list.status, 0);
  EXPECT_NE(list.out.find("fake"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("4242"), std::string::npos);
  EXPECT_NE(list.out.find("RUNNING"), std::string::npos);
  EXPECT_NE(sh(command(port, "--list --json")).out.find("\"unique_id\":\"fake-1\""), std::string::npos);

  EXPECT_EQ(sh(command(port, "--quit")).status, 0);
  EXPECT_EQ(w.recv().type, static_cast<uint16_t>(MsgType::Kill));
  EXPECT_EQ(wait_exit(), 0);
}

TEST_F(CoordinatorSmoke, CheckpointRoundOverSockets) {
  const uint16_t port = start();
  FakeWorker w(port);
  const uint32_t id = static_cast<uint32_t>(w.recv().arg);
  EXPECT_EQ(id, 1u);

  FILE* cmd = ::popen((command(port, "--checkpoint --json") + " 2>&1").c_str(), "r");
  for (Barrier b : {Barrier::Suspended, Barrier::Drained, Barrier::Checkpointed, Barrier::Refilled}) {
    std::string payload;
    const proto::MsgHeader h = w.recv(&payload);
    ASSERT_EQ(h.type, static_cast<uint16_t>(MsgType::Advance));
    ASSERT_EQ(h.arg, static_cast<uint64_t>(b));
    ASSERT_EQ(payload.size(), sizeof(proto::AdvancePayload));
    w.send(proto::make_header(MsgType::Reached, 0, h.generation, h.arg));
  }
  const std::string image = (dir_ / "ckpt" / "fake-1.ckpt").string();
  proto::WrittenPayload wp{};
  wp.image_size = 12345;
  std::strcpy(wp.image_path, image.c_str());
  w.send(proto::make_header(MsgType::Reached, sizeof wp, 1, static_cast<uint64_t>(Barrier::Written)),
         std::string(reinterpret_cast<char*>(&wp), sizeof wp));
  const proto::MsgHeader committed = w.recv();
  EXPECT_EQ(committed.type, static_cast<uint16_t>(MsgType::Committed));
  EXPECT_EQ(committed.generation, 1u);

  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, cmd)) out.append(buf, n);
  EXPECT_EQ(WEXITSTATUS(::pclose(cmd)), 0) << out;
  EXPECT_NE(out.find("\"generation\":1"), std::string::npos) << out;
  EXPECT_NE(out.find(image), std::string::npos);

  const fs::path script = dir_ / "ckpt" / kRestartScriptName;
  struct stat st {};
  ASSERT_EQ(::stat(script.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(sh("sh -n " + shell_quote(script.string())).status, 0);

  auto status = sh(command(port, "--status"));
  EXPECT_NE(status.out.find("generation 1"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(script.string()), std::string::npos);
}

TEST_F(CoordinatorSmoke, FailedCheckpointExitsOneWithReason) {
  const uint16_t port = start({"--timeout", "1"});
  FakeWorker w(port);
  w.recv();
  auto r = sh(command(port, "--checkpoint"));  // the worker never answers
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "ckpt_command: checkpoint 1 failed: process 1 (fake, pid 4242 on smokehost) did not reach "
                   "SUSPENDED within 1 s\n");
}

TEST_F(CoordinatorSmoke, ExitOnLastWorker) {
  const uint16_t port = start({"--exit-on-last"});
  {
    FakeWorker w(port);
    w.recv();
  }
  EXPECT_EQ(wait_exit(), 0);
}

TEST_F(CoordinatorSmoke, NoCoordinatorIsExitThree) {
  const uint16_t port = start();
  EXPECT_EQ(sh(command(port, "--quit")).status, 0);
  EXPECT_EQ(wait_exit(), 0);
  auto r = sh(command(port, "--status"));
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.out, "ckpt_command: no coordinator at localhost:" + std::to_string(port) + ": Connection refused\n");
}

TEST_F(CoordinatorSmoke, PortInUseIsOneLineError) {
  const uint16_t port = start();
  auto r = sh(std::string(CKPT_COORDINATOR_BIN) + " --port " + std::to_string(port));
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out, "ckpt_coordinator: cannot listen on port " + std::to_string(port) + ": Address already in use\n");
}

TEST_F(CoordinatorSmoke, BadFlagIsExitTwo) {
  auto r = sh(std::string(CKPT_COORDINATOR_BIN) + " --frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "ckpt_coordinator: unknown option '--frobnicate' (try --help)\n");
  EXPECT_EQ(sh(std::string(CKPT_COMMAND_BIN) + " --status --frobnicate").status, 2);
}

TEST_F(CoordinatorSmoke, DaemonIsReachableAsSoonAsItsParentExits) {
  const fs::path port_file = dir_ / "dport";
  auto r = sh(std::string(CKPT_COORDINATOR_BIN) + " --daemon --port 0 --port-file " + port_file.string() +
              " --log " + (dir_ / "d.log").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const uint16_t port = wait_for_port_file(port_file);
  EXPECT_EQ(sh(command(port, "--status")).status, 0);
  EXPECT_EQ(sh(command(port, "--quit")).status, 0);
}

TEST_F(CoordinatorSmoke, EnsureCoordinatorStartsJoinsAndRefuses) {
  CoordinatorRequest req = request(0, CoordinatorMode::New);
  req.ckptdir = dir_.string();
  std::string error;
  ASSERT_EQ(ensure_coordinator(req, error), CoordinatorCheck::Ready) << error;
  ASSERT_NE(req.port, 0);
  const uint16_t port = req.port;
  auto json = sh(command(port, "--status --json"));
  EXPECT_NE(json.out.find("\"ckptdir\":\"" + dir_.string() + "\""), std::string::npos) << json.out;

  CoordinatorRequest join = request(port, CoordinatorMode::Join);
  EXPECT_EQ(ensure_coordinator(join, error), CoordinatorCheck::Ready) << error;
  CoordinatorRequest autoreq = request(port, CoordinatorMode::Auto, false);
  EXPECT_EQ(ensure_coordinator(autoreq, error), CoordinatorCheck::Ready) << error;
  CoordinatorRequest again = request(port, CoordinatorMode::New);
  EXPECT_EQ(ensure_coordinator(again, error), CoordinatorCheck::Failed);
  EXPECT_NE(error.find("already in use"), std::string::npos) << error;

  EXPECT_EQ(sh(command(port, "--quit")).status, 0);
  // The daemon is gone once its port refuses connections.
  for (int i = 0; i < 200 && probe_local_port(port) == ProbeResult::Listening; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CoordinatorRequest gone = request(port, CoordinatorMode::Join);
  EXPECT_EQ(ensure_coordinator(gone, error), CoordinatorCheck::NoneListening);
  EXPECT_EQ(error, "no coordinator at localhost:" + std::to_string(port) + ": Connection refused");
  CoordinatorRequest remote = request(port, CoordinatorMode::New);
  remote.host = "remote.invalid";
  EXPECT_EQ(ensure_coordinator(remote, error), CoordinatorCheck::Failed);
  CoordinatorRequest remote_auto = request(port, CoordinatorMode::Auto);
  remote_auto.host = "remote.invalid";
  EXPECT_EQ(ensure_coordinator(remote_auto, error), CoordinatorCheck::NoneListening) << error;
}

TEST_F(CoordinatorSmoke, EnsureCoordinatorAutoWithoutWaitingLeavesNoChild) {
  // Find a free port by letting the kernel pick one for a moment.
  const uint16_t port = start();
  EXPECT_EQ(sh(command(port, "--quit")).status, 0);
  EXPECT_EQ(wait_exit(), 0);

  CoordinatorRequest req = request(port, CoordinatorMode::Auto, false);
  std::string error;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(ensure_coordinator(req, error), CoordinatorCheck::Ready) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "no child of ours is left to reap";
  EXPECT_EQ(errno, ECHILD);
  int i = 0;
  while (probe_local_port(port) != ProbeResult::Listening && i++ < 500)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sh(command(port, "--quit")).status, 0);
}

}  // namespace
}  // namespace ckpt::coord
