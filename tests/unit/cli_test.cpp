// The shared command-line layer: one wording for every tool's errors,
// environment twins, DMTCP's spellings, --help and --version.
#include "cli.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ckpt::cli {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

// Parses args with a small tool: --size N (twin CKPT_SIZE), --fast (twin
// CKPT_FAST), repeatable --rule/--rule-file, FILE operands, and "-bc"
// meaning --fast.
class CliParser : public ::testing::Test {
 protected:
  Outcome parse(std::vector<std::string> args, bool program = false) {
    p_ = std::make_unique<Parser>("ckpt_test", "ckpt_test [OPTION]... FILE...", "Test tool.", env_.lookup());
    p_->value("-n,--size", "N", "a size", "CKPT_SIZE");
    p_->flag("-f,--fast", "go fast", "CKPT_FAST");
    p_->values("--rule", "RULE", "a rule");
    p_->values("--rule-file", "FILE", "rules");
    if (program) p_->stop_at_program();
    else p_->operands("FILE", "files");
    p_->alias("-bc", "--fast");
    args.insert(args.begin(), "ckpt_test");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return p_->parse(static_cast<int>(argv.size()), argv.data());
  }
  std::string error(std::vector<std::string> args, bool program = false) {
    try {
      parse(std::move(args), program);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no error)";
  }
  Env env_;
  std::unique_ptr<Parser> p_;
};

TEST(CliWording, ErrorLineIsToolColonMessage) {
  EXPECT_EQ(error_line("ckpt_command", "no action given"), "ckpt_command: no action given");
}

// Found by tests/fuzz/options_fuzzer: an argument with a newline split the
// error line in two.
TEST(CliWording, ErrorLineStaysOneLineWhateverItQuotes) {
  EXPECT_EQ(error_line("ckpt_coordinator", "unknown option '--re\nlocate\x1b[2J' (try --help)"),
            "ckpt_coordinator: unknown option '--re?locate?[2J' (try --help)");
}

TEST(CliWording, VersionLineNamesToolAndProjectVersion) {
  EXPECT_EQ(version_line("ckpt_info"), std::string("ckpt_info ") + CKPT_VERSION);
}

TEST(CliWording, BadValuesAreNamedBySource) {
  auto message = [](auto f) {
    try {
      f();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message([] { to_port({"abc", "--coord-port"}, true); }), "--coord-port: 'abc' is not a port number (1-65535)");
  EXPECT_EQ(message([] { to_port({"65536", "CKPT_COORD_PORT"}, true); }),
            "CKPT_COORD_PORT: '65536' is not a port number (1-65535)");
  EXPECT_EQ(message([] { to_port({"0", "-p"}, false); }), "-p: '0' is not a port number (1-65535)");
  EXPECT_EQ(to_port({"0", "--port"}, true), 0);
  EXPECT_EQ(to_port({"65535", "--port"}, false), 65535);
  EXPECT_EQ(message([] { to_number({"1x", "--interval"}, 10); }), "--interval: '1x' is not a number");
  EXPECT_EQ(message([] { to_number({"-1", "--interval"}, 10); }), "--interval: '-1' is not a number");
  EXPECT_EQ(message([] { to_number({"11", "CKPT_INTERVAL"}, 10); }), "CKPT_INTERVAL: '11' is out of range (at most 10)");
  EXPECT_EQ(message([] { to_number({"99999999999999999999999", "--n"}, 10); }),
            "--n: '99999999999999999999999' is out of range (at most 10)");
  EXPECT_EQ(message([] { to_bool({"maybe", "CKPT_JOIN"}); }), "CKPT_JOIN: 'maybe' is not a boolean (use 1 or 0)");
  EXPECT_TRUE(to_bool({"yes", "X"}));
  EXPECT_FALSE(to_bool({"0", "X"}));
  EXPECT_EQ(message([] { to_nonempty({"", "--ckptdir"}); }), "--ckptdir: empty value");
}

TEST(CliWording, HelpEndsWithTheExitStatuses) {
  const std::string text = exit_status_help("the image is bad", true, "  127  gone\n");
  EXPECT_EQ(text,
            "Exit status:\n  0    success\n  1    the image is bad\n"
            "  2    usage error (bad option, bad value or bad environment variable)\n"
            "  3    no coordinator reachable\n  127  gone\n");
  EXPECT_EQ(exit_status_help("x", false).find("  3 "), std::string::npos);
}

TEST_F(CliParser, OptionOverridesItsTwinAndEmptyTwinIsUnset) {
  env_.vars = {{"CKPT_SIZE", "7"}, {"CKPT_FAST", ""}};
  ASSERT_EQ(parse({"a"}), Outcome::Run);
  EXPECT_EQ(p_->setting("--size")->value, "7");
  EXPECT_EQ(p_->setting("--size")->source, "CKPT_SIZE");
  EXPECT_FALSE(p_->enabled("--fast").has_value());
  ASSERT_EQ(parse({"-n", "8", "a"}), Outcome::Run);
  EXPECT_EQ(p_->setting("--size")->value, "8");
  EXPECT_EQ(p_->setting("--size")->source, "--size") << "named by its long name, however spelt";
}

TEST_F(CliParser, FlagTwinIsABoolean) {
  env_.vars = {{"CKPT_FAST", "0"}};
  ASSERT_EQ(parse({"a"}), Outcome::Run);
  EXPECT_EQ(p_->enabled("--fast"), std::optional<bool>(false));
  env_.vars = {{"CKPT_FAST", "on"}};
  ASSERT_EQ(parse({"a"}), Outcome::Run);
  EXPECT_THROW(p_->enabled("--fast"), UsageError);
  ASSERT_EQ(parse({"--fast", "a"}), Outcome::Run);
  EXPECT_EQ(p_->enabled("--fast"), std::optional<bool>(true)) << "the flag wins over a bad twin";
}

TEST_F(CliParser, MistakesAreWordedOnce) {
  EXPECT_EQ(error({"--frob", "a"}), "unknown option '--frob' (try --help)");
  EXPECT_EQ(error({"--frob=1", "a"}), "unknown option '--frob' (try --help)");
  EXPECT_EQ(error({"-x", "a"}), "unknown option '-x' (try --help)");
  EXPECT_EQ(error({"a", "--size"}), "--size needs a value");
  EXPECT_EQ(error({"--fast=1", "a"}), "--fast takes no value");
  EXPECT_EQ(error({"--frob"}, true), "unknown option '--frob' (try --help)");
}

TEST_F(CliParser, HelpAndVersionAreEverywhere) {
  EXPECT_EQ(parse({"--help"}), Outcome::Help);
  EXPECT_EQ(parse({"-h"}), Outcome::Help) << "-h is help where it means nothing else";
  EXPECT_EQ(parse({"--version"}), Outcome::Version);
  const std::string help = p_->help();
  EXPECT_EQ(help.rfind("Usage: ckpt_test [OPTION]... FILE...\nTest tool.\n", 0), 0u) << help;
  EXPECT_NE(help.find("  -n, --size N"), std::string::npos) << help;
  EXPECT_NE(help.find("(env CKPT_SIZE)"), std::string::npos) << help;
  EXPECT_NE(help.find("(env CKPT_FAST=1)"), std::string::npos) << help;
  EXPECT_NE(help.find("Exit status:"), std::string::npos) << help;
}

TEST_F(CliParser, AliasesAreRewrittenUpToDoubleDash) {
  ASSERT_EQ(parse({"-bc", "a"}), Outcome::Run);
  EXPECT_TRUE(p_->given("--fast"));
  ASSERT_EQ(parse({"--", "-bc"}), Outcome::Run);
  EXPECT_FALSE(p_->given("--fast"));
  EXPECT_EQ(p_->rest(), std::vector<std::string>{"-bc"});
}

TEST_F(CliParser, RepeatableValuesKeepTheirInterleavedOrder) {
  ASSERT_EQ(parse({"--rule", "r1", "--rule-file", "f1", "a", "--rule=r2"}), Outcome::Run);
  std::vector<Setting> got = p_->in_order({"--rule", "--rule-file"});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value + got[0].source, "r1--rule");
  EXPECT_EQ(got[1].value + got[1].source, "f1--rule-file");
  EXPECT_EQ(got[2].value + got[2].source, "r2--rule");
  EXPECT_EQ(p_->rest(), std::vector<std::string>{"a"});
}

TEST_F(CliParser, OptionsStopAtTheProgram) {
  ASSERT_EQ(parse({"-f", "prog", "--size", "x", "--help", "-bc"}, true), Outcome::Run);
  EXPECT_TRUE(p_->given("--fast"));
  EXPECT_FALSE(p_->given("--size"));
  EXPECT_EQ(p_->rest(), (std::vector<std::string>{"prog", "--size", "x", "--help", "-bc"}));
  ASSERT_EQ(parse({"--", "--prog", "-f"}, true), Outcome::Run);
  EXPECT_EQ(p_->rest(), (std::vector<std::string>{"--prog", "-f"}));
  ASSERT_EQ(parse({"-", "x"}, true), Outcome::Run);
  EXPECT_EQ(p_->rest(), (std::vector<std::string>{"-", "x"})) << "a lone - is a program name";
}

TEST_F(CliParser, SharedCoordinatorOptions) {
  p_ = std::make_unique<Parser>("ckpt_test", "ckpt_test", "Test tool.", env_.lookup());
  add_coordinator_address(*p_, true);
  add_coordinator_mode(*p_);
  add_interval(*p_, "interval", "CKPT_INTERVAL");
  add_ckptdir(*p_, "dir", "CKPT_DIR");
  env_.vars = {{"CKPT_JOIN", "1"}, {"CKPT_COORD_PORT", "0"}};
  const char* argv[] = {"ckpt_test", "--new-coordinator", "-h", "node1", "-i", "3"};
  ASSERT_EQ(p_->parse(6, argv), Outcome::Run);
  CoordinatorMode mode = coordinator_mode(*p_);
  EXPECT_TRUE(mode.new_coordinator);
  EXPECT_FALSE(mode.join) << "a mode option overrides both mode variables";
  CoordinatorAddress address = coordinator_address(*p_, &mode);
  EXPECT_EQ(address.host, "node1");
  EXPECT_EQ(address.port, 0);
  EXPECT_EQ(interval(*p_), std::optional<unsigned>(3));
  EXPECT_FALSE(ckptdir(*p_).has_value());
  mode.new_coordinator = false;
  EXPECT_THROW(coordinator_address(*p_, &mode), UsageError);
  EXPECT_THROW(coordinator_address(*p_, nullptr), UsageError);
}

}  // namespace
}  // namespace ckpt::cli
