// The environment file a restart applies (ckpt_restart --env-file,
// --modify-env): DMTCP's dmtcp_env.txt format, applied without malloc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "restart_env.h"

namespace ckpt {
namespace {

struct Warnings {
  std::vector<std::string> lines;
  static void add(int line, const char* why, void* self) {
    static_cast<Warnings*>(self)->lines.push_back(std::to_string(line) + ": " + why);
  }
};

struct Edited {
  std::vector<std::string> env;
  std::vector<std::string> warnings;
  int changes = 0;
};

Edited edit(std::vector<std::string> start, const std::string& file) {
  std::vector<char*> env;
  for (std::string& s : start) env.push_back(s.data());
  env.push_back(nullptr);
  EnvEditor editor;
  EXPECT_TRUE(editor.begin(env.data(), 16, 4096));
  Warnings w;
  Edited out;
  out.changes = editor.apply_file(file.data(), file.size(), Warnings::add, &w);
  for (char** e = editor.result(); *e; ++e) out.env.push_back(*e);
  out.warnings = w.lines;
  return out;
}

using Env = std::vector<std::string>;

TEST(RestartEnv, SetsReplacesAndRemovesInPlace) {
  const Edited e = edit({"A=1", "B=2", "C=3"}, "B=two\nA\nD=4\n");
  EXPECT_EQ(e.env, (Env{"B=two", "C=3", "D=4"}));
  EXPECT_EQ(e.changes, 3);
  EXPECT_TRUE(e.warnings.empty());
}

TEST(RestartEnv, CommentsBlanksAndTrailingCommentsAreSkipped) {
  const Edited e = edit({}, "# a comment\n\n   \nX=1   # why\nY=  # empty\n");
  EXPECT_EQ(e.env, (Env{"X=1", "Y="}));
}

TEST(RestartEnv, QuotesKeepBlanksAndEscapesKeepTheCharacter) {
  const Edited e = edit({}, "Q=\"a b # c\"\nE=x\\ y\\\"z\n");
  EXPECT_EQ(e.env, (Env{"Q=a b # c", "E=x y\"z"}));
}

TEST(RestartEnv, DollarNamesTheValueAsChangedByTheLinesAbove) {
  const Edited e = edit({"HOME=/old", "USER=u"}, "HOME=/new\nP=$HOME/bin:$USER:$NOPE.\n");
  EXPECT_EQ(e.env, (Env{"HOME=/new", "USER=u", "P=/new/bin:u:."}));
}

TEST(RestartEnv, BadLinesAreReportedAndSkipped) {
  const Edited e = edit({"A=1"}, "1X=2\nA B\nA=\"open\nB-C=1\nOK=yes");
  EXPECT_EQ(e.env, (Env{"A=1", "OK=yes"}));
  EXPECT_EQ(e.warnings, (std::vector<std::string>{"1: does not begin with a variable name",
                                                  "2: a name without '=' followed by more than a comment",
                                                  "3: a quote is not closed",
                                                  "4: the variable name is not followed by '='"}));
}

TEST(RestartEnv, RemovingAnUnsetNameChangesNothing) {
  const Edited e = edit({"A=1"}, "B\n");
  EXPECT_EQ(e.env, (Env{"A=1"}));
}

}  // namespace
}  // namespace ckpt
