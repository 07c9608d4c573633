// Decoders of the fd plugin's sections (libckpt/image/tree_sections.h), for
// ckpt_info: "fds" (the descriptor table, cwd, umask, rlimits),
// "fdata.<desc_id>" (a saved file's bytes) and "pipe.<ino>" (bytes drained
// from a pipe).
#include <fcntl.h>
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>

#include "image_verify.h"
#include "section_schema.h"
#include "tree_sections.h"

namespace ckpt::image {
namespace {

const char* kind_name(FdKind kind) {
  static constexpr std::pair<FdKind, const char*> kNames[] = {
      {FdKind::File, "file"},   {FdKind::Directory, "directory"}, {FdKind::Deleted, "deleted"},
      {FdKind::Pipe, "pipe"},   {FdKind::Fifo, "fifo"},           {FdKind::Device, "device"},
      {FdKind::Tty, "tty"},     {FdKind::Stdio, "stdio"},         {FdKind::Elsewhere, "elsewhere"},
      {FdKind::Lost, "lost"},   {FdKind::Inherited, "inherited"},
  };
  for (auto [k, name] : kNames)
    if (k == kind) return name;
  return nullptr;
}

const char* policy_name(FilePolicy policy) {
  switch (policy) {
    case FilePolicy::Merge: return "merge";
    case FilePolicy::Ignore: return "ignore";
    case FilePolicy::Append: return "append";
    case FilePolicy::Replace: return "replace";
    case FilePolicy::Substitute: return "substitute";
  }
  return nullptr;
}

// A name, or "unknown(N)" for a value no kind defines (a crafted image).
std::string named(const char* name, uint32_t value) {
  return name ? std::string(name) : "unknown(" + std::to_string(value) + ")";
}

const char* access_mode(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return "rdonly";
    case O_WRONLY: return "wronly";
    case O_RDWR: return "rdwr";
  }
  return "invalid";
}

// F_GETFL's bits beyond the access mode, as O_* names.
Json status_flag_names(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},           {O_NOCTTY, "O_NOCTTY"},
      {O_TRUNC, "O_TRUNC"},       {O_APPEND, "O_APPEND"},       {O_NONBLOCK, "O_NONBLOCK"},
      {O_SYNC, "O_SYNC"},         {O_DSYNC, "O_DSYNC"},         {O_ASYNC, "O_ASYNC"},
      {O_DIRECT, "O_DIRECT"},     {0100000, "O_LARGEFILE"},     {O_DIRECTORY, "O_DIRECTORY"},
      {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},     {O_CLOEXEC, "O_CLOEXEC"},
      {O_PATH, "O_PATH"}};
  Json out = Json::array();
  uint32_t rest = flags & ~uint32_t{O_ACCMODE};
  for (auto [bits, name] : kNames) {
    if ((rest & bits) != bits) continue;  // O_SYNC includes O_DSYNC's bit
    out.push_back(name);
    rest &= ~bits;
  }
  if (rest) out.push_back(octal_string(rest));
  return out;
}

const char* file_type(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "regular";
    case S_IFDIR: return "directory";
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFSOCK: return "socket";
    case S_IFLNK: return "symlink";
  }
  return mode ? "unknown" : "none";
}

std::string desc_hex(uint64_t desc_id) {
  char buf[24];
  snprintf(buf, sizeof buf, "%016" PRIx64, desc_id);
  return buf;
}

Json record_json(const FdRecord& r) {
  uint32_t kind = static_cast<uint32_t>(r.kind), policy = static_cast<uint32_t>(r.policy);
  return {{"fd", r.fd},
          {"kind", named(kind_name(r.kind), kind)},
          {"path", fixed_string(r.path)},
          {"offset", r.offset},
          {"size", r.size},
          {"fd_flags", r.fd_flags},
          {"cloexec", (r.fd_flags & FD_CLOEXEC) != 0},
          {"status_flags", r.status_flags},
          {"access", access_mode(r.status_flags)},
          {"status", status_flag_names(r.status_flags)},
          {"policy", named(policy_name(r.policy), policy)},
          {"desc_id", desc_hex(r.desc_id)},
          {"desc_vpid", static_cast<int32_t>(r.desc_id >> 32)},
          {"desc_fd", static_cast<int32_t>(r.desc_id & 0xffffffff)},
          {"stdio_index", r.stdio_index},
          {"pipe_size", r.pipe_size},
          {"has_contents", r.has_contents != 0},
          {"has_drained", r.has_drained != 0},
          {"ino", r.ino},
          {"dev", r.dev},
          {"mode", octal_string(r.mode)},
          {"type", file_type(r.mode)}};
}

// Restart opens these kinds by their paths (a deleted file's copy goes next
// to where it was): each must name a file, with no way out of its directory.
bool opened_by_path(FdKind kind) {
  return kind == FdKind::File || kind == FdKind::Directory || kind == FdKind::Deleted || kind == FdKind::Fifo ||
         kind == FdKind::Device;
}

Json decode_fds(std::string_view, Bytes bytes) {
  if (bytes.size() < sizeof(FdSectionHeader))
    throw SchemaError("fds: " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                      std::to_string(sizeof(FdSectionHeader)) + "-byte header");
  FdSectionHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  check_version(h.version, kFdSectionVersion, "fds");
  Bytes records = bytes.subspan(sizeof h);
  if (records.size() != uint64_t{h.count} * sizeof(FdRecord))
    throw SchemaError("fds: " + std::to_string(h.count) + " descriptors need " +
                      std::to_string(uint64_t{h.count} * sizeof(FdRecord)) + " bytes after the header, it has " +
                      std::to_string(records.size()));
  static constexpr const char* kLimits[kRlimitCount] = {
      "cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
      "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"};
  Json rlimits = Json::object();
  for (uint32_t i = 0; i < kRlimitCount; ++i)
    rlimits[kLimits[i]] = {{"cur", h.rlimits[i].cur}, {"max", h.rlimits[i].max}};
  Json fds = Json::array();
  for (uint32_t i = 0; i < h.count; ++i) {
    FdRecord r;
    std::memcpy(&r, records.data() + i * sizeof r, sizeof r);
    std::string path = fixed_string(r.path);
    if (opened_by_path(r.kind) && !is_plain_path(path))
      throw SchemaError("fds: fd " + std::to_string(r.fd) + " names " + path +
                        ", not " + kPlainPathRule);
    fds.push_back(record_json(r));
  }
  std::string cwd = fixed_string(h.cwd);
  if (!cwd.empty() && !is_plain_path(cwd))
    throw SchemaError("fds: the working directory " + cwd + " is not " + kPlainPathRule);
  return {{"version", h.version},
          {"count", h.count},
          {"cwd", cwd},
          {"umask", octal_string(h.umask)},
          {"rlimits", rlimits},
          {"descriptors", fds}};
}

// "fdata.<desc_id as %016lx>": the bytes of the file of description desc_id.
Json decode_file_contents(std::string_view name, Bytes bytes) {
  std::string_view id = name.substr(sizeof kFileContentsPrefix - 1);
  if (id.size() != 16 || id.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    throw SchemaError("the name does not end in a 16-digit description id");
  uint64_t desc_id = std::stoull(std::string(id), nullptr, 16);
  Json out = {{"desc_id", desc_hex(desc_id)},
                        {"desc_vpid", static_cast<int32_t>(desc_id >> 32)},
                        {"desc_fd", static_cast<int32_t>(desc_id & 0xffffffff)},
                        {"size", bytes.size()}};
  add_data(out, bytes, kDataShown);
  return out;
}

// "pipe.<ino>": bytes drained from pipe `ino` at checkpoint.
Json decode_pipe_bytes(std::string_view name, Bytes bytes) {
  std::string_view ino = name.substr(sizeof kPipeBytesPrefix - 1);
  if (ino.empty() || ino.size() > 20 || ino.find_first_not_of("0123456789") != std::string_view::npos)
    throw SchemaError("the name does not end in a pipe's inode number");
  Json out = {{"ino", std::stoull(std::string(ino))}, {"size", bytes.size()}};
  add_data(out, bytes, kDataShown);
  return out;
}

const SectionSchema kFdsSchema{kFdSection, false, decode_fds};
const SectionSchema kContentsSchema{kFileContentsPrefix, true, decode_file_contents};
const SectionSchema kPipeSchema{kPipeBytesPrefix, true, decode_pipe_bytes};
const SchemaRegistration kRegistered[] = {SchemaRegistration(kFdsSchema), SchemaRegistration(kContentsSchema),
                                          SchemaRegistration(kPipeSchema)};

}  // namespace
}  // namespace ckpt::image
