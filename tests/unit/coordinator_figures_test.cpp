// A checkpoint's figures as the coordinator adds them up and ckpt_command
// prints them, and the check of a peer's figures.
#include <gtest/gtest.h>

#include "checkpoint_figures.h"

namespace ckpt::coord {
namespace {

using namespace std::chrono_literals;

stats::WrittenFigures written(uint64_t scanned, uint64_t zero, uint64_t untouched, uint64_t written_pages,
                              uint64_t stored, uint64_t write_ns, uint64_t sync_ns) {
  stats::WrittenFigures w{};
  w.version = stats::kVersion;
  w.image.pages_scanned = scanned;
  w.image.pages_skipped_zero = zero;
  w.image.pages_skipped_untouched = untouched;
  w.image.pages_written = written_pages;
  w.image.bytes_raw = written_pages * stats::kPageSize;
  w.image.bytes_compressed = stored;
  w.image.write_ns = write_ns;
  w.sync_ns = sync_ns;
  return w;
}

ProcessFigures process(uint32_t id, std::optional<stats::WrittenFigures> w, std::optional<uint64_t> pause_ns) {
  ProcessFigures p;
  p.id = id;
  p.program = "sim";
  p.pid = 100 + static_cast<int>(id);
  p.host = "node1";
  p.image = "/ckpt/img" + std::to_string(id);
  p.written = w;
  p.pause_ns = pause_ns;
  return p;
}

TEST(CheckpointFigures, TotalsAddCountsAndTakeTheLongestTimes) {
  const cli::Json j = checkpoint_figures_json(
      {process(1, written(100, 30, 20, 50, 9000, 7'000'000, 2'000'000), 4'000'000),
       process(2, written(10, 0, 0, 10, 5000, 9'000'000, 1'000'000), 6'500'000)},
      3ms);
  EXPECT_DOUBLE_EQ(j["freeze_ms"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["pause_ms"].get<double>(), 6.5);
  const cli::Json& t = j["totals"];
  EXPECT_EQ(t["pages_scanned"], 110u);
  EXPECT_EQ(t["pages_skipped_zero"], 30u);
  EXPECT_EQ(t["pages_skipped_untouched"], 20u);
  EXPECT_EQ(t["pages_written"], 60u);
  EXPECT_EQ(t["bytes_raw"], 60u * 4096);
  EXPECT_EQ(t["bytes_compressed"], 14000u);
  EXPECT_DOUBLE_EQ(t["write_ms"].get<double>(), 9.0);
  EXPECT_DOUBLE_EQ(t["sync_ms"].get<double>(), 2.0);
  EXPECT_EQ(t["processes_reporting"], 2u);
  ASSERT_EQ(j["processes"].size(), 2u);
  const cli::Json& p = j["processes"][0];
  EXPECT_EQ(p["id"], 1u);
  EXPECT_EQ(p["image"], "/ckpt/img1");
  EXPECT_EQ(p["pages_written"], 50u);
  EXPECT_DOUBLE_EQ(p["pause_ms"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(p["write_ms"].get<double>(), 7.0);
}

TEST(CheckpointFigures, WhatNobodyReportedIsNull) {
  // An older libckpt reports neither figures nor pause; --then-kill has no pause.
  const cli::Json j = checkpoint_figures_json({process(1, std::nullopt, std::nullopt)}, std::nullopt);
  EXPECT_TRUE(j["freeze_ms"].is_null());
  EXPECT_TRUE(j["pause_ms"].is_null());
  EXPECT_TRUE(j["totals"]["write_ms"].is_null());
  EXPECT_EQ(j["totals"]["pages_written"], 0u);
  EXPECT_EQ(j["totals"]["processes_reporting"], 0u);
  EXPECT_TRUE(j["processes"][0]["pause_ms"].is_null());
  EXPECT_FALSE(j["processes"][0].contains("pages_written"));
  EXPECT_EQ(checkpoint_figures_line(j), "");
}

TEST(CheckpointFigures, SummaryLineNamesEveryFigure) {
  const cli::Json j = checkpoint_figures_json(
      {process(1, written(300, 100, 150, 50, 102400, 20'000'000, 5'000'000), 12'340'000)}, 2'500us);
  EXPECT_EQ(checkpoint_figures_line(j),
            "pause 12.3 ms; freeze 2.5 ms; pages 300 scanned, 50 written, 250 skipped (untouched 150, zero 100, "
            "file 0, unchanged 0); 200.0 KiB raw, 100.0 KiB stored; write 20.0 ms; sync 5.0 ms");
}

TEST(CheckpointFiguresCheck, AcceptsFiguresThatAddUp) {
  EXPECT_EQ(stats::check(written(100, 30, 20, 50, 9000, 1, 1)), nullptr);
}

TEST(CheckpointFiguresCheck, RefusesFiguresThatCannotBeTrue) {
  auto w = written(100, 30, 20, 50, 9000, 1, 1);
  w.image.pages_written = 51;
  w.image.bytes_raw = 51 * stats::kPageSize;
  EXPECT_STREQ(stats::check(w), "the pages written and skipped do not add up to the pages scanned");
  w = written(100, 30, 20, 50, 9000, 1, 1);
  w.image.bytes_raw += 1;
  EXPECT_NE(stats::check(w), nullptr);
  w = written(100, 30, 20, 50, 50 * stats::kPageSize + 16 * 50 + 1, 1, 1);
  EXPECT_NE(stats::check(w), nullptr);
  w = written(100, 30, 20, 50, 9000, stats::kMaxNs + 1, 1);
  EXPECT_NE(stats::check(w), nullptr);
  w = written(100, 30, 20, 50, 9000, 1, stats::kMaxNs + 1);
  EXPECT_NE(stats::check(w), nullptr);
  w = written(100, 30, 20, 50, 9000, 1, 1);
  w.version = 2;
  EXPECT_STREQ(stats::check(w), "unknown figures version");
  // Counts past the address space whose sum wraps round to pages_scanned.
  w = written(100, 30, 20, 50, 9000, 1, 1);
  w.image.pages_skipped_zero += uint64_t{1} << 63;
  w.image.pages_skipped_untouched += uint64_t{1} << 63;
  EXPECT_NE(stats::check(w), nullptr);
}

}  // namespace
}  // namespace ckpt::coord
