//===- Version.cpp - The runtime library's version ------------------------===//

#include "qtc/rt/Version.h"

namespace qtc::rt {

const char *runtimeVersion() { return QTC_RUNTIME_VERSION; }

} // namespace qtc::rt
