// The input of the protocol fuzzer: a script of steps a network shell
// could deliver to the coordinator's state machine. One byte says what
// happens, then its operands (integers little-endian):
//
//   0 Connect                       a new connection
//   1 Data        target:1 len:2 bytes[len]   bytes arrive on a connection
//   2 Disconnect  target:1          a connection closes
//   3 Timer       kind:1 value:4    a timer fires (value picks the token)
//   4 ScriptResult value:1          the oldest script write ends (odd: failed)
//   5 Wait        value:2           the clock moves value * 100 ms
//
// `target` indexes the open connections (modulo their number). Shared by
// the fuzzer and the seed writer (make_seeds.cpp), so the seeds decode as
// they were meant.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ckpt::fuzz {

struct Step {
  enum Kind : uint8_t { Connect, Data, Disconnect, Timer, ScriptResult, Wait, kKinds };
  Kind kind = Connect;
  uint32_t target = 0;
  uint32_t value = 0;
  std::string data;
};

class StepReader {
 public:
  StepReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  // The next step; false at the end of the input. A step cut short takes
  // what is left.
  bool next(Step& s) {
    if (p_ == end_) return false;
    s.kind = static_cast<Step::Kind>(*p_++ % Step::kKinds);
    s.target = s.value = 0;
    s.data.clear();
    switch (s.kind) {
      case Step::Connect: break;
      case Step::Data: {
        s.target = take(1);
        const size_t len = std::min<size_t>(take(2), end_ - p_);
        s.data.assign(reinterpret_cast<const char*>(p_), len);
        p_ += len;
        break;
      }
      case Step::Disconnect: s.target = take(1); break;
      case Step::Timer: s.target = take(1); s.value = take(4); break;
      case Step::ScriptResult: s.value = take(1); break;
      case Step::Wait: s.value = take(2) * 100; break;
      case Step::kKinds: break;
    }
    return true;
  }

 private:
  uint32_t take(int bytes) {
    uint32_t v = 0;
    for (int i = 0; i < bytes && p_ != end_; ++i) v |= uint32_t{*p_++} << (8 * i);
    return v;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

class StepWriter {
 public:
  void connect() { out_ += char(Step::Connect); }
  void data(uint8_t target, const std::string& bytes) {
    // Longer messages go in several steps, as TCP may deliver them.
    for (size_t done = 0; done < bytes.size() || done == 0;) {
      const size_t len = std::min<size_t>(bytes.size() - done, 0xffff);
      out_ += char(Step::Data);
      put(target, 1);
      put(static_cast<uint32_t>(len), 2);
      out_.append(bytes, done, len);
      done += len;
      if (len == 0) break;
    }
  }
  void disconnect(uint8_t target) { out_ += char(Step::Disconnect); put(target, 1); }
  void timer(uint8_t kind, uint32_t value) { out_ += char(Step::Timer); put(kind, 1); put(value, 4); }
  void script_result(bool failed) { out_ += char(Step::ScriptResult); put(failed ? 1 : 0, 1); }
  void wait_ms(uint32_t ms) { out_ += char(Step::Wait); put(ms / 100, 2); }
  const std::string& bytes() const { return out_; }

 private:
  void put(uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>(v >> (8 * i));
  }
  std::string out_;
};

}  // namespace ckpt::fuzz
