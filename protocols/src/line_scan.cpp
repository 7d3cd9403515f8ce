#include <torsion/protocols/detail/line_scan.hpp>

#include <algorithm>
#include <stdexcept>

namespace torsion::protocols::detail {

LineScan scanLine(Bytes input, Bytes delimiter, std::size_t maxLength, LineScanState& state) {
  if (delimiter.empty()) throw std::invalid_argument("line receiver: the delimiter must not be empty");
  if (state.delimiter != delimiter) {
    // What was scanned for another delimiter proves nothing about this one.
    state.scanned = 0;
    state.delimiter.assign(delimiter);
  }
  const std::size_t position = input.find(delimiter, std::min(state.scanned, input.size()));
  if (position == Bytes::npos) {
    // Written as a subtraction so that MAX_LENGTH = SIZE_MAX does not overflow.
    if (input.size() >= delimiter.size() && input.size() - delimiter.size() >= maxLength) {
      state.scanned = 0;
      return {LineScan::Kind::tooLong};
    }
    // A delimiter may still start in the last delimiter.size() - 1 bytes.
    state.scanned = input.size() >= delimiter.size() ? input.size() - delimiter.size() + 1 : 0;
    return {LineScan::Kind::incomplete};
  }
  state.scanned = 0;
  if (position > maxLength) return {LineScan::Kind::tooLong};
  return {LineScan::Kind::line, position};
}

}  // namespace torsion::protocols::detail
