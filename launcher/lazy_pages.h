// Lazy restart: a restored process runs again before its memory is read.
// Its private anonymous regions are registered with a userfaultfd (missing
// pages); a page server, a process of its own outside the computation,
// reads a chunk of the image (compressed or not: every region's data is in
// chunks with their own checksums) when a page of it is first touched,
// checks the chunk's checksum, decompresses it if it is compressed, and
// streams every other chunk in meanwhile (in pieces, serving faults between
// them), then closes the userfaultfd and tells the process (struct
// ckpt_lazy_done on its socket) before it exits.
//
// The application's madvise(DONTNEED), munmap and mremap reach the server as
// events (UFFD_EVENT_REMOVE/UNMAP/REMAP) before they return: the pages they
// drop are never brought back, the pages they move are loaded where they went.
// libckpt makes every fork and checkpoint of the process wait for the
// server's message (a fork child's memory is not registered).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image_reader.h"

namespace ckpt {

// Whether a userfaultfd that also takes faults from the kernel (a read()
// into a page not in yet) can be had here; `why` says why not. A user-mode
// only one would not do: such a read would fail with EFAULT.
bool lazy_pages_available(std::string& why);

// Whether region `r` of `img` is loaded lazily: private anonymous memory
// with stored pages, neither a stack (the restorer
// runs on it), nor shared, nor a plugin's, nor a file's, nor inherited from a
// parent image (an incremental image's: read from the chain in full).
bool loads_lazily(const image::ImageReader& img, const image::Region& r);

struct LazyServer {
  int uffd = -1;    // for the restorer: registers the regions, then closes it
  int app_fd = -1;  // the restored process's end of the server's socket (ckpt_restart_handoff.lazy_fd)
};

// Creates this process's userfaultfd and starts the page server for
// `regions` (of `img`, all loads_lazily) in a process of its own (double
// fork, own session: not a child the application could wait for). Throws
// RestartError.
LazyServer start_lazy_server(const image::ImageReader& img, const std::vector<const image::Region*>& regions);

}  // namespace ckpt
