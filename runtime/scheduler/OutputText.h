//===- OutputText.h - A request's streamed text and its stop strings ------===//
//
// The text a request's tokens decode to, handed out as it grows. A stop
// string may span tokens, so the last (longest stop string - 1) bytes are
// held back until they cannot begin one (vLLM's stop buffer); the text up to
// a stop string is emitted, the stop string itself is not. A trailing U+FFFD
// (a character whose bytes are split across tokens) is held back as well.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SCHEDULER_OUTPUTTEXT_H
#define QTC_RT_SCHEDULER_OUTPUTTEXT_H

#include <string>
#include <vector>

namespace qtc::rt {

class OutputText {
public:
  explicit OutputText(std::vector<std::string> stopStrings);
  // `text`: all the output decoded so far (its prefix stays as tokens are
  // added). Returns what to emit now; `stopped` is set when a stop string
  // appeared. `finishing`: nothing is held back.
  std::string advance(const std::string &text, bool finishing, bool &stopped);

private:
  std::vector<std::string> stops_;
  size_t holdBack_ = 0;
  size_t emitted_ = 0; // bytes of text handed out
};

} // namespace qtc::rt

#endif // QTC_RT_SCHEDULER_OUTPUTTEXT_H
