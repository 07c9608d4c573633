// Names in a checkpoint directory (ckpt/image_names.h), what the coordinator
// finds there, and how a generation's scripts are committed.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ckpt/image_names.h"
#include "generations.h"
#include "restart_script.h"

namespace ckpt::coord {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/ckpt-generations-test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
  void touch(const std::string& name) const { std::ofstream(path + "/" + name) << "x"; }
  std::string path;
};

TEST(ImageNames, ImagesAndTheirTemporariesAreKnownByGenerationAndProcess) {
  char path[256];
  names::image_path(path, sizeof path, "/ck", "sim_2", "ab12", 17);
  EXPECT_STREQ(path, "/ck/ckpt_sim_2_ab12_g17.ckpt");
  names::ImageName image;
  ASSERT_TRUE(names::parse_image_name("ckpt_sim_2_ab12_g17.ckpt", &image));
  EXPECT_EQ(image.generation, 17u);
  EXPECT_FALSE(image.temporary);
  ASSERT_TRUE(names::parse_image_name("ckpt_sim_2_ab12_g17.ckpt.tmp.4242", &image, "ab12"));
  EXPECT_EQ(image.generation, 17u);
  EXPECT_TRUE(image.temporary);
  EXPECT_FALSE(names::parse_image_name("ckpt_sim_2_ab12_g17.ckpt", &image, "b12")) << "another process's";
  EXPECT_FALSE(names::parse_image_name("ckpt_sim_2_ab12_g17.ckpt", &image, "cd34"));
  for (const char* other : {"ckpt_restart_script.sh", "ckpt_x_g.ckpt", "ckpt_x_gx1.ckpt", "img_x_g1.ckpt",
                            "ckpt_x_g1.ckpt.tmp.", "ckpt_x_g1.ckpt.tmp.12a", "ckpt_x_g1.ckptx"})
    EXPECT_FALSE(names::parse_image_name(other, &image)) << other;
}

TEST(ImageNames, ScriptsAreKnownByGeneration) {
  char name[64];
  names::script_name(name, sizeof name, 9);
  EXPECT_STREQ(name, "ckpt_restart_g9.sh");
  uint64_t g = 0;
  ASSERT_TRUE(names::parse_script_name("ckpt_restart_g123.sh", &g));
  EXPECT_EQ(g, 123u);
  for (const char* other : {"ckpt_restart_script.sh", "ckpt_restart_g.sh", "ckpt_restart_g1.sh.abc123",
                            "ckpt_restart_g1x.sh"})
    EXPECT_FALSE(names::parse_script_name(other, &g)) << other;
}

TEST(Generations, ScanFindsTheHighestGenerationAndTheCommittedOnes) {
  TempDir dir;
  dir.touch("ckpt_restart_g3.sh");
  RestartScriptInfo info;
  info.generation = 5;
  info.images = {dir.path + "/ckpt_sim_ab_g5.ckpt", dir.path + "/it's here/ckpt_b_cd_g5.ckpt"};
  std::ofstream(dir.path + "/ckpt_restart_g5.sh") << render_restart_script(info);
  dir.touch("ckpt_restart_script.sh");
  dir.touch("ckpt_sim_ab_g5.ckpt");
  dir.touch("ckpt_sim_ab_g7.ckpt.tmp.99");  // a writer of an uncommitted generation died
  dir.touch("notes.txt");
  const DirGenerations found = scan_generations(dir.path);
  EXPECT_EQ(found.highest, 7u);
  ASSERT_EQ(found.committed.size(), 2u);
  EXPECT_TRUE(found.committed.at(3).empty());
  EXPECT_EQ(found.committed.at(5), info.images) << "the images its script names";
  EXPECT_EQ(scan_generations(dir.path + "/missing").highest, 0u);
}

TEST(Generations, ScriptsAreCommittedTogetherOrNotAtAll) {
  TempDir dir;
  const std::string own = generation_script_path(dir.path, 4), latest = dir.path + "/ckpt_restart_script.sh";
  EXPECT_EQ(own, dir.path + "/ckpt_restart_g4.sh");
  ASSERT_EQ(write_generation_scripts(own, latest, "#!/bin/sh\n"), "");
  EXPECT_TRUE(fs::exists(own));
  EXPECT_TRUE(fs::exists(latest));
  // The latest script cannot be replaced (a directory is in its way): the
  // generation's own script goes too, so nothing names generation 5.
  const std::string own5 = generation_script_path(dir.path, 5);
  fs::remove(latest);
  fs::create_directory(latest);
  fs::create_directory(latest + "/x");
  EXPECT_NE(write_generation_scripts(own5, latest, "#!/bin/sh\n"), "");
  EXPECT_FALSE(fs::exists(own5));
}

}  // namespace
}  // namespace ckpt::coord
