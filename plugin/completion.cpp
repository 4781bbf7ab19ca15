#include "plugin/completion.h"

#include <sstream>

#include "plugin/cli.h"

namespace sot::plugin {
namespace {

struct Candidate {
  std::string value;
  std::string description;
};

bool takes_value(const std::string& word) {
  const FlagSpec* f = find_flag(word);
  return f != nullptr && f->value != nullptr;
}

}  // namespace

std::string complete(const std::vector<std::string>& words_in, CompletionSource& source) {
  std::vector<std::string> words = words_in;
  if (words.empty()) words.push_back("");
  std::string partial = words.back();
  words.pop_back();

  // What the words before the partial one say.
  std::string command, name, ns, value_flag;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() > 1 && w[0] == '-') {
      const auto eq = w.find('=');
      const std::string flag = eq == std::string::npos ? w : w.substr(0, eq);
      const FlagSpec* f = find_flag(flag);
      if (f == nullptr || f->value == nullptr || eq != std::string::npos) {
        if (f != nullptr && std::string(f->name) == "--namespace" && eq != std::string::npos) ns = w.substr(eq + 1);
        continue;
      }
      if (i + 1 < words.size()) {
        if (std::string(f->name) == "--namespace") ns = words[i + 1];
        ++i;
      } else {
        value_flag = f->name;  // the partial word is this flag's value
      }
      continue;
    }
    if (command.empty()) {
      command = w;
    } else if (name.empty()) {
      name = w;
    }
  }
  // --flag=partial: complete the value after '='.
  std::string value_prefix;
  if (value_flag.empty() && partial.size() > 1 && partial[0] == '-') {
    if (const auto eq = partial.find('='); eq != std::string::npos && takes_value(partial.substr(0, eq))) {
      value_flag = find_flag(partial.substr(0, eq))->name;
      value_prefix = partial.substr(0, eq + 1);
      partial = partial.substr(eq + 1);
    }
  }

  std::vector<Candidate> out;
  int directive = kDirectiveNoFileComp;
  auto add_all = [&](const std::vector<std::string>& values) {
    for (const auto& v : values) out.push_back({v, ""});
  };
  const CommandSpec* cmd = find_command(command);
  if (!value_flag.empty()) {
    if (value_flag == "--namespace" || value_flag == "--operator-namespace") {
      add_all(source.namespaces());
    } else if (value_flag == "--output") {
      add_all(command == "status" ? std::vector<std::string>{"text", "json", "yaml"}
                                  : std::vector<std::string>{"text", "json"});
    } else if (value_flag == "--to" || value_flag == "--version") {
      if (!name.empty()) add_all(source.versions(ns, name));
    } else if (value_flag == "--from") {
      if (!name.empty()) add_all(source.backups(ns, name));
    } else if (value_flag == "--kubeconfig" || value_flag == "--file") {
      directive = kDirectiveDefault;
    } else if (value_flag == "--timeout") {
      add_all({"30s", "2m", "5m", "10m", "30m", "1h"});
    }
  } else if (partial.size() > 0 && partial[0] == '-') {
    std::vector<const FlagSpec*> flags;
    if (cmd != nullptr) {
      flags = flags_of(*cmd);
    } else {
      for (const char* g : global_flags()) flags.push_back(find_flag(g));
    }
    for (const FlagSpec* f : flags) {
      out.push_back({f->name, f->help});
      if (f->shorthand != nullptr && partial.rfind("--", 0) != 0) out.push_back({f->shorthand, f->help});
    }
  } else if (cmd == nullptr) {
    for (const auto& c : commands()) {
      if (!c.hidden) out.push_back({c.name, c.summary});
    }
  } else if (command == "completion") {
    if (name.empty()) add_all({"bash", "zsh"});
  } else if (command == "help") {
    if (name.empty()) {
      for (const auto& c : commands()) {
        if (!c.hidden) out.push_back({c.name, c.summary});
      }
    }
  } else if (command != "version" && name.empty()) {
    add_all(source.resources(ns));
  }

  std::ostringstream text;
  for (const auto& c : out) {
    if (c.value.rfind(partial, 0) != 0) continue;
    text << value_prefix << c.value;
    if (!c.description.empty()) text << "\t" << c.description;
    text << "\n";
  }
  text << ":" << directive << "\n";
  return text.str();
}

std::string completion_script(const std::string& shell) {
  if (shell == "bash") {
    return R"(# bash completion for kubectl-stillontime
#   source <(kubectl-stillontime completion bash)
# `kubectl stillontime ...` completes through kubectl itself (1.26+), which runs
# kubectl_complete-stillontime (installed beside the plugin) with the same protocol.
_kubectl_stillontime() {
  local out directive line
  out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive=${out##*:}
  out=${out%:*}
  COMPREPLY=()
  while IFS= read -r line; do
    [[ -n $line ]] && COMPREPLY+=("${line%%$'\t'*}")
  done <<<"$out"
  if (( (directive & 4) != 0 )); then
    compopt +o default 2>/dev/null || true
  fi
  return 0
}
complete -o default -F _kubectl_stillontime kubectl-stillontime
)";
  }
  if (shell == "zsh") {
    return R"(#compdef kubectl-stillontime
# zsh completion for kubectl-stillontime
#   kubectl-stillontime completion zsh > "${fpath[1]}/_kubectl-stillontime"
# or, for this shell only: source <(kubectl-stillontime completion zsh)
_kubectl-stillontime() {
  local out directive line value
  local -a lines candidates
  out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("${(@f)out}")
  directive=${lines[-1]#:}
  lines=("${(@)lines[1,-2]}")
  for line in "${lines[@]}"; do
    [[ -z $line ]] && continue
    value=${line%%$'\t'*}
    value=${value//:/\\:}
    if [[ $line == *$'\t'* ]]; then
      candidates+=("${value}:${line#*$'\t'}")
    else
      candidates+=("${value}")
    fi
  done
  if (( ${#candidates} )); then
    _describe -t values 'values' candidates
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
if [[ "${funcstack[1]}" == "_kubectl-stillontime" ]]; then
  _kubectl-stillontime "$@"
else
  compdef _kubectl-stillontime kubectl-stillontime
fi
)";
  }
  return {};
}

}  // namespace sot::plugin
