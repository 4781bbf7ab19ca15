// `stillontime-operator render -f CR.yaml [--api-versions 1.20|latest]`: prints
// every child the reconciler would apply, as a multi-document YAML stream, with
// no cluster. Generated Secrets carry placeholder values (marked
// GENERATED-AT-APPLY-TIME); the operator draws the real ones once, at apply time.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "stillontime/api_versions.h"

namespace sot::stillontime {

// args: what follows "render" on the command line (a leading "render" is
// skipped). Returns 0 on success, 1 when the file cannot be read or a resource
// is invalid (field errors go to `err`), 2 on a usage error.
int render_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The part of render_command after the file is read: `text` is the file's
// content, `file` names it in messages. Same return values.
int render_text(const std::string& text, const std::string& file, const std::string& versions_name, std::ostream& out,
                std::ostream& err);

}  // namespace sot::stillontime
