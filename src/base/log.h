// Process-wide log sink for the command-line tools. Libraries never log; they
// return errors, and the top of each tool reports them here once.
#pragma once

#include <string>
#include <string_view>

namespace bulkhead {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

struct LogConfig {
  std::string path;  // empty: stderr
  LogFormat format = LogFormat::kText;
  LogLevel min_level = LogLevel::kWarning;
};

// Opens the log file (append); on failure logging falls back to stderr.
void InitLogging(const LogConfig& config);
void Log(LogLevel level, std::string_view msg);
// Whether a message of this level would be written (to skip work only a log line needs).
bool LogEnabled(LogLevel level);
inline void LogError(std::string_view msg) { Log(LogLevel::kError, msg); }
inline void LogWarning(std::string_view msg) { Log(LogLevel::kWarning, msg); }
inline void LogDebug(std::string_view msg) { Log(LogLevel::kDebug, msg); }
// The same line format, for tests.
std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view msg,
                          std::string_view time);

}  // namespace bulkhead
