// soak_report_render JSON_FILE HTML_FILE: the HTML report of a saved JSON report,
// through the same write_html_report() switchboard-soak calls at the end of a run.
// A test helper (the browser test, scripts/report-png.js), not installed.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/soak/report/html_report.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: soak_report_render REPORT.json REPORT.html\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "soak_report_render: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream json;
  json << in.rdbuf();
  std::string error;
  if (!sb::soak::write_html_report(json.str(), argv[2], error)) {
    std::cerr << "soak_report_render: " << error << "\n";
    return 1;
  }
  return 0;
}
