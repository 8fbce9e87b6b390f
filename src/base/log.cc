#include "base/log.h"

#include "base/clock.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace bulkhead {

namespace {

LogConfig g_config;
int g_fd = STDERR_FILENO;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "error";
}

}  // namespace

void InitLogging(const LogConfig& config) {
  g_config = config;
  if (!config.path.empty()) {
    int fd = ::open(config.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) g_fd = fd;
  }
}

std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view msg,
                          std::string_view time) {
  if (format == LogFormat::kJson) {
    nlohmann::json j = {{"level", LevelName(level)}, {"msg", msg}, {"time", time}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string line = "bulkhead: ";
  if (level != LogLevel::kError) {
    line += LevelName(level);
    line += ": ";
  }
  line += msg;
  line += "\n";
  return line;
}

bool LogEnabled(LogLevel level) { return level >= g_config.min_level; }

void Log(LogLevel level, std::string_view msg) {
  if (level < g_config.min_level) return;
  std::string line = FormatLogLine(g_config.format, level, msg, NowRfc3339());
  (void)!::write(g_fd, line.data(), line.size());
  // An error always reaches the caller's terminal too, unless that is where the log goes.
  if (level == LogLevel::kError && g_fd != STDERR_FILENO) {
    std::string plain = FormatLogLine(LogFormat::kText, level, msg, "");
    (void)!::write(STDERR_FILENO, plain.data(), plain.size());
  }
}

}  // namespace bulkhead
