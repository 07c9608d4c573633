// Proving that a connection to a coordinator belongs to its computation.
//
// Every computation has a secret: 32 random bytes, kept as 64 hex digits in a
// file only its owner can read (by default <private dir>/coordinator-PORT.secret,
// see ckpt/environment.h). Each connection runs a challenge-response over it
// before its first protocol message, so the secret never crosses the network:
//
//   client -> coordinator  AuthStart      nonce_c
//   coordinator -> client  AuthChallenge  nonce_s, HMAC(secret, "coordinator" nonce_c nonce_s)
//   client -> coordinator  AuthProof      HMAC(secret, "client" nonce_c nonce_s)
//
// Both sides prove knowledge of the secret (the client checks the coordinator
// first, so a stranger listening on the port learns nothing it could replay:
// the nonces are fresh, and the two roles are told apart by their labels).
// HMAC-SHA-256 comes from libsodium, linked statically and kept private
// inside libckpt.so.
//
// Used by libckpt.so inside the application: no exceptions, no allocation.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::auth {

inline constexpr size_t kSecretBytes = 32;
inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kMacBytes = 32;

struct Secret {
  uint8_t bytes[kSecretBytes];
};

struct AuthStartPayload {
  uint8_t nonce[kNonceBytes];
};
struct AuthChallengePayload {
  uint8_t nonce[kNonceBytes];
  uint8_t mac[kMacBytes];
};
struct AuthProofPayload {
  uint8_t mac[kMacBytes];
};

enum class Role { Coordinator, Client };

// Fresh unpredictable bytes (getrandom).
bool random_bytes(void* out, size_t len);

// HMAC(secret, label(role) || client_nonce || server_nonce).
void compute_mac(const Secret& secret, Role role, const uint8_t* client_nonce, const uint8_t* server_nonce,
                 uint8_t out[kMacBytes]);
// Constant-time comparison of two MACs.
bool mac_equal(const uint8_t a[kMacBytes], const uint8_t b[kMacBytes]);

// Reads a secret file. It must be a regular file (no symbolic link), owned by
// the effective user, with no permission for group or others, and hold 64 hex
// digits. On failure returns false with a one-line reason in `why`.
bool read_secret(const char* path, Secret& out, char* why, size_t why_cap);

// Reads the secret file at `path`, or makes one with a fresh secret if there is
// none (atomically: a racing creator's file wins, and is read). Mode 0600.
bool load_or_create_secret(const char* path, Secret& out, char* why, size_t why_cap);

// The client side of the handshake on a connected, blocking socket: sends
// AuthStart, checks the coordinator's proof, sends ours. Waits at most
// `timeout_ms` for the challenge. On failure returns false with a reason in
// `why` (the coordinator did not prove it knows the secret, or did not answer).
// The coordinator's verdict on our proof arrives later: an AuthRefused message
// in place of the first reply.
bool client_handshake(int fd, const Secret& secret, int timeout_ms, char* why, size_t why_cap);

}  // namespace ckpt::auth
