#include "file_policy.h"

#include <string.h>

namespace ckpt::fd {
namespace {

constexpr size_t kNone = ~size_t{0};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void trim(const char*& s, size_t& len) {
  while (len > 0 && is_blank(*s)) ++s, --len;
  while (len > 0 && is_blank(s[len - 1])) --len;
}

// The end of the bracket expression that starts at glob[i] == '[' (the index
// just past its ']'), or kNone if it is not closed.
size_t class_end(const char* g, size_t n, size_t i) {
  ++i;
  if (i < n && (g[i] == '!' || g[i] == '^')) ++i;
  bool first = true;
  while (i < n) {
    if (g[i] == ']' && !first) return i + 1;
    if (g[i] == '\\') {
      if (++i == n) return kNone;
    }
    first = false;
    ++i;
  }
  return kNone;
}

bool class_contains(const char* g, size_t begin, size_t end, unsigned char c) {
  size_t i = begin + 1;
  bool negate = g[i] == '!' || g[i] == '^';
  if (negate) ++i;
  bool found = false;
  end -= 1;  // the closing ']'
  while (i < end) {
    unsigned char lo = static_cast<unsigned char>(g[i] == '\\' ? g[++i] : g[i]);
    ++i;
    unsigned char hi = lo;
    if (i + 1 < end && g[i] == '-') {
      hi = static_cast<unsigned char>(g[i + 1] == '\\' ? g[i + 2] : g[i + 1]);
      i += g[i + 1] == '\\' ? 3 : 2;
    }
    if (lo <= c && c <= hi) found = true;
  }
  return found != negate;
}

// Whether the single-character element at glob[gi] ('?', a class, an escaped
// or a plain character) matches c; *next is the index after the element.
bool element_matches(const char* g, size_t n, size_t gi, char c, size_t* next) {
  switch (g[gi]) {
    case '?':
      *next = gi + 1;
      return true;
    case '[': {
      size_t end = class_end(g, n, gi);
      if (end == kNone) break;  // an unterminated '[' is a literal (glob_valid rejects it)
      *next = end;
      return class_contains(g, gi, end, static_cast<unsigned char>(c));
    }
    case '\\':
      if (gi + 1 < n) {
        *next = gi + 2;
        return g[gi + 1] == c;
      }
      break;
  }
  *next = gi + 1;
  return g[gi] == c;
}

struct PolicyName {
  const char* name;
  FilePolicy policy;
};
constexpr PolicyName kPolicyNames[] = {
    {"merge", FilePolicy::Merge},       {"ignore", FilePolicy::Ignore},
    {"append", FilePolicy::Append},     {"replace", FilePolicy::Replace},
    {"substitute", FilePolicy::Substitute},
};

}  // namespace

const char* rule_error_text(RuleError e) {
  switch (e) {
    case RuleError::None:
      return "ok";
    case RuleError::MissingEquals:
      return "expected GLOB=POLICY";
    case RuleError::EmptyGlob:
      return "empty glob";
    case RuleError::BadGlob:
      return "malformed glob (an unclosed '[' or a trailing '\\')";
    case RuleError::UnknownPolicy:
      return "unknown policy (use merge, ignore, append, replace or substitute)";
  }
  return "?";
}

bool parse_policy_name(const char* name, size_t len, FilePolicy* out) {
  for (const PolicyName& p : kPolicyNames) {
    if (strlen(p.name) == len && memcmp(p.name, name, len) == 0) {
      *out = p.policy;
      return true;
    }
  }
  return false;
}

const char* policy_name(FilePolicy policy) {
  for (const PolicyName& p : kPolicyNames)
    if (p.policy == policy) return p.name;
  return "?";
}

bool glob_valid(const char* g, size_t n) {
  for (size_t i = 0; i < n;) {
    if (g[i] == '[') {
      i = class_end(g, n, i);
      if (i == kNone) return false;
    } else if (g[i] == '\\') {
      if (i + 1 == n) return false;
      i += 2;
    } else {
      ++i;
    }
  }
  return true;
}

bool glob_match(const char* g, size_t n, const char* text) {
  // Greedy matching with one backtrack point: the last '*' seen absorbs one
  // more character whenever the rest fails. Linear in practice, no recursion.
  size_t gi = 0, ti = 0, star_g = kNone, star_t = 0;
  while (text[ti] != '\0') {
    if (gi < n && g[gi] == '*') {
      star_g = ++gi;
      star_t = ti;
      continue;
    }
    size_t next;
    if (gi < n && element_matches(g, n, gi, text[ti], &next)) {
      gi = next;
      ++ti;
      continue;
    }
    if (star_g == kNone) return false;
    gi = star_g;
    ti = ++star_t;
  }
  while (gi < n && g[gi] == '*') ++gi;
  return gi == n;
}

RuleError parse_rule(const char* text, size_t len, Rule* out) {
  size_t eq = kNone;
  for (size_t i = 0; i < len; ++i)
    if (text[i] == '=') eq = i;
  if (eq == kNone) return RuleError::MissingEquals;
  const char* glob = text;
  size_t glob_len = eq;
  const char* name = text + eq + 1;
  size_t name_len = len - eq - 1;
  trim(glob, glob_len);
  trim(name, name_len);
  if (glob_len == 0) return RuleError::EmptyGlob;
  if (!glob_valid(glob, glob_len)) return RuleError::BadGlob;
  if (!parse_policy_name(name, name_len, &out->policy)) return RuleError::UnknownPolicy;
  out->glob = glob;
  out->glob_len = glob_len;
  return RuleError::None;
}

bool is_rule_line(const char* line, size_t len) {
  trim(line, len);
  return len > 0 && line[0] != '#';
}

RuleError PolicyTable::load(const char* encoded, size_t* line, bool* overflow) {
  count_ = used_ = 0;
  *overflow = false;
  *line = 0;
  if (encoded == nullptr) return RuleError::None;
  size_t number = 0;
  for (const char* p = encoded; *p != '\0';) {
    const char* eol = strchr(p, '\n');
    size_t len = eol ? static_cast<size_t>(eol - p) : strlen(p);
    ++number;
    if (is_rule_line(p, len)) {
      Rule rule;
      RuleError err = parse_rule(p, len, &rule);
      if (err != RuleError::None) {
        *line = number;
        return err;
      }
      if (count_ == kMaxRules || rule.glob_len > kMaxText - used_) {
        *line = number;
        *overflow = true;
        return RuleError::None;
      }
      memcpy(text_ + used_, rule.glob, rule.glob_len);
      rules_[count_++] = {static_cast<unsigned>(used_), static_cast<unsigned>(rule.glob_len), rule.policy};
      used_ += rule.glob_len;
    }
    p += len + (eol ? 1 : 0);
  }
  return RuleError::None;
}

FilePolicy PolicyTable::policy_for(const char* path) const {
  for (size_t i = 0; i < count_; ++i)
    if (glob_match(text_ + rules_[i].offset, rules_[i].len, path)) return rules_[i].policy;
  return FilePolicy::Merge;
}

}  // namespace ckpt::fd
