// Public. Levelled logging on fmt with a replaceable sink.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string_view>
#include <utility>

namespace torsion::log {

/// Severity of a log message, lowest first.
enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

/// Receives each message at or above the current level, already formatted. Sinks are
/// called under a lock, one message at a time, from whichever thread logged.
using Sink = std::function<void(Level level, std::string_view message)>;

/// Replaces the sink; the default writes "[level] message" lines to stderr.
/// Thread-safe.
void setSink(Sink sink);

/// Restores the default stderr sink. Thread-safe.
void resetSink();

/// Sets the lowest level that reaches the sink (default: info, or the value of the
/// TORSION_LOG_LEVEL environment variable: debug, info, warn or error). Thread-safe.
void setLevel(Level level);

/// The lowest level that reaches the sink.
Level level() noexcept;

/// The name of a level: "debug", "info", "warn" or "error".
std::string_view levelName(Level level) noexcept;

/// Sends one already-formatted message to the sink if its level is enabled.
void write(Level level, std::string_view message);

/// True if messages at this level reach the sink; lets callers skip costly formatting.
bool enabled(Level level) noexcept;

/// Formats and logs at debug level.
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(format, std::forward<Args>(args)...));
}

/// Formats and logs at info level.
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(format, std::forward<Args>(args)...));
}

/// Formats and logs at warn level.
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(format, std::forward<Args>(args)...));
}

/// Formats and logs at error level.
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace torsion::log
