// Example support: a small command-line parser with usage text and clear errors.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace torsion_examples {

/// Parses `--name value` and `--flag` options; prints usage on --help (exit 0) and a
/// clear message on a bad argument (exit 2).
class CommandLine {
 public:
  CommandLine(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

  /// An option taking a value, parsed by `apply` (which throws std::invalid_argument).
  void option(std::string name, std::string valueName, std::string help, std::function<void(std::string_view)> apply) {
    options_[name] = {std::move(valueName), std::move(help), std::move(apply), true};
    order_.push_back(std::move(name));
  }
  /// An option without a value.
  void flag(std::string name, std::string help, std::function<void()> apply) {
    options_[name] = {"", std::move(help), [apply = std::move(apply)](std::string_view) { apply(); }, false};
    order_.push_back(std::move(name));
  }

  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::cout << usage();
        std::exit(0);
      }
      auto found = options_.find(std::string(arg));
      if (found == options_.end()) fail("unknown argument '" + std::string(arg) + "'");
      std::string_view value;
      if (found->second.takesValue) {
        if (i + 1 >= argc) fail(std::string(arg) + " needs a value (" + found->second.valueName + ")");
        value = argv[++i];
      }
      try {
        found->second.apply(value);
      } catch (const std::exception& error) {
        fail("bad value for " + std::string(arg) + ": " + error.what());
      }
    }
  }

  std::string usage() const {
    std::string text = "usage: " + program_ + " [options]\n" + summary_ + "\n\noptions:\n";
    for (const auto& name : order_) {
      const auto& o = options_.at(name);
      std::string left = "  " + name + (o.takesValue ? " " + o.valueName : "");
      text += left + std::string(left.size() < 28 ? 28 - left.size() : 1, ' ') + o.help + "\n";
    }
    text += "  --help                    show this help\n";
    return text;
  }

  [[noreturn]] void fail(const std::string& message) const {
    std::cerr << program_ << ": " << message << "\n"
              << "try '" << program_ << " --help'\n";
    std::exit(2);
  }

 private:
  struct Option {
    std::string valueName;
    std::string help;
    std::function<void(std::string_view)> apply;
    bool takesValue;
  };
  std::string program_;
  std::string summary_;
  std::map<std::string, Option> options_;
  std::vector<std::string> order_;
};

/// Parses an integer in [low, high], or throws std::invalid_argument saying why.
template <class T>
T parseNumber(std::string_view text, T low, T high) {
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("'" + std::string(text) + "' is not a whole number");
  }
  if (value < static_cast<long long>(low) || value > static_cast<long long>(high)) {
    throw std::invalid_argument("'" + std::string(text) + "' is outside " + std::to_string(low) + ".." +
                                std::to_string(high));
  }
  return static_cast<T>(value);
}

/// Parses a duration in seconds, fractions allowed ("300", "0.5"), in (0, high], or
/// throws std::invalid_argument saying why.
inline double parseSeconds(std::string_view text, double high) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("'" + std::string(text) + "' is not a number of seconds");
  }
  if (!(value > 0) || value > high) {
    throw std::invalid_argument("'" + std::string(text) + "' is outside (0, " + std::to_string(high) + "] seconds");
  }
  return value;
}

/// Splits "100,500,1000" into numbers in [low, high], or throws std::invalid_argument.
template <class T>
std::vector<T> parseNumberList(std::string_view text, T low, T high) {
  std::vector<T> values;
  while (!text.empty()) {
    const auto comma = text.find(',');
    values.push_back(parseNumber<T>(text.substr(0, comma), low, high));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  if (values.empty()) throw std::invalid_argument("an empty list");
  return values;
}

}  // namespace torsion_examples
