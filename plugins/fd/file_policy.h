// File policies by path glob (IRIX CPR's merge/ignore/append/replace/
// substitute), shared by ckpt_launch (which validates and encodes the rules)
// and the fd plugin (which matches them while the process is frozen: no
// allocation, no fnmatch, no locale).
//
// Rule syntax: "GLOB=POLICY". The last '=' splits, so a glob may contain '='
// (a policy name never does); blanks around GLOB and POLICY are ignored.
// Globs match the whole absolute path of a file:
//   *      any run of characters, '/' included (so "*.log" matches every log)
//   ?      any one character
//   [...]  one character of the set: ranges "a-z", negated by a leading '!' or '^';
//          a ']' right after '[' (or after the negation) is a member
//   \c     the character c itself
//
// CKPT_FILE_POLICY (the environment contract between ckpt_launch and the
// plugin) holds the rules in order, one per line; empty lines and lines whose
// first non-blank is '#' are ignored. That is also the format of a
// --file-policy-file. The first rule whose glob matches a path decides; a
// path no rule matches gets Merge.
#pragma once

#include <stddef.h>

#include "tree_sections.h"

namespace ckpt::fd {

using image::FilePolicy;

enum class RuleError {
  None,
  MissingEquals,   // no '=' in the rule
  EmptyGlob,
  BadGlob,         // an unterminated '[...]' or a trailing '\'
  UnknownPolicy,
};

// A one-line description of the error ("unknown policy (use merge, ...)").
const char* rule_error_text(RuleError e);

// Parses one rule; on success `glob`/`glob_len` point into `text`.
struct Rule {
  const char* glob;
  size_t glob_len;
  FilePolicy policy;
};
RuleError parse_rule(const char* text, size_t len, Rule* out);

// Parses a policy name ("merge" ... "substitute"); false if unknown.
bool parse_policy_name(const char* name, size_t len, FilePolicy* out);
const char* policy_name(FilePolicy p);

// Whether `glob` (of `glob_len` bytes) is well formed.
bool glob_valid(const char* glob, size_t glob_len);

// Whether the NUL-terminated `text` matches the whole of `glob`.
bool glob_match(const char* glob, size_t glob_len, const char* text);

// Whether a line of a rules file or of CKPT_FILE_POLICY holds a rule (not
// blank, not a comment).
bool is_rule_line(const char* line, size_t len);

// The rules of one CKPT_FILE_POLICY value, copied into fixed storage.
class PolicyTable {
 public:
  static constexpr size_t kMaxRules = 256;
  static constexpr size_t kMaxText = 64 * 1024;  // bytes of all globs together

  // Replaces the table with the rules of `encoded` (NULL: none). Returns
  // RuleError::None, or the first error (with its 1-based line in *line);
  // the table then holds the rules before that line. Too many rules or too
  // much text is reported as `overflow`.
  RuleError load(const char* encoded, size_t* line, bool* overflow);

  // The policy of the first rule matching `path`; Merge if none does.
  FilePolicy policy_for(const char* path) const;

  size_t size() const { return count_; }

 private:
  struct Entry {
    unsigned offset;
    unsigned len;
    FilePolicy policy;
  };
  Entry rules_[kMaxRules] = {};
  char text_[kMaxText] = {};
  size_t count_ = 0;
  size_t used_ = 0;
};

}  // namespace ckpt::fd
