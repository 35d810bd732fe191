// Log lines: shape, level filtering before argument evaluation, escaping of
// control characters, one write per line, errno preserved.
#include "app/printing.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>

#include "app/log/captured_log.hpp"
#include "app/log/log.hpp"

using sb::app::LogLevel;
using sb::test::CapturedLog;

TEST_CASE("a line is 'TIMESTAMP LEVEL [worker N] message'") {
  CapturedLog log;
  sb::app::set_worker_index(3);
  SB_LOG_INFO("session %s created with %d requests", "abc", 2);
  const std::string line = log.drain();
  const std::regex shape(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO \[worker 3\] session abc created with 2 requests\n)");
  CHECK(std::regex_match(line, shape));
}

TEST_CASE("before workers exist the tag is [supervisor]") {
  CapturedLog log;
  SB_LOG_ERROR("cannot bind %s", "0.0.0.0:80");
  CHECK(log.drain().find(" ERROR [supervisor] cannot bind 0.0.0.0:80\n") != std::string::npos);
}

TEST_CASE("levels filter, and a filtered call does not evaluate its arguments") {
  CapturedLog log;
  sb::app::set_log_level(LogLevel::kWarn);
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  SB_LOG_DEBUG("debug %d", count());
  SB_LOG_INFO("info %d", count());
  SB_LOG_WARN("warn %d", count());
  SB_LOG_ERROR("error %d", count());
  CHECK(evaluated == 2);
  const std::string text = log.drain();
  CHECK(text.find(" WARN [supervisor] warn 1\n") != std::string::npos);
  CHECK(text.find(" ERROR [supervisor] error 2\n") != std::string::npos);
  CHECK(text.find("info") == std::string::npos);
  CHECK(text.find("debug") == std::string::npos);

  sb::app::set_log_level(LogLevel::kDebug);
  CHECK(sb::app::log_enabled(LogLevel::kDebug));
  CHECK(sb::app::log_level() == LogLevel::kDebug);
  sb::app::set_log_level(LogLevel::kError);
  CHECK_FALSE(sb::app::log_enabled(LogLevel::kWarn));
}

TEST_CASE("control characters are escaped, so a message cannot forge a line") {
  CapturedLog log;
  SB_LOG_INFO("stanza %s", "<a>\n2026-01-01T00:00:00.000Z ERROR fake\r\t\x01\x7f</a>");
  const std::string text = log.drain();
  CHECK(text.find(R"(stanza <a>\n2026-01-01T00:00:00.000Z ERROR fake\r\t\x01\x7f</a>)"
                  "\n") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

TEST_CASE("long messages arrive whole, huge ones are cut") {
  CapturedLog log;
  const std::string medium(3000, 'm');  // beyond the stack buffer, within PIPE_BUF
  SB_LOG_INFO("%s", medium.c_str());
  std::string text = log.drain();
  CHECK(text.find(medium + "\n") != std::string::npos);

  const std::string huge(40000, 'h');
  // The cut line (16 KiB + header) still fits the 64 KiB pipe buffer.
  SB_LOG_INFO("%s", huge.c_str());
  text = log.drain();
  CHECK(text.find(std::string(16 * 1024, 'h') + "... (truncated)\n") != std::string::npos);
  CHECK(text.find(std::string(16 * 1024 + 1, 'h')) == std::string::npos);
}

TEST_CASE("errno survives a log call") {
  CapturedLog log;
  errno = ENOENT;
  SB_LOG_INFO("x");
  CHECK(errno == ENOENT);
}

TEST_CASE("level names") {
  CHECK(sb::app::log_level_name(LogLevel::kWarn) == "warn");
  CHECK(sb::app::log_level_from_name("debug") == LogLevel::kDebug);
  CHECK_FALSE(sb::app::log_level_from_name("DEBUG").has_value());
  CHECK_FALSE(sb::app::log_level_from_name("").has_value());
}

TEST_CASE("log_file: lines are appended to the file, reopening follows a rename") {
  char dir_template[] = "/tmp/sb-log-test-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string file = dir + "/sb.log";
  const auto read_file = [](const std::string& path) {
    std::string text;
    const int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) return text;
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
      text.append(buffer, static_cast<std::size_t>(n));
    close(fd);
    return text;
  };

  CHECK(sb::app::set_log_file(file) == "");
  CHECK(sb::app::log_file_path() == file);
  SB_LOG_INFO("first line");
  CHECK(read_file(file).find("INFO [supervisor] first line\n") != std::string::npos);

  // logrotate: rename, then SIGUSR1 -> reopen_log_file(); new lines go to a new file.
  REQUIRE(rename(file.c_str(), (file + ".1").c_str()) == 0);
  SB_LOG_INFO("still the old file");
  CHECK(sb::app::reopen_log_file() == "");
  SB_LOG_INFO("a new file");
  const std::string old_text = read_file(file + ".1");
  const std::string new_text = read_file(file);
  CHECK(old_text.find("still the old file") != std::string::npos);
  CHECK(old_text.find("a new file") == std::string::npos);
  CHECK(new_text.find("a new file") != std::string::npos);
  CHECK(new_text.find("first line") == std::string::npos);

  // A file that cannot be opened leaves the destination alone.
  const std::string error = sb::app::set_log_file(dir + "/missing/sb.log");
  CHECK(error == dir + "/missing/sb.log: No such file or directory");
  SB_LOG_INFO("after the failed switch");
  CHECK(read_file(file).find("after the failed switch") != std::string::npos);

  CHECK(sb::app::set_log_file("") == "");  // back to stderr
  CHECK(sb::app::log_file_path().empty());
  CHECK(sb::app::reopen_log_file() == "");  // nothing to reopen
  unlink(file.c_str());
  unlink((file + ".1").c_str());
  rmdir(dir.c_str());
}
