// The commands of kubectl-stillontime. run() is what main() calls: it parses
// the command line, answers help/version/completion without a cluster, opens
// a Session for the rest and returns the exit code (cli.h). Everything the
// plugin writes goes through the StillOnTime resource with field manager
// kubectl-stillontime (spec.version by server-side apply; the backup-request
// annotation, spec.restore and spec.paused by merge patch, which never
// removes fields an earlier apply of ours set); the operator does the work.
// The one object it creates itself is the short-lived pod of `backups`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "plugin/backups.h"
#include "plugin/cli.h"

namespace sot::plugin {

class Session;

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// report (report.cpp).
int report_command(Session& session, const Invocation& inv, std::ostream& out, std::ostream& err);

// Lists the dumps of a (defaulted) resource through the listing pod; progress to `out`.
kube::Result<BackupListing> list_backups(Session& session, const stillontime::StillOnTime& resource,
                                         std::chrono::seconds timeout, std::ostream& out);

}  // namespace sot::plugin
