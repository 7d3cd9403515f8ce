// Public only because the line receivers hold a LineScanState by value: how they find
// line ends. Not part of the API; it may change without notice.
#pragma once

#include <torsion/bytes.hpp>

#include <cstddef>
#include <string>

namespace torsion::protocols::detail {

/// What a line receiver remembers between reads of a partial line, so that a long line
/// arriving a byte at a time is searched once, not once per byte.
struct LineScanState {
  std::size_t scanned = 0;  ///< leading bytes of the partial line known to hold no delimiter
  std::string delimiter;    ///< the delimiter `scanned` was computed for
};

/// The outcome of scanLine.
struct LineScan {
  /// What was found.
  enum class Kind {
    line,        ///< a complete line of `length` bytes, followed by the delimiter
    tooLong,     ///< the line at the front is longer than the limit (complete or not)
    incomplete,  ///< no delimiter yet, and the line may still end within the limit
  };
  Kind kind;               ///< what was found
  std::size_t length = 0;  ///< the line's length, for Kind::line
};

/// Finds the first line in `input`. A line without its delimiter is too long once
/// `input` holds maxLength + delimiter.size() bytes, because the line cannot end within
/// the limit any more; a shorter partial line is incomplete.
/// @throws std::invalid_argument if `delimiter` is empty.
LineScan scanLine(Bytes input, Bytes delimiter, std::size_t maxLength, LineScanState& state);

}  // namespace torsion::protocols::detail
