// argv parsing, config assembly in precedence order, and the help text; see
// cli.hpp.
#include "app/config/cli.hpp"

#include <array>
#include <optional>

#include "app/config/config_file.hpp"

namespace sb::app {
namespace {

enum class OptionId {
  kConfig,
  kListen,
  kUpstream,
  kWorkers,
  kLogLevel,
  kSet,
  kCheck,
  kHelp,
  kVersion
};

struct OptionSpec {
  OptionId id;
  std::string_view long_name;  // without the leading "--"
  char short_name;             // 0 if none
  bool takes_value;
  std::string_view config_key;  // for the shortcut options: the key they set
};

constexpr std::array kOptions{
    OptionSpec{OptionId::kConfig, "config", 'c', true, ""},
    OptionSpec{OptionId::kListen, "listen", 0, true, "listen"},
    OptionSpec{OptionId::kUpstream, "upstream", 0, true, "upstream"},
    OptionSpec{OptionId::kWorkers, "workers", 0, true, "workers"},
    OptionSpec{OptionId::kLogLevel, "log-level", 0, true, "log_level"},
    OptionSpec{OptionId::kSet, "set", 0, true, ""},
    OptionSpec{OptionId::kCheck, "check-config", 't', false, ""},
    OptionSpec{OptionId::kHelp, "help", 'h', false, ""},
    OptionSpec{OptionId::kVersion, "version", 0, false, ""},
};

const OptionSpec* find_long(std::string_view name) {
  for (const auto& option : kOptions) {
    if (option.long_name == name) return &option;
  }
  return nullptr;
}

const OptionSpec* find_short(char name) {
  for (const auto& option : kOptions) {
    if (option.short_name != 0 && option.short_name == name) return &option;
  }
  return nullptr;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// What the first pass over argv collects; nothing is loaded until it is done.
struct ParsedArgs {
  bool help = false;
  bool version = false;
  bool check = false;
  std::string config_path;
  std::vector<Override> overrides;
  std::vector<std::string> errors;
};

void take_option(const OptionSpec& option, std::string_view value, ParsedArgs& args) {
  const std::string origin = "--" + std::string(option.long_name);
  switch (option.id) {
    case OptionId::kHelp: args.help = true; return;
    case OptionId::kVersion: args.version = true; return;
    case OptionId::kCheck: args.check = true; return;
    case OptionId::kConfig:
      if (!args.config_path.empty()) {
        args.errors.push_back("--config: given more than once");
      } else if (value.empty()) {
        args.errors.push_back("--config: needs a file name");
      } else {
        args.config_path = std::string(value);
      }
      return;
    case OptionId::kSet: {
      const auto equals = value.find('=');
      if (equals == std::string_view::npos || trim(value.substr(0, equals)).empty()) {
        args.errors.push_back("--set: expected key=value, got '" + std::string(value) + "'");
        return;
      }
      args.overrides.push_back({std::string(trim(value.substr(0, equals))),
                                std::string(trim(value.substr(equals + 1))), origin});
      return;
    }
    case OptionId::kListen:
    case OptionId::kUpstream:
    case OptionId::kWorkers:
    case OptionId::kLogLevel:
      args.overrides.push_back({std::string(option.config_key), std::string(trim(value)), origin});
      return;
  }
}

ParsedArgs scan_argv(int argc, char** argv) {
  ParsedArgs args;
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_ended || arg.size() < 2 || arg.front() != '-') {
      args.errors.push_back("unexpected argument '" + std::string(arg) + "' (try --help)");
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }

    const OptionSpec* option = nullptr;
    std::optional<std::string_view> inline_value;  // "--key=value" or "-cFILE"
    std::string shown;                             // the option as the user wrote it
    if (arg.starts_with("--")) {
      std::string_view name = arg.substr(2);
      if (const auto equals = name.find('='); equals != std::string_view::npos) {
        inline_value = name.substr(equals + 1);
        name = name.substr(0, equals);
      }
      option = find_long(name);
      shown = "--" + std::string(name);
    } else {
      option = find_short(arg[1]);
      if (arg.size() > 2) inline_value = arg.substr(2);
      shown = std::string(arg.substr(0, 2));
    }
    if (option == nullptr) {
      args.errors.push_back("unknown option '" + shown + "' (try --help)");
      continue;
    }

    if (!option->takes_value) {
      if (inline_value) {
        args.errors.push_back("option '" + shown + "' takes no value");
      } else {
        take_option(*option, {}, args);
      }
      continue;
    }
    if (inline_value) {
      take_option(*option, *inline_value, args);
    } else if (i + 1 < argc) {
      take_option(*option, argv[++i], args);
    } else {
      args.errors.push_back("option '" + shown + "' needs a value");
    }
  }
  return args;
}

}  // namespace

Config load_config(const std::string& config_path, const std::vector<Override>& overrides,
                   std::vector<std::string>& errors) {
  Config config;
  bool file_read = true;
  if (!config_path.empty()) {
    const FileLoad load = load_config_file(config_path, config, errors);
    file_read = load != FileLoad::kUnreadable && load != FileLoad::kBadSyntax;
  }
  for (const Override& value : overrides) {
    if (auto problem = apply_setting(config, value.key, value.value)) {
      errors.push_back(value.origin + ": " + *problem);
    }
  }
  // Whole-configuration checks ("no XMPP server configured") would only blame
  // settings that the unread (or not wholly parsed) file may well hold.
  if (file_read) {
    for (std::string& problem : validate_config(config)) errors.push_back(std::move(problem));
  }
  return config;
}

CliResult parse_command_line(int argc, char** argv) {
  ParsedArgs args = scan_argv(argc, argv);
  CliResult result;
  result.config_path = std::move(args.config_path);
  result.overrides = std::move(args.overrides);
  result.errors = std::move(args.errors);
  if (args.help) {
    result.action = CliResult::kHelp;
    return result;
  }
  if (args.version) {
    result.action = CliResult::kVersion;
    return result;
  }
  // Even after a bad option, load the rest: --check-config promises every
  // problem at once, and a plain start reports them all too.
  result.config = load_config(result.config_path, result.overrides, result.errors);
  if (args.check) {
    result.action = CliResult::kCheckOnly;
  } else if (!result.errors.empty()) {
    result.action = CliResult::kError;
  }
  return result;
}

std::string help_text(std::string_view program_name) {
  std::string text = "Usage: " + std::string(program_name) + " [options]\n";
  text +=
      "\n"
      "Switchboard, a BOSH (XEP-0124/XEP-0206) connection manager for XMPP.\n"
      "It runs in the foreground; logs go to stderr.\n"
      "\n"
      "Options:\n"
      "  -c, --config FILE        read settings from FILE (TOML)\n"
      "      --listen ADDR:PORT   address to listen on (default 127.0.0.1:5280)\n"
      "      --upstream HOST:PORT default XMPP server\n"
      "      --workers N|auto     worker processes; auto = one per core, more if the\n"
      "                           fd limit needs them for max_sessions (default 1)\n"
      "      --log-level LEVEL    error, warn, info or debug (default info)\n"
      "      --set KEY=VALUE      set any config file key (VALUE unquoted; lists\n"
      "                           space-separated); may be repeated\n"
      "  -t, --check-config       check the configuration, print every problem, exit\n"
      "  -h, --help               show this help and exit\n"
      "      --version            show the version and exit\n"
      "\n"
      "Signals: SIGHUP reloads the configuration, SIGUSR1 reopens the log file,\n"
      "SIGUSR2 upgrades in place (the binary at this path takes over every\n"
      "session). " +
      std::string(program_name) +
      " upgrade [options] does that and says how it\n"
      "went; it finds the daemon through pid_file (docs/upgrade.md).\n"
      "\n"
      "Values given on the command line override the config file, whatever their\n"
      "order. Config keys:\n";
  std::string line = " ";
  for (std::string_view key : config_key_names()) {
    if (line.size() + key.size() + 1 > 78) {
      text += line + "\n";
      line = " ";
    }
    line += " " + std::string(key);
  }
  text += line + "\n  upstream.<domain>\n";
  text += "See docs/configuration.md for what each key means.\n";
  return text;
}

std::string version_text() { return "switchboard " + std::string(kSwitchboardVersion) + "\n"; }

int report_cli_outcome(const CliResult& result, std::string_view program_name, std::FILE* out,
                       std::FILE* err) {
  switch (result.action) {
    case CliResult::kHelp: std::fputs(help_text(program_name).c_str(), out); return 0;
    case CliResult::kVersion: std::fputs(version_text().c_str(), out); return 0;
    case CliResult::kRun:
    case CliResult::kCheckOnly:
    case CliResult::kError: break;
  }
  for (const std::string& problem : result.errors) std::fprintf(err, "%s\n", problem.c_str());
  if (!result.errors.empty()) return 1;
  if (result.action == CliResult::kCheckOnly) std::fputs("configuration ok\n", out);
  return 0;
}

}  // namespace sb::app
