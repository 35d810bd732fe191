// write_html_report() on synthetic reports: one file with Chart.js inlined, no
// reference to anything outside it, and the JSON embedded so that nothing in
// it (a "</script>" or "<!--" inside a string) can end its script element,
// while JSON.parse() gets back exactly the report (checked in the browser by
// html_report_browser.test.js; here by undoing the one escape we apply).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tools/soak/report/html_report.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string temp_path(const char* name) {
  return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/sb-report-" +
         std::to_string(getpid()) + "-" + name;
}

// The text between <script type="application/json" id="report-data"> and the
// next "</script", which is where the HTML parser ends that element.
std::string embedded_json(const std::string& html) {
  const std::string open = R"(<script type="application/json" id="report-data">)";
  const std::size_t start = html.find(open);
  if (start == std::string::npos) return {};
  const std::size_t from = start + open.size();
  const std::size_t end = html.find("</script", from);
  return html.substr(from, end - from);
}

std::string unescape_lt(std::string text) {
  for (std::size_t at = 0; (at = text.find("\\u003c", at)) != std::string::npos; ++at) {
    text.replace(at, 6, "<");
  }
  return text;
}

// A short synthetic report with hostile strings in it.
const std::string kReport =
    R"({"tool":"switchboard-soak","target":"http://127.0.0.1:5280/http-bind",)"
    R"("options":{"user-pattern":"u%d</script><script>alert(1)</script>","note":"<!-- <script>"},)"
    R"("sessions_target":3,"sessions_established":3,"errors":1,"errors_by_kind":{"timeout":1},)"
    R"("generator":{"procs":1,"max_loop_lag_ms":2.5,"overloaded":false,"verdict":"ok"},)"
    R"("watched":[{"pid":1,"name":"init"}],)"
    R"("timeline":[{"t":1,"sessions":1,"logins":1,"messages_sent":0,"messages_received":0},)"
    R"({"t":2,"sessions":3,"logins":2,"messages_sent":4,"messages_received":4,)"
    R"("latency_ms":{"p50":1,"p90":2,"p99":3,"max":4},"errors_by_kind":{"timeout":1},)"
    R"("watched":[{"pid":1,"rss_bytes":1000,"cpu_seconds":0.5,"processes":1,"open_fds":3}]}]})";

}  // namespace

TEST_CASE("the HTML report is one file with Chart.js inlined and the JSON intact") {
  const std::string path = temp_path("report.html");
  std::string error;
  REQUIRE_MESSAGE(sb::soak::write_html_report(kReport, path, error), error);
  const std::string html = slurp(path);
  std::remove(path.c_str());

  // Chart.js itself, not a reference to it.
  const std::string chartjs = slurp(sb::soak::chartjs_path());
  REQUIRE(chartjs.size() > 100000);
  CHECK(html.find(chartjs.substr(0, 4000)) != std::string::npos);
  CHECK(html.find("Chart.js v") != std::string::npos);
  CHECK(html.size() > chartjs.size());

  // The embedded JSON ends where the report ends, and is the report.
  const std::string embedded = embedded_json(html);
  CHECK(embedded.find('<') == std::string::npos);
  CHECK(unescape_lt(embedded) == kReport);
  // Exactly the three script elements of the template: data, Chart.js, page.
  std::size_t scripts = 0;
  for (std::size_t at = 0; (at = html.find("<script", at)) != std::string::npos; ++at) ++scripts;
  CHECK(scripts == 3);
  std::size_t ends = 0;
  for (std::size_t at = 0; (at = html.find("</script", at)) != std::string::npos; ++at) ++ends;
  CHECK(ends == 3);
  CHECK(html.find("@@") == std::string::npos);  // every marker was filled
}

TEST_CASE("the HTML report refers to nothing outside itself") {
  const std::string path = temp_path("offline.html");
  std::string error;
  REQUIRE_MESSAGE(sb::soak::write_html_report(kReport, path, error), error);
  const std::string html = slurp(path);
  std::remove(path.c_str());

  // No element loads anything: no src, no href, no CSS url() or @import.
  CHECK_FALSE(std::regex_search(html, std::regex(R"(\s(src|href)\s*=)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"(\burl\s*\(|@import)", std::regex::icase)));
  // The only http(s) URLs are the target's and those in Chart.js's licence
  // comments (/*! ... */, which the MIT licence asks us to keep).
  const std::string chartjs = slurp(sb::soak::chartjs_path());
  const std::regex url(R"(https?://[^\s"'<>\\)]+)", std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator();
       ++it) {
    const std::string found = it->str();
    const bool target = found.rfind("http://127.0.0.1:5280/http-bind", 0) == 0;
    bool in_licence = false;
    const std::size_t at = static_cast<std::size_t>(it->position());
    const std::size_t comment = html.rfind("/*!", at);
    if (comment != std::string::npos) {
      const std::size_t comment_end = html.find("*/", comment);
      in_licence = comment_end != std::string::npos && comment_end > at;
    }
    CHECK_MESSAGE((target || in_licence), found);
  }
}

TEST_CASE("the HTML report of the sample report") {
  const std::string json = slurp(SB_SAMPLE_REPORT);
  REQUIRE(json.size() > 1000);
  const std::string path = temp_path("sample.html");
  std::string error;
  REQUIRE_MESSAGE(sb::soak::write_html_report(json, path, error), error);
  const std::string html = slurp(path);
  std::remove(path.c_str());
  CHECK(unescape_lt(embedded_json(html)) == json);
}

TEST_CASE("a missing Chart.js or an unwritable path is an error, not a broken file") {
  std::string error;
  SUBCASE("no Chart.js") {
    setenv("SWITCHBOARD_CHARTJS", "/nonexistent/chart.min.js", 1);
    const std::string path = temp_path("nochart.html");
    CHECK_FALSE(sb::soak::write_html_report(kReport, path, error));
    unsetenv("SWITCHBOARD_CHARTJS");
    CHECK(error.find("/nonexistent/chart.min.js") != std::string::npos);
    CHECK(access(path.c_str(), F_OK) != 0);
  }
  SUBCASE("unwritable path") {
    CHECK_FALSE(sb::soak::write_html_report(kReport, "/nonexistent-dir/report.html", error));
    CHECK(error.find("/nonexistent-dir/report.html") != std::string::npos);
  }
}

TEST_CASE("chartjs_path() honours SWITCHBOARD_CHARTJS, else finds Debian's file") {
  setenv("SWITCHBOARD_CHARTJS", "/some/where/chart.js", 1);
  CHECK(sb::soak::chartjs_path() == "/some/where/chart.js");
  unsetenv("SWITCHBOARD_CHARTJS");
  const std::string found = sb::soak::chartjs_path();
  CHECK(found.rfind("/usr/share/javascript/chart.js/", 0) == 0);
  CHECK(access(found.c_str(), R_OK) == 0);
}
