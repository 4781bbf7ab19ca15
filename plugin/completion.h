// Shell completion. Both shells call back into the binary with the hidden
// command `__complete WORDS...` (Cobra's protocol: candidates one a line,
// "value<TAB>description", then ":DIRECTIVE"), which is also what kubectl
// 1.26+ runs through the helper `kubectl_complete-stillontime` to complete
// `kubectl stillontime ...`. Candidates that need the cluster (resource
// names, namespaces, versions from status.versionHistory, dumps) come from a
// CompletionSource, so the logic is unit-tested with a fake.
#pragma once

#include <string>
#include <vector>

namespace sot::plugin {

// Cobra's ShellCompDirective bits.
inline constexpr int kDirectiveDefault = 0;  // the shell may complete files
inline constexpr int kDirectiveNoFileComp = 4;

class CompletionSource {
 public:
  virtual ~CompletionSource() = default;
  // Every answer is best effort: an unreachable cluster gives an empty list.
  virtual std::vector<std::string> resources(const std::string& ns) = 0;  // ns "": the default namespace
  virtual std::vector<std::string> namespaces() = 0;
  virtual std::vector<std::string> versions(const std::string& ns, const std::string& name) = 0;
  virtual std::vector<std::string> backups(const std::string& ns, const std::string& name) = 0;
};

// The output of `__complete words...` (the last word is the one being completed).
std::string complete(const std::vector<std::string>& words, CompletionSource& source);

// The script `completion bash|zsh` prints; "" for another shell.
std::string completion_script(const std::string& shell);

}  // namespace sot::plugin
