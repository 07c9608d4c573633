#include "ckpt/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium/crypto_auth_hmacsha256.h>
#include <sodium/crypto_verify_32.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/protocol.h"

namespace ckpt::auth {

namespace {

constexpr char kCoordinatorLabel[] = "ckpt coordinator v2";
constexpr char kClientLabel[] = "ckpt client v2";

// why = a + b + c, truncated to the buffer (no allocation, no locale).
void say(char* why, size_t cap, const char* a, const char* b = "", const char* c = "") {
  if (cap == 0) return;
  size_t n = 0;
  const char* parts[] = {a, b, c};
  for (const char* part : parts)
    for (const char* p = part; *p && n + 1 < cap; ++p) why[n++] = *p;
  why[n] = '\0';
}

const char* errno_text(int err) {
  const char* text = strerrordesc_np(err);
  return text ? text : "unknown error";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly len bytes, waiting at most until `deadline_ms` of poll time runs out.
bool read_all(int fd, void* data, size_t len, int& timeout_ms) {
  char* p = static_cast<char*>(data);
  while (len) {
    pollfd pfd{fd, POLLIN, 0};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    ssize_t n = recv(fd, p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool send_message(int fd, proto::MsgType type, const void* payload, uint32_t len) {
  proto::MsgHeader h = proto::make_header(type, len);
  return write_all(fd, &h, sizeof h) && write_all(fd, payload, len);
}

}  // namespace

bool random_bytes(void* out, size_t len) {
  char* p = static_cast<char*>(out);
  while (len) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

void compute_mac(const Secret& secret, Role role, const uint8_t* client_nonce, const uint8_t* server_nonce,
                 uint8_t out[kMacBytes]) {
  const char* label = role == Role::Coordinator ? kCoordinatorLabel : kClientLabel;
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, secret.bytes, sizeof secret.bytes);
  // The label's NUL goes in too: no label is a prefix of the other's input.
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(label), strlen(label) + 1);
  crypto_auth_hmacsha256_update(&st, client_nonce, kNonceBytes);
  crypto_auth_hmacsha256_update(&st, server_nonce, kNonceBytes);
  crypto_auth_hmacsha256_final(&st, out);
}

bool mac_equal(const uint8_t a[kMacBytes], const uint8_t b[kMacBytes]) { return crypto_verify_32(a, b) == 0; }

bool read_secret(const char* path, Secret& out, char* why, size_t why_cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    say(why, why_cap, path, ": ", errno == ELOOP ? "a symbolic link, not a secret file" : errno_text(errno));
    return false;
  }
  struct stat st;
  char text[2 * kSecretBytes + 2];
  ssize_t n = -1;
  bool ok = false;
  if (fstat(fd, &st) != 0) {
    say(why, why_cap, path, ": ", errno_text(errno));
  } else if (!S_ISREG(st.st_mode)) {
    say(why, why_cap, path, ": not a regular file");
  } else if (st.st_uid != geteuid()) {
    say(why, why_cap, path, ": not owned by this user (someone else's secret?)");
  } else if ((st.st_mode & 077) != 0) {
    say(why, why_cap, path, ": readable or writable by others (chmod 600 it, or make a new one)");
  } else if ((n = read(fd, text, sizeof text)) < 2 * static_cast<ssize_t>(kSecretBytes)) {
    say(why, why_cap, path, ": too short for a secret (64 hex digits)");
  } else {
    ok = n == 2 * kSecretBytes || (n == 2 * kSecretBytes + 1 && text[2 * kSecretBytes] == '\n');
    for (size_t i = 0; ok && i < kSecretBytes; ++i) {
      int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      out.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (!ok) say(why, why_cap, path, ": not a secret (64 hex digits)");
  }
  close(fd);
  return ok;
}

bool load_or_create_secret(const char* path, Secret& out, char* why, size_t why_cap) {
  struct stat st;
  if (lstat(path, &st) == 0 || errno != ENOENT) return read_secret(path, out, why, why_cap);
  // Written in full under a temporary name, then linked into place: link()
  // never replaces, so of two racing creators one wins and both read its file.
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, getpid()) >= static_cast<int>(sizeof tmp)) {
    say(why, why_cap, path, ": name too long");
    return false;
  }
  Secret fresh;
  char text[2 * kSecretBytes + 1];
  static const char kHex[] = "0123456789abcdef";
  if (!random_bytes(fresh.bytes, sizeof fresh.bytes)) {
    say(why, why_cap, "getrandom: ", errno_text(errno));
    return false;
  }
  for (size_t i = 0; i < kSecretBytes; ++i) {
    text[2 * i] = kHex[fresh.bytes[i] >> 4];
    text[2 * i + 1] = kHex[fresh.bytes[i] & 15];
  }
  text[2 * kSecretBytes] = '\n';
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    say(why, why_cap, tmp, ": ", errno_text(errno));
    return false;
  }
  bool written = write(fd, text, sizeof text) == static_cast<ssize_t>(sizeof text) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!written) {
    unlink(tmp);
    say(why, why_cap, tmp, ": ", errno_text(err));
    return false;
  }
  int linked = link(tmp, path);
  err = errno;
  unlink(tmp);
  if (linked != 0 && err != EEXIST) {
    say(why, why_cap, path, ": ", errno_text(err));
    return false;
  }
  return read_secret(path, out, why, why_cap);
}

bool client_handshake(int fd, const Secret& secret, int timeout_ms, char* why, size_t why_cap) {
  AuthStartPayload start;
  if (!random_bytes(start.nonce, sizeof start.nonce)) {
    say(why, why_cap, "getrandom: ", errno_text(errno));
    return false;
  }
  if (!send_message(fd, proto::MsgType::AuthStart, &start, sizeof start)) {
    say(why, why_cap, "sending the handshake: ", errno_text(errno));
    return false;
  }
  proto::MsgHeader h;
  if (!read_all(fd, &h, sizeof h, timeout_ms)) {
    say(why, why_cap, "no answer to the handshake (not a ckpt coordinator, or an older version?)");
    return false;
  }
  if (!proto::header_is_valid(h)) {
    say(why, why_cap, "not a ckpt coordinator of this version (bad handshake reply)");
    return false;
  }
  if (h.type == static_cast<uint16_t>(proto::MsgType::AuthRefused)) {
    char reason[256];
    size_t keep = h.payload_len < sizeof reason - 1 ? h.payload_len : sizeof reason - 1;
    if (!read_all(fd, reason, keep, timeout_ms)) keep = 0;
    reason[keep] = '\0';
    say(why, why_cap, "refused by the coordinator: ", keep ? reason : "no reason given");
    return false;
  }
  AuthChallengePayload challenge;
  if (h.type != static_cast<uint16_t>(proto::MsgType::AuthChallenge) || h.payload_len != sizeof challenge ||
      !read_all(fd, &challenge, sizeof challenge, timeout_ms)) {
    say(why, why_cap, "not a ckpt coordinator of this version (unexpected handshake reply)");
    return false;
  }
  uint8_t expected[kMacBytes];
  compute_mac(secret, Role::Coordinator, start.nonce, challenge.nonce, expected);
  if (!mac_equal(expected, challenge.mac)) {
    say(why, why_cap, "the coordinator does not know this computation's secret (another user's or computation's coordinator?)");
    return false;
  }
  AuthProofPayload proof;
  compute_mac(secret, Role::Client, start.nonce, challenge.nonce, proof.mac);
  if (!send_message(fd, proto::MsgType::AuthProof, &proof, sizeof proof)) {
    say(why, why_cap, "sending the handshake: ", errno_text(errno));
    return false;
  }
  return true;
}

}  // namespace ckpt::auth
