// The generated ckpt_restart_script.sh, run for real by /bin/sh against a
// fake ckpt_restart that prints its arguments.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>

#include "atomic_file.h"
#include "restart_script.h"

namespace ckpt::coord {
namespace {

namespace fs = std::filesystem;

class RestartScript : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_script_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fake_ = dir_ / "ckpt_restart";
    ASSERT_EQ(write_file_atomically(fake_, "#!/bin/sh\nprintf '[%s]\\n' \"$@\"\nexit 7\n", 0755), "");
  }
  void TearDown() override { fs::remove_all(dir_); }

  RestartScriptInfo info(std::vector<std::string> images) const {
    RestartScriptInfo i;
    i.generation = 3;
    i.when = "2024-01-01T00:00:00+0000";
    i.coord_host = "localhost";
    i.coord_port = 7779;
    i.restart_program = fake_.string();
    i.images = std::move(images);
    return i;
  }

  // Writes the script and runs `sh script args...`; returns stdout, with
  // the exit status in `status`.
  std::string run(const RestartScriptInfo& i, const std::string& args, int& status) {
    const fs::path script = dir_ / kRestartScriptName;
    EXPECT_EQ(write_file_atomically(script, render_restart_script(i), 0755), "");
    const std::string cmd = shell_quote(script.string()) + " " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[256];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    status = WEXITSTATUS(::pclose(p));
    return out;
  }

  fs::path dir_, fake_;
};

TEST_F(RestartScript, IsValidShell) {
  const fs::path script = dir_ / kRestartScriptName;
  ASSERT_EQ(write_file_atomically(script, render_restart_script(info({"/a b/x.ckpt", "/it's/$HOME/`id`"})), 0755), "");
  EXPECT_EQ(WEXITSTATUS(std::system(("sh -n " + shell_quote(script.string())).c_str())), 0);
  struct stat st {};
  ASSERT_EQ(::stat(script.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
}

TEST_F(RestartScript, PassesOddImagePathsVerbatimAndPropagatesExitStatus) {
  int status = 0;
  const std::string out =
      run(info({"/data/with space/a.ckpt", "/it's/$HOME/`id`/b.ckpt", "/new\nline/c.ckpt", "/star/*.ckpt"}), "",
          status);
  EXPECT_EQ(status, 7) << "the script execs ckpt_restart";
  EXPECT_EQ(out,
            "[--coord-host]\n[localhost]\n[--coord-port]\n[7779]\n"
            "[/data/with space/a.ckpt]\n[/it's/$HOME/`id`/b.ckpt]\n[/new\nline/c.ckpt]\n[/star/*.ckpt]\n");
}

TEST_F(RestartScript, OverridesCoordinatorAndPassesOtherArgumentsBeforeImages) {
  int status = 0;
  const std::string out = run(info({"/i.ckpt"}), "--verbose --coord-host node9 'two words' --coord-port=8000", status);
  EXPECT_EQ(out,
            "[--coord-host]\n[node9]\n[--coord-port]\n[8000]\n[--verbose]\n[two words]\n[/i.ckpt]\n");
  const std::string eq = run(info({"/i.ckpt"}), "--coord-host=h2 --coord-port 1", status);
  EXPECT_EQ(eq, "[--coord-host]\n[h2]\n[--coord-port]\n[1]\n[/i.ckpt]\n");
}

// A computation on several hosts: each image goes to ckpt_restart as
// HOST:/PATH, and the coordinator still finds the paths to remove.
TEST_F(RestartScript, NamesEachImagesHostWhenTheComputationSpansHosts) {
  RestartScriptInfo i = info({"/ck/a.ckpt", "/ck/b c.ckpt"});
  i.image_hosts = {"node1", "node2"};
  int status = 0;
  const std::string out = run(i, "--host node1=node3", status);
  EXPECT_EQ(out, "[--coord-host]\n[localhost]\n[--coord-port]\n[7779]\n[--host]\n[node1=node3]\n"
                 "[node1:/ck/a.ckpt]\n[node2:/ck/b c.ckpt]\n");
  const std::string text = render_restart_script(i);
  EXPECT_NE(text.find("# The processes ran on 2 hosts: node1 node2."), std::string::npos) << text;
  EXPECT_EQ(restart_script_images(text), (std::vector<std::string>{"/ck/a.ckpt", "/ck/b c.ckpt"}));
}

TEST_F(RestartScript, MissingOptionValueIsAnError) {
  int status = 0;
  const std::string out = run(info({"/i.ckpt"}), "--coord-port", status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("--coord-port needs a value"), std::string::npos) << out;
}

TEST_F(RestartScript, FallsBackToCkptRestartOnPath) {
  RestartScriptInfo i = info({"/i.ckpt"});
  i.restart_program = (dir_ / "missing" / "ckpt_restart").string();
  const fs::path script = dir_ / kRestartScriptName;
  ASSERT_EQ(write_file_atomically(script, render_restart_script(i), 0755), "");
  auto run_with_path = [&](const std::string& path, std::string& out) {
    FILE* p = ::popen(("PATH=" + shell_quote(path) + " /bin/sh " + shell_quote(script.string()) + " 2>&1").c_str(), "r");
    char buf[256];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    return WEXITSTATUS(::pclose(p));
  };
  std::string found, missing;
  EXPECT_EQ(run_with_path(dir_.string() + ":/usr/bin:/bin", found), 7);
  EXPECT_EQ(found.rfind("[--coord-host]", 0), 0u) << found;
  EXPECT_EQ(run_with_path((dir_ / "missing").string(), missing), 127);
  EXPECT_NE(missing.find("ckpt_restart"), std::string::npos) << missing;
}

TEST(ShellQuote, RoundTripsThroughSh) {
  for (const std::string s : {"plain", "", "it's", "$(rm -rf /)", "a\"b\\c", "  lead"}) {
    FILE* p = ::popen(("printf %s " + shell_quote(s)).c_str(), "r");
    std::string out;
    char buf[64];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    EXPECT_EQ(out, s);
  }
}

TEST(AtomicFile, ReplacesWithoutLeavingTemporaries) {
  char tmpl[] = "/tmp/ckpt_atomic_test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  const std::string f = (dir / "f").string();
  ASSERT_EQ(write_file_atomically(f, "one", 0644), "");
  ASSERT_EQ(write_file_atomically(f, "two", 0644), "");
  std::ifstream in(f);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  const std::string err = write_file_atomically((dir / "no" / "f").string(), "x", 0644);
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ckpt::coord
