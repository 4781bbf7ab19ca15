#include "plugin/cli.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace sot::plugin {
namespace {

using kube::Code;
using kube::make_error;

const std::vector<FlagSpec>& all_flags() {
  static const std::vector<FlagSpec> kFlags = {
      {"--namespace", "-n", "NS", "namespace of the StillOnTime (default: the kubeconfig context's, else \"default\")"},
      {"--kubeconfig", nullptr, "PATH", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)"},
      {"--context", nullptr, "NAME", "kubeconfig context to use instead of current-context"},
      {"--help", "-h", nullptr, "show this help"},
      {"--output", "-o", "FORMAT", "text (default), json or yaml"},
      {"--version", nullptr, "V", "the version (image tag) to deploy, written to spec.version"},
      {"--to", nullptr, "V", "roll back to this version (it must have been Ready; default: the last one that was)"},
      {"--from", nullptr, "BACKUP", "dump file name in the backup volume, or \"latest\" (see `backups NAME`)"},
      {"--id", nullptr, "ID", "id of the request (default: a UTC timestamp); each id runs once"},
      {"--wait", nullptr, nullptr, "wait for the result, printing progress; exit 3 when --timeout runs out"},
      {"--timeout", nullptr, "DURATION", "how long --wait (or the backup listing) may take, e.g. 90s, 10m, 1h"},
      {"--force", nullptr, nullptr, "set spec.version even when a GitOps controller manages it"},
      {"--file", "-f", "PATH", "where to write the archive (default: stillontime-report-NS-NAME-TIME.tar.gz)"},
      {"--operator-namespace", nullptr, "NS", "where the operator's pods run (default stillontime-system)"},
      {"--log-lines", nullptr, "N", "last lines of each operator pod's log (default 2000)"},
  };
  return kFlags;
}

const std::vector<CommandSpec>& all_commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"status",
       "NAME",
       "conditions, components, versions, backups, restore and the children as a tree",
       "Shows the resource's conditions with reasons and ages, each component (desired/ready, image, version), the "
       "version history, the last backup runs with their results and sizes, the restore state, and every child as a "
       "tree; children that are not ready or that someone else changed (drift) are marked. -o json|yaml prints the "
       "same as a document for scripts.",
       {"--output"}},
      {"deploy",
       "NAME",
       "set spec.version (server-side apply) and optionally wait until Ready",
       "Sets spec.version with server-side apply (field manager kubectl-stillontime). With --wait, waits until the "
       "operator has observed the new generation, status.version is the new version and the resource is Ready; exits 1 "
       "with the operator's reason when it stalls and 3 when --timeout (default 10m) runs out. Refuses when a GitOps "
       "controller manages spec.version (the change would be undone at its next sync), unless --force.",
       {"--version", "--wait", "--timeout", "--force"}},
      {"rollback",
       "NAME",
       "go back to the last version that was Ready (status.versionHistory)",
       "Reads status.versionHistory (written by the operator) and deploys the newest earlier version that became "
       "Ready, or --to V when V did. Same --wait, --timeout and --force as deploy.",
       {"--to", "--wait", "--timeout", "--force"}},
      {"backup",
       "NAME",
       "take an on-demand backup now",
       "Asks the operator for an on-demand backup (annotation stillontime.app/backup-request=ID). With --wait, waits "
       "for status.backup.lastRequest to report its result (default --timeout 1h10m, the Job's own limit).",
       {"--id", "--wait", "--timeout"}},
      {"backups",
       "NAME",
       "list the dumps in the backup volume that can be restored, with ages and sizes",
       "Starts a short-lived pod (the backup pod's image and security context, the backup volume read-only, no "
       "network, no credentials) that lists the dumps, reads the list from its termination message and deletes it.",
       {"--output", "--timeout"}},
      {"restore",
       "NAME",
       "restore the database from a dump (spec.restore)",
       "Checks that the dump exists in the backup volume (as `backups` lists it), that no other restore is running and "
       "that the resource is not paused, then sets spec.restore {from, id}. The operator scales the backend to 0, runs "
       "the restore Job (a safety dump first, one transaction) and scales it back. With --wait, waits for "
       "status.restore to report Succeeded or Failed.",
       {"--from", "--id", "--wait", "--timeout"}},
      {"health",
       "NAME",
       "check every component through the API server",
       "Checks the resource's conditions, the backend's /health and /ready and the frontend's /healthz through the "
       "API server's Service proxy, and Postgres and Redis readiness from status. Prints every check; exits 0 only "
       "when all pass.",
       {"--output"}},
      {"pause",
       "NAME",
       "set spec.paused: the operator changes nothing until resume",
       "Sets spec.paused to true. With --wait, waits until the operator reports phase Paused.",
       {"--wait", "--timeout"}},
      {"resume",
       "NAME",
       "set spec.paused to false",
       "Sets spec.paused to false. With --wait, waits until the operator has observed it.",
       {"--wait", "--timeout"}},
      {"report",
       "NAME",
       "write a tar.gz of the resource, its children, events and operator logs for a bug report",
       "Collects the resource, every child, the pods and Jobs, the events, the status as `status` prints it and the "
       "last lines of the operator's logs into a tar.gz. Secrets appear with their keys only, environment values of "
       "credential-like names and passwords in URLs are replaced, env entries from secretKeyRef stay references.",
       {"--file", "--operator-namespace", "--log-lines"}},
      {"completion",
       "bash|zsh",
       "print the shell completion script",
       "Prints a completion script for kubectl-stillontime. bash: source <(kubectl-stillontime completion bash). "
       "zsh: kubectl-stillontime completion zsh > \"${fpath[1]}/_kubectl-stillontime\". `kubectl stillontime` "
       "completes through kubectl (1.26+) with the kubectl_complete-stillontime helper installed beside the plugin.",
       {}},
      {"version", "", "print the plugin's version", "Prints the plugin's version.", {}},
      {"help", "[COMMAND]", "help for a command", "Prints the overview or one command's help.", {}},
      {"__complete",
       "WORDS...",
       "completion candidates (the Cobra protocol kubectl uses for plugins)",
       "Prints the candidates for the last word, one a line, then :DIRECTIVE.",
       {},
       true},
  };
  return kCommands;
}

bool needs_resource(const std::string& command) {
  return command != "help" && command != "version" && command != "completion" && command != "__complete";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const std::vector<CommandSpec>& commands() {
  return all_commands();
}

const CommandSpec* find_command(std::string_view name) {
  for (const auto& c : all_commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const FlagSpec* find_flag(std::string_view text) {
  for (const auto& f : all_flags()) {
    if (text == f.name || (f.shorthand != nullptr && text == f.shorthand)) return &f;
  }
  return nullptr;
}

const std::vector<const char*>& global_flags() {
  static const std::vector<const char*> kGlobal = {"--namespace", "--kubeconfig", "--context", "--help"};
  return kGlobal;
}

std::vector<const FlagSpec*> flags_of(const CommandSpec& command) {
  std::vector<const FlagSpec*> out;
  for (const char* f : command.flags) out.push_back(find_flag(f));
  for (const char* f : global_flags()) out.push_back(find_flag(f));
  return out;
}

bool valid_resource_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(name.front())) &&
         std::isalnum(static_cast<unsigned char>(name.back()));
}

bool valid_namespace(std::string_view name) {
  return name.size() <= 63 && valid_resource_name(name) && name.find('.') == std::string_view::npos;
}

kube::Result<std::chrono::seconds> parse_duration(std::string_view text) {
  const std::string bad = "\"" + std::string(text) + "\" is not a duration; write e.g. 90s, 10m, 1h30m";
  if (text.empty()) return make_error(Code::kInvalid, bad);
  long long total = 0;
  std::size_t i = 0;
  bool any_unit = false;
  while (i < text.size()) {
    long long n = 0;
    const std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1000000) return make_error(Code::kInvalid, bad);
      ++i;
    }
    if (i == start) return make_error(Code::kInvalid, bad);
    if (i == text.size()) {
      if (any_unit) return make_error(Code::kInvalid, bad);  // "1m30": the unit of 30 is missing
      total += n;
      break;
    }
    const char unit = text[i++];
    any_unit = true;
    if (unit == 'h') {
      total += n * 3600;
    } else if (unit == 'm') {
      total += n * 60;
    } else if (unit == 's') {
      total += n;
    } else {
      return make_error(Code::kInvalid, bad);
    }
  }
  if (total < 1 || total > 24 * 3600) {
    return make_error(Code::kInvalid, "\"" + std::string(text) + "\" is out of range: 1s to 24h");
  }
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  if (s < 0) s = 0;
  std::ostringstream out;
  if (s >= 3600) {
    out << s / 3600 << "h" << (s % 3600) / 60 << "m";
  } else if (s >= 60) {
    out << s / 60 << "m" << s % 60 << "s";
  } else {
    out << s << "s";
  }
  return out.str();
}

kube::Result<Invocation> parse_args(const std::vector<std::string>& args) {
  Invocation inv;
  std::vector<std::string> positional;
  std::vector<std::string> given;  // long names of the flags on the line
  auto usage = [&](const std::string& message) -> kube::Result<Invocation> {
    const std::string topic = inv.command.empty() ? "" : " " + inv.command;
    return make_error(Code::kInvalid, message + " (see `kubectl stillontime" + topic + " --help`)");
  };
  // __complete takes every following word as it is: they are a partial command line.
  if (!args.empty() && args[0] == "__complete") {
    inv.command = "__complete";
    inv.words.assign(args.begin() + 1, args.end());
    return inv;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (inv.command.empty()) {
        inv.command = arg;
      } else {
        positional.push_back(arg);
      }
      continue;
    }
    // --name=value, -n=value, -nvalue
    std::string flag = arg;
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg[1] != '-' && arg.size() > 2) {
      flag = arg.substr(0, 2);
      value = arg.substr(2);
    }
    const FlagSpec* spec = find_flag(flag);
    if (spec == nullptr) return usage("unknown flag " + flag);
    if (spec->value == nullptr) {
      if (value) {
        const std::string v = lower(*value);
        if (v != "true" && v != "false") return usage(std::string(spec->name) + " takes no value");
        if (v == "false") continue;
      }
    } else if (!value) {
      if (i + 1 >= args.size()) return usage(std::string(spec->name) + " needs a value (" + spec->value + ")");
      value = args[++i];
    }
    const std::string name = spec->name;
    if (name == "--namespace") {
      if (!valid_namespace(*value)) return usage("-n: \"" + *value + "\" is not a namespace name");
      inv.ns = *value;
    } else if (name == "--kubeconfig") {
      inv.kubeconfig = *value;
    } else if (name == "--context") {
      inv.context = *value;
    } else if (name == "--help") {
      inv.help = true;
    } else if (name == "--output") {
      const std::string o = lower(*value);
      if (o == "text" || o == "wide") {
        inv.output = Output::kText;
      } else if (o == "json") {
        inv.output = Output::kJson;
      } else if (o == "yaml") {
        inv.output = Output::kYaml;
      } else {
        return usage("-o: \"" + *value + "\" is not one of text, json, yaml");
      }
    } else if (name == "--version") {
      if (value->empty()) return usage("--version needs a version, e.g. --version 1.4.2");
      inv.version = *value;
    } else if (name == "--to") {
      if (value->empty()) return usage("--to needs a version");
      inv.to = *value;
    } else if (name == "--from") {
      if (value->empty()) return usage("--from needs a dump file name or \"latest\"");
      inv.from = *value;
    } else if (name == "--id") {
      if (value->empty()) return usage("--id needs a value");
      inv.id = *value;
    } else if (name == "--wait") {
      inv.wait = true;
    } else if (name == "--timeout") {
      auto d = parse_duration(*value);
      if (!d.ok()) return usage("--timeout: " + d.error().message);
      inv.timeout = *d;
    } else if (name == "--force") {
      inv.force = true;
    } else if (name == "--file") {
      if (value->empty()) return usage("--file needs a path");
      inv.file = *value;
    } else if (name == "--operator-namespace") {
      if (!valid_namespace(*value)) return usage("--operator-namespace: \"" + *value + "\" is not a namespace name");
      inv.operator_namespace = *value;
    } else if (name == "--log-lines") {
      const std::string& v = *value;
      if (v.empty() || v.size() > 6 ||
          !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return usage("--log-lines: \"" + v + "\" is not a number from 1 to 999999");
      }
      inv.log_lines = std::stoi(v);
      if (inv.log_lines < 1) return usage("--log-lines must be at least 1");
    }
    given.push_back(name);
  }

  if (inv.command.empty()) {
    inv.command = "help";
    return inv;
  }
  const CommandSpec* cmd = find_command(inv.command);
  if (cmd == nullptr) {
    const std::string unknown = inv.command;
    inv.command.clear();
    return usage("unknown command \"" + unknown + "\"");
  }
  if (inv.help) return inv;
  // A flag of another command is a mistake worth naming.
  for (const auto& name : given) {
    const auto& globals = global_flags();
    const auto is = [&](const char* g) { return name == g; };
    if (std::none_of(globals.begin(), globals.end(), is) && std::none_of(cmd->flags.begin(), cmd->flags.end(), is)) {
      return usage(name + " is not a flag of " + inv.command);
    }
  }
  if (inv.command == "help") {
    if (positional.size() > 1) return usage("help takes one command");
    if (!positional.empty()) {
      if (find_command(positional[0]) == nullptr) return usage("unknown command \"" + positional[0] + "\"");
      inv.help_topic = positional[0];
    }
    return inv;
  }
  if (inv.command == "version") {
    if (!positional.empty()) return usage("version takes no arguments");
    return inv;
  }
  if (inv.command == "completion") {
    if (positional.size() != 1 || (positional[0] != "bash" && positional[0] != "zsh")) {
      return usage("completion needs one shell: bash or zsh");
    }
    inv.shell = positional[0];
    return inv;
  }
  if (needs_resource(inv.command)) {
    if (positional.empty()) return usage(inv.command + " needs the name of a StillOnTime");
    if (positional.size() > 1) return usage(inv.command + " takes one name, got " + std::to_string(positional.size()));
    if (!valid_resource_name(positional[0])) {
      return usage("\"" + positional[0] + "\" is not a resource name (lower-case letters, digits, '-' and '.')");
    }
    inv.name = positional[0];
  }
  if (inv.command == "deploy" && inv.version.empty()) return usage("deploy needs --version V");
  if (inv.command == "restore" && inv.from.empty())
    return usage("restore needs --from BACKUP (see `kubectl stillontime backups " + inv.name + "`)");
  if (inv.output == Output::kYaml && inv.command != "status") {
    return usage("-o yaml is for status; " + inv.command + " prints text or json");
  }
  if (inv.timeout && !inv.wait && inv.command != "backups") return usage("--timeout goes with --wait");
  return inv;
}

std::string help_text(std::string_view topic) {
  std::ostringstream out;
  auto flag_line = [&](const FlagSpec& f) {
    std::string left = "  ";
    left += f.shorthand != nullptr ? std::string(f.shorthand) + ", " : "    ";
    left += f.name;
    if (f.value != nullptr) left += std::string(" ") + f.value;
    out << left << std::string(left.size() < 34 ? 34 - left.size() : 1, ' ') << f.help << "\n";
  };
  if (topic.empty()) {
    out << "kubectl stillontime: day-2 operations on StillOnTime resources\n\n"
        << "Usage:\n  kubectl stillontime COMMAND [NAME] [flags]\n\nCommands:\n";
    for (const auto& c : all_commands()) {
      if (c.hidden) continue;
      std::string left = std::string("  ") + c.name;
      out << left << std::string(left.size() < 14 ? 14 - left.size() : 1, ' ') << c.summary << "\n";
    }
    out << "\nGlobal flags:\n";
    for (const char* f : global_flags()) flag_line(*find_flag(f));
    out << "\nExit codes: 0 done, 1 refused or failed (the message says why and what to do), 2 wrong command line,\n"
        << "3 --wait ran out of --timeout.\n"
        << "Run `kubectl stillontime COMMAND --help` for a command's flags.\n";
    return out.str();
  }
  const CommandSpec* c = find_command(topic);
  if (c == nullptr) return help_text("");
  out << "Usage:\n  kubectl stillontime " << c->name << (std::string(c->args).empty() ? "" : " ") << c->args
      << (c->flags.empty() ? "" : " [flags]") << "\n\n";
  // The description, wrapped at 100 columns.
  std::istringstream words(c->description);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > 100) {
      out << line << "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out << line << "\n";
  if (!c->flags.empty()) {
    out << "\nFlags:\n";
    for (const char* f : c->flags) flag_line(*find_flag(f));
  }
  out << "\nGlobal flags:\n";
  for (const char* f : global_flags()) flag_line(*find_flag(f));
  return out.str();
}

}  // namespace sot::plugin
