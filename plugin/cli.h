// The command line of kubectl-stillontime: its commands, their flags and help
// texts, parsed into one typed Invocation. Pure: no cluster, no files, so the
// parser, the help and the completion of flags are unit-tested as they are.
//
//   kubectl stillontime COMMAND [NAME] [flags]
//
// Global flags (every command): -n/--namespace, --kubeconfig, --context, -h/--help.
// Flags take their value as the next word or after '=' (--timeout=5m, -n=ns, -nns).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/result.h"

namespace sot::plugin {

// Exit codes, the same for every command (docs/operations.md lists them).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;   // refused, an API error, stalled, a failed Job or check
inline constexpr int kExitUsage = 2;    // the command line is wrong
inline constexpr int kExitTimeout = 3;  // --wait ran out of --timeout

// The field manager of every write the plugin makes.
inline constexpr const char* kFieldManager = "kubectl-stillontime";

enum class Output { kText, kJson, kYaml };

struct Invocation {
  std::string command;            // "status", "deploy", ..., "help", "version", "completion", "__complete"
  std::string name;               // the StillOnTime
  std::optional<std::string> ns;  // -n; unset: the kubeconfig context's namespace, else "default"
  std::string kubeconfig;
  std::string context;
  Output output = Output::kText;
  std::string version;  // deploy --version
  std::string to;       // rollback --to
  std::string from;     // restore --from
  std::string id;       // backup / restore --id
  bool wait = false;
  std::optional<std::chrono::seconds> timeout;  // --timeout; unset: the command's default
  bool force = false;
  std::string file;  // report --file
  std::string operator_namespace = "stillontime-system";
  int log_lines = 2000;  // report --log-lines
  std::string shell;     // completion bash|zsh
  bool help = false;
  std::string help_topic;          // help COMMAND
  std::vector<std::string> words;  // __complete: the words to complete, the last one partial
};

struct FlagSpec {
  const char* name;       // "--namespace"
  const char* shorthand;  // "-n" or nullptr
  const char* value;      // "NS"; nullptr for a boolean flag
  const char* help;
};

struct CommandSpec {
  const char* name;
  const char* args;                // "NAME", "bash|zsh", "" ...
  const char* summary;             // one line for the overview and completion
  const char* description;         // the paragraph of `COMMAND --help`
  std::vector<const char*> flags;  // long names beyond the global ones
  bool hidden = false;
};

const std::vector<CommandSpec>& commands();
const CommandSpec* find_command(std::string_view name);
const FlagSpec* find_flag(std::string_view long_or_short);
// The global flags (every command takes them).
const std::vector<const char*>& global_flags();
// Every flag `command` accepts, global ones last.
std::vector<const FlagSpec*> flags_of(const CommandSpec& command);

// Parses argv[1..]. Errors (code kInvalid) say what is wrong and what to type.
kube::Result<Invocation> parse_args(const std::vector<std::string>& args);

// "30s", "5m", "1h30m", "90" (seconds); 1 s to 24 h.
kube::Result<std::chrono::seconds> parse_duration(std::string_view text);
// "4m30s", "45s", "2h0m": the form parse_duration reads.
std::string format_duration(std::chrono::seconds d);

// The overview (`topic` empty) or one command's help.
std::string help_text(std::string_view topic);

// Kubernetes object names: a DNS-1123 subdomain for resources, a label for namespaces.
bool valid_resource_name(std::string_view name);
bool valid_namespace(std::string_view name);

}  // namespace sot::plugin
