#include <torsion/protocols/echo.hpp>

namespace torsion::protocols {

void Echo::dataReceived(Bytes data) { transport().write(data); }

}  // namespace torsion::protocols
