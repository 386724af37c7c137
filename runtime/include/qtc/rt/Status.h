//===- Status.h - Error values for the qtc runtime ------------------------===//
//
// The runtime never aborts on bad input: every fallible call returns a Status
// (or StatusOr<T>) carrying a code and a message that names what failed
// (file offset, tensor name, CUDA call and its error string).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_STATUS_H
#define QTC_RT_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace qtc::rt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad request or bad input file
  kDataLoss,         // truncated or corrupted artifact
  kNotFound,         // missing file, tensor, kernel
  kResourceExhausted,// KV cache full, out of device memory
  kUnavailable,      // no GPU / driver missing
  kFailedPrecondition,
  kInternal,         // a CUDA call failed, or an invariant broke
};

const char *statusCodeName(StatusCode code);

class [[nodiscard]] Status {
public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }

  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }
  // "<code name>: <message>"
  std::string toString() const;
  // Prefixes the message with context ("loading model.qtc: ").
  Status withContext(const std::string &context) const;

private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status dataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status resourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status failedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status internalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
public:
  StatusOr(Status status) : status_(std::move(status)) {
    assert(!status_.isOk() && "StatusOr built from an ok Status without a value");
  }
  // Two overloads rather than one by value, so `return local;` moves.
  StatusOr(T &&value) : value_(std::move(value)) {}
  StatusOr(const T &value) : value_(value) {}

  bool isOk() const { return status_.isOk(); }
  explicit operator bool() const { return isOk(); }
  const Status &status() const { return status_; }
  T &value() & { assert(isOk()); return *value_; }
  const T &value() const & { assert(isOk()); return *value_; }
  T &&value() && { assert(isOk()); return std::move(*value_); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }

private:
  Status status_;
  std::optional<T> value_;
};

} // namespace qtc::rt

#define QTC_RT_RETURN_IF_ERROR(expr)                                           \
  do {                                                                         \
    ::qtc::rt::Status qtcStatus_ = (expr);                                     \
    if (!qtcStatus_.isOk())                                                    \
      return qtcStatus_;                                                       \
  } while (0)

#endif // QTC_RT_STATUS_H
