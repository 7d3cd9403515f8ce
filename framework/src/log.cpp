#include <torsion/log.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace torsion::log {

namespace {

Level levelFromEnvironment() {
  const char* value = std::getenv("TORSION_LOG_LEVEL");
  if (value == nullptr) return Level::info;
  if (std::strcmp(value, "debug") == 0) return Level::debug;
  if (std::strcmp(value, "warn") == 0) return Level::warn;
  if (std::strcmp(value, "error") == 0) return Level::error;
  return Level::info;
}

void writeToStderr(Level level, std::string_view message) {
  fmt::print(stderr, "[torsion {}] {}\n", levelName(level), message);
  std::fflush(stderr);
}

struct State {
  std::mutex mutex;
  Sink sink = writeToStderr;
  std::atomic<Level> level{levelFromEnvironment()};
};

State& state() {
  static State instance;  // constructed on first use: logging works during static init
  return instance;
}

}  // namespace

void setSink(Sink sink) {
  std::lock_guard lock(state().mutex);
  state().sink = sink ? std::move(sink) : Sink(writeToStderr);
}

void resetSink() { setSink(nullptr); }

void setLevel(Level newLevel) { state().level.store(newLevel, std::memory_order_relaxed); }

Level level() noexcept { return state().level.load(std::memory_order_relaxed); }

bool enabled(Level messageLevel) noexcept { return messageLevel >= level(); }

std::string_view levelName(Level messageLevel) noexcept {
  switch (messageLevel) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "unknown";
}

void write(Level messageLevel, std::string_view message) {
  if (!enabled(messageLevel)) return;
  std::lock_guard lock(state().mutex);
  state().sink(messageLevel, message);
}

}  // namespace torsion::log
