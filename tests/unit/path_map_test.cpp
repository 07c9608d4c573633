// The path map of plugins/path (VIRTUAL=REAL prefixes, as the wrappers
// apply them both ways) and ckpt_launch's --path-map, its twin and DMTCP's
// DMTCP_PATH_MAPPING.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "launch_options.h"
#include "launch_parse_util.h"
#include "path_map.h"

namespace {

using ckpt::path::MapError;
using ckpt::path::PathMap;

std::unique_ptr<PathMap> load(const char* text, MapError expected = MapError::None) {
  auto map = std::make_unique<PathMap>();
  size_t line;
  EXPECT_EQ(map->load(text, &line), expected) << text;
  return map;
}

// The rewritten path, or "-" when nothing covers it.
std::string real(const PathMap& m, const std::string& path, size_t cap = 4096) {
  std::vector<char> out(cap);
  return m.to_real(path.data(), path.size(), out.data(), cap) < 0 ? "-" : std::string(out.data());
}
std::string virt(const PathMap& m, const std::string& path) {
  char out[4096];
  return m.to_virtual(path.data(), path.size(), out, sizeof out) < 0 ? "-" : std::string(out);
}

TEST(PathMap, PrefixCoversWholeComponentsOnly) {
  auto m = load("/data=/mnt/new\n");
  EXPECT_EQ(real(*m, "/data"), "/mnt/new");
  EXPECT_EQ(real(*m, "/data/a/b"), "/mnt/new/a/b");
  EXPECT_EQ(real(*m, "/database"), "-");
  EXPECT_EQ(real(*m, "/dat"), "-");
  EXPECT_EQ(real(*m, "data/x"), "-");
}

TEST(PathMap, LongestVirtualPrefixWins) {
  auto m = load("/a=/x\n/a/b=/y\n");
  EXPECT_EQ(real(*m, "/a/c"), "/x/c");
  EXPECT_EQ(real(*m, "/a/b/c"), "/y/c");
  EXPECT_EQ(real(*m, "/a/bc"), "/x/bc");
}

TEST(PathMap, ResultsOfTheKernelGoBackToTheVirtualPath) {
  auto m = load("/virtual/tree=/physical\n");
  EXPECT_EQ(virt(*m, "/physical/f.txt"), "/virtual/tree/f.txt");
  EXPECT_EQ(virt(*m, "/physical"), "/virtual/tree");
  EXPECT_EQ(virt(*m, "/physicalx"), "-");
  EXPECT_EQ(virt(*m, "/virtual/tree/f"), "-") << "a virtual path is not rewritten again";
}

TEST(PathMap, TrailingSlashesAreDroppedAndBlankLinesSkipped) {
  auto m = load("\n/v/=/r//\n\n");
  EXPECT_EQ(m->size(), 1u);
  EXPECT_EQ(real(*m, "/v/x"), "/r/x");
}

TEST(PathMap, ResultThatDoesNotFitIsNotRewritten) {
  auto m = load("/v=/a/much/longer/prefix\n");
  EXPECT_EQ(real(*m, "/v/file", 20), "-");
  EXPECT_EQ(real(*m, "/v/file", 30), "/a/much/longer/prefix/file");
}

TEST(PathMap, RewritesInPlace) {
  auto m = load("/short=/a/longer/one\n");
  char buf[64] = "/a/longer/one/f";
  EXPECT_EQ(m->to_virtual(buf, 15, buf, sizeof buf), 8);
  EXPECT_STREQ(buf, "/short/f");
  EXPECT_EQ(m->to_real(buf, 8, buf, sizeof buf), 15);
  EXPECT_STREQ(buf, "/a/longer/one/f");
}

TEST(PathMap, BadEntriesAreRefusedWithTheirLine) {
  PathMap m;
  size_t line;
  EXPECT_EQ(m.load("/a=/b\nnoequals\n", &line), MapError::MissingEquals);
  EXPECT_EQ(line, 2u);
  EXPECT_TRUE(m.empty()) << "a map with a bad entry is not used at all";
  load("rel=/b", MapError::NotAbsolute);
  load("/a=rel", MapError::NotAbsolute);
  load("=/b", MapError::NotAbsolute);
  load("/=/b", MapError::Root);
  load("/a=/", MapError::Root);
  load("/a=/b\n/a/=/c", MapError::DuplicateVirtual);
  std::string many;
  for (int i = 0; i <= 32; ++i) many += "/v" + std::to_string(i) + "=/r\n";
  load(many.c_str(), MapError::TooMuch);
  load(("/v=/" + std::string(5000, 'x')).c_str(), MapError::TooMuch);
}

TEST(PathMap, EmptyOrMissingTextIsNoMap) {
  EXPECT_TRUE(load("")->empty());
  EXPECT_TRUE(load(nullptr)->empty());
}

TEST(PathMapOption, EntriesAreCheckedAndEncodedOnePerLine) {
  auto p = parse({"--path-map", "/v=/r/", "--path-map=/w=/s", "app"});
  ASSERT_EQ(p.action, ckpt::LaunchAction::Run) << p.error;
  EXPECT_EQ(p.options.path_map.value_or("none"), "/v=/r\n/w=/s\n");
  EXPECT_FALSE(parse({"app"}).options.path_map.has_value());
}

TEST(PathMapOption, DmtcpPathMappingIsReadWhenNoOptionIsGiven) {
  Env env{{{"DMTCP_PATH_MAPPING", "/w/virtual:/w/physical;/x:/y"}}};
  EXPECT_EQ(parse({"app"}, env).options.path_map.value_or("none"), "/w/virtual=/w/physical\n/x=/y\n");
  EXPECT_EQ(parse({"--path-map", "/a=/b", "app"}, env).options.path_map.value_or("none"), "/a=/b\n");
  Env twin{{{"CKPT_PATH_MAP", "/t=/u\n"}, {"DMTCP_PATH_MAPPING", "/x:/y"}}};
  EXPECT_EQ(parse({"app"}, twin).options.path_map.value_or("none"), "/t=/u\n");
}

TEST(PathMapOption, BadEntryIsAOneLineUsageError) {
  auto p = parse({"--path-map", "relative=/r", "app"});
  EXPECT_EQ(p.action, ckpt::LaunchAction::Error);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.error, "ckpt_launch: --path-map: 'relative=/r': both paths must be absolute");
  p = parse({"--path-map", "/a=/b", "--path-map", "/a=/c", "app"});
  EXPECT_EQ(p.error, "ckpt_launch: --path-map: entry 2: the same VIRTUAL path is mapped twice");
  p = parse({"app"}, Env{{{"DMTCP_PATH_MAPPING", "/nocolon"}}});
  EXPECT_EQ(p.error, "ckpt_launch: DMTCP_PATH_MAPPING: '/nocolon': expected VIRTUAL:REAL");
}

}  // namespace
