// The checks a restart makes of its images before it makes anything.
#include "image_verify.h"

#include "ckpt/image_names.h"
#include "section_schema.h"

#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "section_schema.h"

namespace ckpt::image {
namespace {

// Below this nothing is mapped if the kernel does not say (its usual default).
constexpr uint64_t kDefaultMmapMinAddr = 65536;

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_name(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string region_text(const Region& r) {
  std::string text = hex_string(r.rec.start) + "-" + hex_string(r.rec.end);
  return r.path.empty() ? text : text + " " + r.path;
}

// The image file itself: whose it is, who could have changed it, whether
// its name says what it holds.
std::string file_problem(const ImageReader& img) {
  const ProcessRecord& p = img.process();
  struct stat st;
  if (fstat(img.fd(), &st) != 0) return "cannot stat";
  if (st.st_uid != p.uid && st.st_uid != 0)
    return "owned by uid " + std::to_string(st.st_uid) + ", but it records uid " + std::to_string(p.uid) +
           " (an image must belong to the user it records, or to root)";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("writable by other users (mode ") + mode + "), who could have changed it";
  }
  std::string expected = image_file_name(p);
  if (base_name(img.path()) != expected)
    return "records program " + std::string(p.progname) + " (id " + p.unique_id + ", generation " +
           std::to_string(p.generation) + "), whose image is named " + expected + ": a foreign image under this name";
  return "";
}

// Whether `host` may run the process with the ids the image records.
std::string credentials_problem(const ProcessRecord& p, const RestartHost& host) {
  if (host.uid == 0) return "";
  if (p.uid != host.uid)
    return "records uid " + std::to_string(p.uid) + ": uid " + std::to_string(host.uid) +
           " cannot restart another user's processes (only root can)";
  bool member = p.gid == host.gid || std::find(host.groups.begin(), host.groups.end(), p.gid) != host.groups.end();
  if (!member)
    return "records gid " + std::to_string(p.gid) + ", a group uid " + std::to_string(host.uid) + " is not in";
  return "";
}

std::string threads_problem(const ImageReader& img) {
  std::set<int32_t> tids;
  int leaders = 0, checkpointers = 0;
  for (const ThreadRecord& t : img.threads()) {
    std::string which = "thread " + std::to_string(t.virt_tid);
    if (t.virt_tid <= 0) return "has a thread with the invalid id " + std::to_string(t.virt_tid);
    if (!tids.insert(t.virt_tid).second) return "has two records of " + which;
    if (t.flags & ~uint32_t{kThreadLeader | kThreadCheckpointer}) return which + " has unknown flags";
    if (t.flags & kThreadLeader) {
      if (++leaders > 1) return "has two leader threads";
      if (t.virt_tid != img.process().virt_pid)
        return "leader " + which + " is not process " + std::to_string(img.process().virt_pid);
    }
    if ((t.flags & kThreadCheckpointer) && ++checkpointers > 1) return "has two checkpoint threads";
  }
  if (leaders == 0) return "has no leader thread";
  return "";
}

std::string regions_problem(const ImageReader& img, const RestartHost& host) {
  uint64_t slot = img.process().restart_info_slot;
  bool slot_found = false;
  for (const Region& r : img.regions()) {
    // [vdso] and [vvar] are moved to their saved addresses: the same bound holds.
    if (r.rec.start < host.mmap_min_addr)
      return "region " + region_text(r) + " lies below vm.mmap_min_addr (" + std::to_string(host.mmap_min_addr) + ")";
    if (r.path.starts_with('/') && !is_plain_path(r.path))
      return "region " + region_text(r) + ": its path is not " + std::string(kPlainPathRule);
    slot_found |= slot >= r.rec.start && slot < r.rec.end && r.rec.end - slot >= sizeof(uint64_t) &&
                  (r.rec.prot & PROT_WRITE) && !(r.rec.flags & kRegionVdso);
  }
  // The restorer writes a pointer there.
  if (!slot_found || slot % sizeof(uint64_t))
    return "its restart slot " + hex_string(slot) + " is not in writable memory of the process";
  return "";
}

std::string process_paths_problem(const ProcessRecord& p) {
  for (const char* path : {p.cwd, p.exe})
    if (path[0] == '/' && !is_plain_path(path))
      return std::string("records the path ") + path + ", not " + kPlainPathRule;
  return "";
}

std::string sections_problem(const ImageReader& img) {
  for (const Section& s : img.sections()) {
    Json decoded = decode_section(s.name, s.data);
    if (decoded.contains("error")) return decoded["error"].get<std::string>();
  }
  return "";
}

// What every image of one checkpoint of one computation records alike. A
// new field of that kind (a computation id) is one more line.
struct SharedField {
  const char* what;
  std::string (*value)(const ProcessRecord&);
};
const SharedField kSameInEveryImage[] = {
    {"computation", [](const ProcessRecord& p) { return hex_string(p.computation_id); }},
    {"generation", [](const ProcessRecord& p) { return std::to_string(p.generation); }},
    {"computation size", [](const ProcessRecord& p) { return std::to_string(p.computation_size); }},
    {"uid", [](const ProcessRecord& p) { return std::to_string(p.uid); }},
    {"gid", [](const ProcessRecord& p) { return std::to_string(p.gid); }},
};
// What no two images of one checkpoint record alike.
const SharedField kDistinctInEveryImage[] = {
    {"unique id", [](const ProcessRecord& p) { return std::string(p.unique_id); }},
    {"pid", [](const ProcessRecord& p) { return std::to_string(p.virt_pid) + " on " + p.hostname; }},
};

// Images of `generation` next to `dir` that were not given (a partial set's
// likely missing members).
std::vector<std::string> not_given(const std::string& dir, uint64_t generation,
                                   const std::vector<const ImageReader*>& images) {
  std::vector<std::string> out;
  std::string suffix = "_g" + std::to_string(generation) + ".ckpt";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (!name.starts_with("ckpt_") || !name.ends_with(suffix)) continue;
    bool given = std::any_of(images.begin(), images.end(),
                             [&](const ImageReader* img) { return base_name(img->path()) == name; });
    if (!given) out.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

RestartHost RestartHost::current() {
  RestartHost host;
  host.uid = getuid();
  host.gid = getgid();
  int n = getgroups(0, nullptr);
  std::vector<gid_t> groups(n > 0 ? n : 0);
  n = getgroups(static_cast<int>(groups.size()), groups.data());
  for (int i = 0; i < n; ++i) host.groups.push_back(groups[i]);
  host.mmap_min_addr = kDefaultMmapMinAddr;
  std::ifstream("/proc/sys/vm/mmap_min_addr") >> host.mmap_min_addr;
  return host;
}

std::string image_file_name(const ProcessRecord& p) {
  char name[256];
  if (!names::image_name(name, sizeof name, p.progname, p.unique_id, p.generation)) return {};
  return name;
}

bool is_plain_path(std::string_view path) {
  if (!path.starts_with('/')) return false;
  if (path == "/") return true;
  for (size_t at = 1;;) {
    size_t end = std::min(path.find('/', at), path.size());
    std::string_view part = path.substr(at, end - at);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == path.size()) return true;
    at = end + 1;
  }
}

bool verify_image(const ImageReader& img, const RestartHost& host, std::string& error) {
  std::string why = file_problem(img);
  if (why.empty()) why = credentials_problem(img.process(), host);
  if (why.empty()) why = threads_problem(img);
  if (why.empty()) why = regions_problem(img, host);
  if (why.empty()) why = process_paths_problem(img.process());
  if (why.empty()) why = sections_problem(img);
  if (why.empty()) return true;
  error = "image " + img.path() + ": " + why;
  return false;
}

bool verify_image_set(const std::vector<const ImageReader*>& images, std::string& error, bool host_share) {
  if (images.empty()) {
    error = "no images";
    return false;
  }
  const ImageReader& first = *images[0];
  for (const ImageReader* img : images)
    for (const SharedField& f : kSameInEveryImage) {
      std::string mine = f.value(img->process()), theirs = f.value(first.process());
      if (mine == theirs) continue;
      error = "image " + img->path() + " is not of the checkpoint of image " + first.path() + ": its " + f.what +
              " is " + mine + ", not " + theirs;
      return false;
    }
  for (const SharedField& f : kDistinctInEveryImage) {
    std::map<std::string, const ImageReader*> seen;
    for (const ImageReader* img : images) {
      auto [at, fresh] = seen.emplace(f.value(img->process()), img);
      if (fresh) continue;
      error = "images " + at->second->path() + " and " + img->path() + " record the same " + f.what + " " +
              at->first + " (one process twice?)";
      return false;
    }
  }
  const ProcessRecord& p = first.process();
  if (images.size() == p.computation_size || (host_share && images.size() < p.computation_size)) return true;
  error = "the images are " + std::to_string(images.size()) + " of the " + std::to_string(p.computation_size) +
          " processes of checkpoint " + std::to_string(p.generation);
  if (images.size() > p.computation_size) {
    error += ", more than it had";
    return false;
  }
  error += ": " + std::to_string(p.computation_size - images.size()) + " missing";
  std::vector<std::string> missing = not_given(dir_name(first.path()), p.generation, images);
  for (size_t i = 0; i < missing.size(); ++i) error += (i ? ", " : " (not given: ") + missing[i];
  if (!missing.empty()) error += ")";
  return false;
}

}  // namespace ckpt::image
