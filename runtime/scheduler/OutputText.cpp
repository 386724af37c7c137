//===- OutputText.cpp - A request's streamed text and its stop strings ----===//

#include "scheduler/OutputText.h"

#include <algorithm>

namespace qtc::rt {

OutputText::OutputText(std::vector<std::string> stopStrings) : stops_(std::move(stopStrings)) {
  for (const std::string &s : stops_)
    holdBack_ = std::max(holdBack_, s.empty() ? 0 : s.size() - 1);
}

std::string OutputText::advance(const std::string &text, bool finishing, bool &stopped) {
  stopped = false;
  // What was emitted held back enough that no stop string starts in it.
  size_t end = text.size();
  for (const std::string &s : stops_) {
    size_t at = text.find(s, emitted_);
    if (!s.empty() && at != std::string::npos && at < end) {
      end = at;
      stopped = true;
    }
  }
  if (!stopped && !finishing) {
    end = text.size() > emitted_ + holdBack_ ? text.size() - holdBack_ : emitted_;
    // A character whose bytes span tokens decodes as U+FFFD until its last
    // byte comes: hold back a trailing run of them (vLLM does the same).
    static constexpr char kReplacement[] = "\xEF\xBF\xBD";
    size_t complete = text.size();
    while (complete >= emitted_ + 3 && text.compare(complete - 3, 3, kReplacement) == 0)
      complete -= 3;
    end = std::min(end, complete);
    // Never cut a UTF-8 character.
    while (end > emitted_ && end < text.size() &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
  }
  if (end <= emitted_)
    return "";
  std::string out = text.substr(emitted_, end - emitted_);
  emitted_ = end;
  return out;
}

} // namespace qtc::rt
