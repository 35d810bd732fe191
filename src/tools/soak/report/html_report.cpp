// write_html_report(): fills the compiled-in page template (report_page.html)
// with the run's JSON report, Chart.js read from Debian's libjs-chart.js, and the
// page script (report_page.js), and writes the result as one file. See
// html_report.hpp for the JSON fields the page reads.
//
// Everything is inlined inside <script> elements, whose content ends at the first
// "</script" whatever the quoting around it, so each piece is escaped for that:
// the JSON (a data block, type="application/json") has every '<' written as the
// JSON escape \u003c, which JSON.parse() turns back into '<' and which can only
// occur inside JSON strings anyway; the scripts have "</script" and "<!--" broken
// with a backslash, which leaves their meaning unchanged inside JavaScript strings
// and comments (the only places they can be).
#include "tools/soak/report/html_report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tools/soak/report/report_assets.hpp"

namespace sb::soak {
namespace {

constexpr const char* kChartjsCandidates[] = {
    "/usr/share/javascript/chart.js/chart.min.js",      // Debian 12 (Chart.js 3.9)
    "/usr/share/javascript/chart.js/chart.umd.min.js",  // Chart.js 4 builds
    "/usr/share/javascript/chart.js/chart.umd.js",
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return !in.bad();
}

// The JSON as a script data block: '<' becomes \u003c (see the file comment).
std::string escape_json(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 64);
  for (const char c : json) {
    if (c == '<') {
      out.append("\\u003c");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = text[at + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

// A script with "</script" and "<!--" broken as "<\/script" and "<\!--".
std::string escape_script(std::string_view js) {
  std::string out;
  out.reserve(js.size() + 16);
  for (std::size_t i = 0; i < js.size(); ++i) {
    out.push_back(js[i]);
    if (js[i] == '<' &&
        (starts_with_nocase(js, i + 1, "/script") || starts_with_nocase(js, i + 1, "!--"))) {
      out.push_back('\\');
    }
  }
  return out;
}

// The template with each marker replaced once, in one scan so that nothing
// inserted is ever searched for markers.
std::string fill_template(std::string_view page, std::string_view json, std::string_view chartjs,
                          std::string_view script) {
  struct Piece {
    std::string_view marker;
    std::string_view text;
  };
  const Piece pieces[] = {
      {"@@REPORT_JSON@@", json}, {"@@CHART_JS@@", chartjs}, {"@@PAGE_JS@@", script}};
  std::string out;
  out.reserve(page.size() + json.size() + chartjs.size() + script.size());
  std::size_t pos = 0;
  for (const Piece& piece : pieces) {
    const std::size_t at = page.find(piece.marker, pos);
    if (at == std::string_view::npos) continue;  // cannot happen with our template
    out.append(page.substr(pos, at - pos));
    out.append(piece.text);
    pos = at + piece.marker.size();
  }
  out.append(page.substr(pos));
  return out;
}

}  // namespace

std::string chartjs_path() {
  if (const char* env = std::getenv("SWITCHBOARD_CHARTJS"); env != nullptr && *env != '\0')
    return env;
  for (const char* candidate : kChartjsCandidates) {
    std::ifstream probe(candidate);
    if (probe) return candidate;
  }
  return kChartjsCandidates[0];
}

bool write_html_report(std::string_view report_json, const std::string& path, std::string& error) {
  const std::string chart_path = chartjs_path();
  std::string chartjs;
  if (!read_file(chart_path, chartjs) || chartjs.empty()) {
    error = "cannot read Chart.js from " + chart_path +
            " (install Debian's libjs-chart.js, or set SWITCHBOARD_CHARTJS)";
    return false;
  }
  const std::string page =
      fill_template(report_page_template(), escape_json(report_json), escape_script(chartjs),
                    escape_script(report_page_script()));

  // Written beside the target and renamed over it, so that a reader (a browser
  // reloading, the PNG script) never sees half a report.
  const std::string temp = path + ".tmp";
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) {
    error = "cannot write " + temp + ": " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(page.data(), 1, page.size(), file) == page.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    error = "cannot write " + temp + ": " + std::strerror(written ? errno : write_errno);
    std::remove(temp.c_str());
    return false;
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + temp + " to " + path + ": " + std::strerror(errno);
    std::remove(temp.c_str());
    return false;
  }
  return true;
}

}  // namespace sb::soak
