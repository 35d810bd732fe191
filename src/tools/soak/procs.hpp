// --procs: runs the generator as N forked processes, each with its own loop and
// its share of the sessions (so each stays under the per-process descriptor
// limit and uses its own core), reporting once a second to the parent over a
// pipe, one text line per Interval and a last line with its Final. The parent
// only collects: it merges the lines into the Collector as they arrive.
#pragma once

#include <vector>

#include "tools/soak/collector.hpp"
#include "tools/soak/env.hpp"
#include "tools/soak/runner.hpp"

namespace sb::soak {

// Splits the run into `procs` shares: sessions in even-sized blocks (so --peers
// pairs stay inside one process), rates in proportion.
std::vector<Share> make_shares(const Options& options);

// Runs every share (in this process when there is one, else in children) and
// feeds the Collector. Returns false when a child failed to report.
bool run_shares(const Options& options, const Env& prototype, const std::vector<Share>& shares,
                Collector& collector);

}  // namespace sb::soak
