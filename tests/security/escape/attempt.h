// bh-escape: small attempts to get out of a sandbox, run from inside it.
//
// Every attempt names what it tries, the outcome the hardened defaults of `bulkhead spec`
// must produce, and why. An outcome is a set of tokens joined by '+': an errno name
// ("EPERM") for a refused call, "ok" for a call that went through, or a short fact about
// what the attempt found ("euid=1000", "in-root"). The expectation lists the tokens that
// prove containment, separated by '|'; the attempt passes when every observed token is
// among them. No attempt accepts "ok".
//
// The binary is static: the container's rootfs (busybox) has no libc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::escape {

struct Attempt {
  std::string_view name;
  std::string_view tries;     // what the attempt does, in a few words
  std::string_view expected;  // tokens separated by '|'
  std::string_view why;       // which boundary produces the expected outcome
  std::string (*run)();
};

using Attempts = std::vector<Attempt>;

// One group of attempts per facility; each file appends its own.
void AddMountAttempts(Attempts& out);
void AddProcessAttempts(Attempts& out);
void AddKernelAttempts(Attempts& out);
void AddFileAttempts(Attempts& out);
void AddRuntimeAttempts(Attempts& out);
void AddNetworkAttempts(Attempts& out);

// "ok" when rc >= 0, else the name of errno. Call right after the syscall.
std::string Outcome(long rc);
// The symbolic name of an errno value ("EPERM"), or "errno=N".
std::string ErrnoName(int err);
// A setup problem: the attempt could not be made, which fails it (a test that did not run
// proves nothing). The text starts with "setup:".
std::string Setup(std::string_view why);

// Collects the outcomes of several probes into one observation: sorted, unique, '+'-joined.
// A probe that went through is kept with its label ("ok:/proc/sys/vm/drop_caches") so the
// report says what escaped.
class Probes {
 public:
  void Add(std::string_view label, const std::string& outcome);
  // Outcomes other than ENOENT seen so far: zero means no probe found its target.
  int found() const { return found_; }
  std::string Result() const;

 private:
  std::vector<std::string> tokens_;
  int found_ = 0;
};

// Whether every token of `observed` is one of the '|'-separated tokens of `expected`.
bool Matches(std::string_view observed, std::string_view expected);

// An environment variable the runner sets, or "" when missing.
std::string Env(const char* name);

// The fd the attempt reports on; attempts that list their descriptors leave it out.
extern int g_report_fd;

// Runs argv (a path and its arguments), returns what it wrote to stdout, trimmed.
std::string RunCapture(const std::vector<std::string>& argv);

}  // namespace bulkhead::escape
