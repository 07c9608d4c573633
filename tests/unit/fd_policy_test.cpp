// The fd plugin's file policies: the glob matcher it uses while processes
// are frozen, rule parsing, and the CKPT_FILE_POLICY table.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "file_policy.h"

namespace {

using ckpt::fd::FilePolicy;
using ckpt::fd::PolicyTable;
using ckpt::fd::Rule;
using ckpt::fd::RuleError;

bool match(const std::string& glob, const char* text) { return ckpt::fd::glob_match(glob.data(), glob.size(), text); }
bool valid(const std::string& glob) { return ckpt::fd::glob_valid(glob.data(), glob.size()); }

RuleError parse(const std::string& text, Rule* rule) { return ckpt::fd::parse_rule(text.data(), text.size(), rule); }

TEST(FileGlob, LiteralsMatchThemselvesOnly) {
  EXPECT_TRUE(match("/data/a.txt", "/data/a.txt"));
  EXPECT_FALSE(match("/data/a.txt", "/data/a.txt2"));
  EXPECT_FALSE(match("/data/a.txt", "/data/a.tx"));
  EXPECT_FALSE(match("", "x"));
  EXPECT_TRUE(match("", ""));
}

TEST(FileGlob, StarMatchesAnyRunIncludingSlashes) {
  EXPECT_TRUE(match("*.log", "/var/log/app/run.log"));
  EXPECT_TRUE(match("/tmp/*", "/tmp/"));
  EXPECT_TRUE(match("/tmp/*", "/tmp/a/b/c"));
  EXPECT_TRUE(match("/a*b*c", "/aXXbYYbZZc"));
  EXPECT_FALSE(match("/a*b*c", "/aXXbYYbZZ"));
  EXPECT_TRUE(match("**", ""));
  EXPECT_TRUE(match("/x/**/y", "/x/1/2/y"));
}

TEST(FileGlob, StarBacktracksPastEarlierCandidates) {
  EXPECT_TRUE(match("*ab", "aab"));
  EXPECT_TRUE(match("*aab", "aaab"));
  EXPECT_TRUE(match("/d/*.tar.gz", "/d/x.tar.tar.gz"));
  EXPECT_FALSE(match("/d/*.tar.gz", "/d/x.tar.gzip"));
}

TEST(FileGlob, QuestionMarkIsExactlyOneCharacter) {
  EXPECT_TRUE(match("/f?.dat", "/f1.dat"));
  EXPECT_FALSE(match("/f?.dat", "/f.dat"));
  EXPECT_FALSE(match("/f?.dat", "/f12.dat"));
  EXPECT_TRUE(match("/f?", "/f/"));
}

TEST(FileGlob, BracketSetsRangesAndNegation) {
  EXPECT_TRUE(match("/r[0-9].out", "/r7.out"));
  EXPECT_FALSE(match("/r[0-9].out", "/rx.out"));
  EXPECT_TRUE(match("/r[abc]", "/rb"));
  EXPECT_FALSE(match("/r[!abc]", "/rb"));
  EXPECT_TRUE(match("/r[^abc]", "/rd"));
  EXPECT_TRUE(match("/r[]]", "/r]"));
  EXPECT_TRUE(match("/r[!]]", "/rx"));
  EXPECT_FALSE(match("/r[!]]", "/r]"));
  EXPECT_TRUE(match("/r[a-]", "/r-"));
  EXPECT_TRUE(match("*[0-9][0-9]", "/run/step42"));
}

TEST(FileGlob, BackslashMakesSpecialCharactersLiteral) {
  EXPECT_TRUE(match("/a\\*b", "/a*b"));
  EXPECT_FALSE(match("/a\\*b", "/aXb"));
  EXPECT_TRUE(match("/q\\?", "/q?"));
  EXPECT_TRUE(match("/s[\\]]", "/s]"));
}

TEST(FileGlob, MalformedGlobsAreRecognised) {
  EXPECT_TRUE(valid("/a/*.c"));
  EXPECT_TRUE(valid("[]]"));
  EXPECT_FALSE(valid("/a/[bc"));
  EXPECT_FALSE(valid("/a/[]"));
  EXPECT_FALSE(valid("/a/\\"));
  EXPECT_FALSE(valid("[\\]"));
}

TEST(FileRule, ParsesGlobAndPolicyAroundTheLastEquals) {
  // The rule points into the text: keep the text alive.
  Rule rule;
  const std::string with_equals = "/data/a=b/*.dat=replace", with_blanks = "  *.log =  append ";
  ASSERT_EQ(parse(with_equals, &rule), RuleError::None);
  EXPECT_EQ(std::string(rule.glob, rule.glob_len), "/data/a=b/*.dat");
  EXPECT_EQ(rule.policy, FilePolicy::Replace);
  ASSERT_EQ(parse(with_blanks, &rule), RuleError::None);
  EXPECT_EQ(std::string(rule.glob, rule.glob_len), "*.log");
  EXPECT_EQ(rule.policy, FilePolicy::Append);
}

TEST(FileRule, EveryPolicyNameIsKnown) {
  const std::pair<const char*, FilePolicy> names[] = {{"merge", FilePolicy::Merge},
                                                      {"ignore", FilePolicy::Ignore},
                                                      {"append", FilePolicy::Append},
                                                      {"replace", FilePolicy::Replace},
                                                      {"substitute", FilePolicy::Substitute}};
  for (auto [name, policy] : names) {
    Rule rule;
    ASSERT_EQ(parse(std::string("/x=") + name, &rule), RuleError::None) << name;
    EXPECT_EQ(rule.policy, policy);
    EXPECT_STREQ(ckpt::fd::policy_name(policy), name);
  }
}

TEST(FileRule, ErrorsSayWhatIsWrong) {
  Rule rule;
  EXPECT_EQ(parse("/x", &rule), RuleError::MissingEquals);
  EXPECT_EQ(parse(" =merge", &rule), RuleError::EmptyGlob);
  EXPECT_EQ(parse("/x[=merge", &rule), RuleError::BadGlob);
  EXPECT_EQ(parse("/x=Merge", &rule), RuleError::UnknownPolicy);
  EXPECT_EQ(parse("/x=", &rule), RuleError::UnknownPolicy);
  EXPECT_NE(std::string(ckpt::fd::rule_error_text(RuleError::UnknownPolicy)).find("substitute"), std::string::npos);
}

TEST(PolicyTable, FirstMatchingRuleWinsAndMergeIsTheDefault) {
  auto table = std::make_unique<PolicyTable>();
  size_t line;
  bool overflow;
  ASSERT_EQ(table->load("# scratch files\n/scratch/*=ignore\n\n*.log=append\n*=replace\n", &line, &overflow),
            RuleError::None);
  EXPECT_FALSE(overflow);
  EXPECT_EQ(table->size(), 3u);
  EXPECT_EQ(table->policy_for("/scratch/run.log"), FilePolicy::Ignore);
  EXPECT_EQ(table->policy_for("/home/run.log"), FilePolicy::Append);
  EXPECT_EQ(table->policy_for("/home/input.dat"), FilePolicy::Replace);
  ASSERT_EQ(table->load(nullptr, &line, &overflow), RuleError::None);
  EXPECT_EQ(table->policy_for("/home/input.dat"), FilePolicy::Merge);
}

TEST(PolicyTable, ReportsTheLineOfABadRuleAndKeepsTheOnesBefore) {
  auto table = std::make_unique<PolicyTable>();
  size_t line;
  bool overflow;
  EXPECT_EQ(table->load("/a=merge\n/b=append\n/c=sideways\n/d=ignore", &line, &overflow), RuleError::UnknownPolicy);
  EXPECT_EQ(line, 3u);
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(table->policy_for("/b"), FilePolicy::Append);
  EXPECT_EQ(table->policy_for("/d"), FilePolicy::Merge);
}

TEST(PolicyTable, TooManyRulesIsAnOverflow) {
  auto table = std::make_unique<PolicyTable>();
  std::string text;
  for (size_t i = 0; i <= PolicyTable::kMaxRules; ++i) text += "/f" + std::to_string(i) + "=ignore\n";
  size_t line;
  bool overflow;
  EXPECT_EQ(table->load(text.c_str(), &line, &overflow), RuleError::None);
  EXPECT_TRUE(overflow);
  EXPECT_EQ(line, PolicyTable::kMaxRules + 1);
  EXPECT_EQ(table->size(), PolicyTable::kMaxRules);
}

}  // namespace
