// The connection handshake (ckpt/auth.h): secret files, MACs, and the client
// side against a coordinator played by the test over a socketpair.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "ckpt/auth.h"
#include "client.h"

namespace ckpt::auth {
namespace {

namespace fs = std::filesystem;
using proto::MsgType;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_auth_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  fs::path dir_;
  char why_[512] = {};
};

bool same(const Secret& a, const Secret& b) { return std::memcmp(a.bytes, b.bytes, sizeof a.bytes) == 0; }

TEST_F(AuthTest, CreatesAPrivateSecretOnceAndReadsItBack) {
  Secret first{}, again{}, read{};
  ASSERT_TRUE(load_or_create_secret(path("s").c_str(), first, why_, sizeof why_)) << why_;
  struct stat st {};
  ASSERT_EQ(::stat(path("s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(fs::file_size(path("s")), 65u);  // 64 hex digits and a newline
  ASSERT_TRUE(load_or_create_secret(path("s").c_str(), again, why_, sizeof why_)) << why_;
  EXPECT_TRUE(same(first, again)) << "a second start made a new secret";
  ASSERT_TRUE(read_secret(path("s").c_str(), read, why_, sizeof why_)) << why_;
  EXPECT_TRUE(same(first, read));
  Secret other{};
  ASSERT_TRUE(load_or_create_secret(path("t").c_str(), other, why_, sizeof why_)) << why_;
  EXPECT_FALSE(same(first, other)) << "two computations got the same secret";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2) << "a temporary file was left";
}

TEST_F(AuthTest, RefusesSecretFilesOthersCouldReadOrPlant) {
  Secret s{};
  ASSERT_TRUE(load_or_create_secret(path("s").c_str(), s, why_, sizeof why_)) << why_;

  fs::permissions(path("s"), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_FALSE(read_secret(path("s").c_str(), s, why_, sizeof why_));
  EXPECT_NE(std::string(why_).find("readable or writable by others"), std::string::npos) << why_;
  EXPECT_FALSE(load_or_create_secret(path("s").c_str(), s, why_, sizeof why_)) << "an unsafe file was used";
  fs::permissions(path("s"), fs::perms::owner_read | fs::perms::owner_write);

  fs::create_symlink(path("s"), path("link"));
  EXPECT_FALSE(read_secret(path("link").c_str(), s, why_, sizeof why_));
  EXPECT_NE(std::string(why_).find("symbolic link"), std::string::npos) << why_;
  EXPECT_FALSE(load_or_create_secret(path("link").c_str(), s, why_, sizeof why_));

  std::ofstream(path("short")) << "abc\n";
  fs::permissions(path("short"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(read_secret(path("short").c_str(), s, why_, sizeof why_));
  std::ofstream(path("junk")) << std::string(64, 'x') << "\n";
  fs::permissions(path("junk"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(read_secret(path("junk").c_str(), s, why_, sizeof why_));
  EXPECT_NE(std::string(why_).find("not a secret"), std::string::npos) << why_;

  fs::create_directory(path("dir"));
  EXPECT_FALSE(read_secret(path("dir").c_str(), s, why_, sizeof why_));
  EXPECT_FALSE(read_secret(path("missing").c_str(), s, why_, sizeof why_));
  EXPECT_NE(std::string(why_).find("No such file"), std::string::npos) << why_;

  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(path("s").c_str(), 65534, 65534), 0);
    EXPECT_FALSE(read_secret(path("s").c_str(), s, why_, sizeof why_)) << "another user's file was used";
    EXPECT_NE(std::string(why_).find("not owned by this user"), std::string::npos) << why_;
  }
}

TEST_F(AuthTest, MacsDependOnSecretRoleAndBothNonces) {
  Secret a{}, b{};
  ASSERT_TRUE(random_bytes(a.bytes, sizeof a.bytes));
  ASSERT_TRUE(random_bytes(b.bytes, sizeof b.bytes));
  uint8_t nc[kNonceBytes], ns[kNonceBytes];
  ASSERT_TRUE(random_bytes(nc, sizeof nc));
  ASSERT_TRUE(random_bytes(ns, sizeof ns));
  uint8_t base[kMacBytes], other[kMacBytes];
  compute_mac(a, Role::Client, nc, ns, base);
  compute_mac(a, Role::Client, nc, ns, other);
  EXPECT_TRUE(mac_equal(base, other));
  compute_mac(b, Role::Client, nc, ns, other);
  EXPECT_FALSE(mac_equal(base, other)) << "the secret does not matter";
  compute_mac(a, Role::Coordinator, nc, ns, other);
  EXPECT_FALSE(mac_equal(base, other)) << "a coordinator's proof could be replayed as a client's";
  compute_mac(a, Role::Client, ns, nc, other);
  EXPECT_FALSE(mac_equal(base, other)) << "the nonces' order does not matter";
  ns[7] ^= 1;
  compute_mac(a, Role::Client, nc, ns, other);
  EXPECT_FALSE(mac_equal(base, other)) << "the server's nonce does not matter";
}

// Plays the coordinator's side of one handshake with `secret` on `fd`;
// `refuse` answers AuthRefused instead. Returns whether the client's proof was right.
bool play_coordinator(int fd, const Secret& secret, bool refuse) {
  proto::MsgHeader h{};
  AuthStartPayload start{};
  if (::read(fd, &h, sizeof h) != sizeof h || h.type != static_cast<uint16_t>(MsgType::AuthStart) ||
      ::read(fd, &start, sizeof start) != sizeof start)
    return false;
  if (refuse) {
    const std::string why = "this coordinator belongs to uid 1, not to uid 2";
    const auto r = proto::make_header(MsgType::AuthRefused, static_cast<uint32_t>(why.size()));
    const std::string bytes = std::string(reinterpret_cast<const char*>(&r), sizeof r) + why;
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    return false;
  }
  AuthChallengePayload challenge{};
  random_bytes(challenge.nonce, sizeof challenge.nonce);
  compute_mac(secret, Role::Coordinator, start.nonce, challenge.nonce, challenge.mac);
  const auto c = proto::make_header(MsgType::AuthChallenge, sizeof challenge);
  if (::write(fd, &c, sizeof c) != sizeof c || ::write(fd, &challenge, sizeof challenge) != sizeof challenge) return false;
  AuthProofPayload proof{};
  if (::read(fd, &h, sizeof h) != sizeof h || h.type != static_cast<uint16_t>(MsgType::AuthProof) ||
      ::read(fd, &proof, sizeof proof) != sizeof proof)
    return false;
  uint8_t expected[kMacBytes];
  compute_mac(secret, Role::Client, start.nonce, challenge.nonce, expected);
  return mac_equal(expected, proof.mac);
}

struct Outcome {
  bool client_ok;
  bool proof_ok;
  std::string why;
};

Outcome handshake(const Secret& client, const Secret& coordinator, bool refuse = false) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  bool proof_ok = false;
  std::thread server([&] {
    proof_ok = play_coordinator(sv[1], coordinator, refuse);
    ::close(sv[1]);
  });
  char why[512] = {};
  const bool ok = client_handshake(sv[0], client, 5000, why, sizeof why);
  ::close(sv[0]);
  server.join();
  return {ok, proof_ok, why};
}

TEST_F(AuthTest, HandshakeSucceedsOnlyWithTheSameSecret) {
  Secret s{}, wrong{};
  random_bytes(s.bytes, sizeof s.bytes);
  random_bytes(wrong.bytes, sizeof wrong.bytes);
  Outcome good = handshake(s, s);
  EXPECT_TRUE(good.client_ok) << good.why;
  EXPECT_TRUE(good.proof_ok);
  // A coordinator without our secret: we stop before sending any proof.
  Outcome stranger = handshake(s, wrong);
  EXPECT_FALSE(stranger.client_ok);
  EXPECT_FALSE(stranger.proof_ok);
  EXPECT_NE(stranger.why.find("does not know this computation's secret"), std::string::npos) << stranger.why;
  Outcome refused = handshake(s, s, true);
  EXPECT_FALSE(refused.client_ok);
  EXPECT_NE(refused.why.find("refused by the coordinator: this coordinator belongs to uid 1"), std::string::npos)
      << refused.why;
}

TEST_F(AuthTest, HandshakeWithSomethingElseTimesOut) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Secret s{};
  char why[512] = {};
  EXPECT_FALSE(client_handshake(sv[0], s, 200, why, sizeof why));
  EXPECT_NE(std::string(why).find("no answer to the handshake"), std::string::npos) << why;
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace
}  // namespace ckpt::auth
