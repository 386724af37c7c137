//===- Version.h - The runtime library's version --------------------------===//
//
// The version the library was built as, to compare with QTC_RUNTIME_VERSION
// from the headers an application was compiled against.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_VERSION_H
#define QTC_RT_VERSION_H

namespace qtc::rt {

// "major.minor.patch"
const char *runtimeVersion();

} // namespace qtc::rt

#endif // QTC_RT_VERSION_H
