// runtime-cxx ARTIFACT N PROMPT: greedy tokens of PROMPT through the installed
// C++ API, printed as "request 0: id,id,...".
#include "qtc/rt/Engine.h"
#include "qtc/rt/Version.h"

#include <cstdlib>
#include <iostream>

int main(int argc, char **argv) {
  if (argc != 4) {
    std::cerr << "usage: runtime-cxx ARTIFACT N PROMPT\n";
    return 2;
  }
  qtc::rt::EngineOptions options;
  options.backend = qtc::rt::BackendKind::kHost;
  auto engine = qtc::rt::Engine::create(argv[1], options);
  if (!engine) {
    std::cerr << engine.status().toString() << "\n";
    return 1;
  }
  auto ids = (*engine)->encode(argv[3]);
  if (!ids) {
    std::cerr << ids.status().toString() << "\n";
    return 1;
  }
  qtc::rt::GenerateOptions generate;
  generate.maxNewTokens = std::atoi(argv[2]);
  auto out = (*engine)->generate({*ids}, generate);
  if (!out) {
    std::cerr << out.status().toString() << "\n";
    return 1;
  }
  std::cerr << "qtc runtime " << qtc::rt::runtimeVersion() << "\n";
  std::cout << "request 0:";
  for (size_t i = 0; i < out->tokens[0].size(); ++i)
    std::cout << (i ? "," : " ") << out->tokens[0][i];
  std::cout << "\n";
  return 0;
}
