//===- Status.cpp - Error values for the qtc runtime ----------------------===//

#include "qtc/rt/Status.h"

namespace qtc::rt {

const char *statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::kOk:
    return "ok";
  case StatusCode::kInvalidArgument:
    return "invalid argument";
  case StatusCode::kDataLoss:
    return "data loss";
  case StatusCode::kNotFound:
    return "not found";
  case StatusCode::kResourceExhausted:
    return "resource exhausted";
  case StatusCode::kUnavailable:
    return "unavailable";
  case StatusCode::kFailedPrecondition:
    return "failed precondition";
  case StatusCode::kInternal:
    return "internal error";
  }
  return "unknown status";
}

std::string Status::toString() const {
  if (isOk())
    return "ok";
  return std::string(statusCodeName(code_)) + ": " + message_;
}

Status Status::withContext(const std::string &context) const {
  if (isOk())
    return *this;
  return Status(code_, context + ": " + message_);
}

} // namespace qtc::rt
