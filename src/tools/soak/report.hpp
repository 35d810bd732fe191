// The end of a run: the JSON report (--json; also what the HTML report embeds),
// the summary printed on stdout, the generator's verdict on itself, and the exit
// status. The JSON fields are listed in report/html_report.hpp and docs/soak.md;
// the top-level ones named in issue 7 are an interface others script against.
#pragma once

#include <string>

#include "tools/soak/collector.hpp"
#include "tools/soak/options.hpp"

namespace sb::soak {

struct RunInfo {
  std::string started_at;  // ISO-8601 UTC
  double duration_s = 0;   // wall time of the whole run
};

struct Verdict {
  bool overloaded = false;
  std::string text;
};

Verdict judge_generator(const Options& options, const Final& totals, double duration_s);
std::string build_json(const Options& options, const Collector& collector, const RunInfo& info);
void print_summary(const Options& options, const Collector& collector, const RunInfo& info);
// 0 when the run met its bounds (see docs/soak.md), 1 otherwise.
int exit_status(const Options& options, const Final& totals, std::string& why);

}  // namespace sb::soak
