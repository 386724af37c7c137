// jit-stream: compiles a checkpoint folder (or .onnx file) in this process
// with a recipe, then streams a continuation of each prompt token by token.
//
//   jit-stream MODEL [--recipe R] [--target T|host] [-n N] [--stop STR]... PROMPT...
//
// Text is printed as it is generated, by the request's onToken callback
// from the text the engine detokenizes (RequestOutput::newText: a piece that
// spans tokens comes out whole, and text that may begin a --stop string is
// held back until it cannot; the request ends before a stop string). A line
// "tokens: id,id,..." per prompt follows, to compare with
// `qtc-run MODEL.qtc --prompt PROMPT -n N`.
#include "qtc/Pipeline/Jit.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

int usage() {
  std::cerr << "usage: jit-stream MODEL [--recipe R] [--target T|host] [-n N] [--stop STR]... "
               "PROMPT...\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  std::string model = argv[1];
  qtc::JitOptions options;
  options.targets.clear(); // host unless --target names a GPU
  int maxNewTokens = 16;
  std::vector<std::string> prompts, stops;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--recipe" || arg == "--target" || arg == "-n" || arg == "--stop") &&
        i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--stop")
        stops.push_back(value);
      else if (arg == "--recipe")
        options.recipe = value;
      else if (arg == "--target")
        options.targets = value == "host" ? std::vector<std::string>{}
                                          : std::vector<std::string>{value};
      else
        maxNewTokens = std::atoi(value.c_str());
    } else if (arg.rfind("--", 0) == 0) {
      return usage();
    } else {
      prompts.push_back(arg);
    }
  }
  if (prompts.empty() || maxNewTokens <= 0)
    return usage();

  auto engine = qtc::jitCompile(model, options);
  if (!engine) {
    std::cerr << engine.status().toString() << "\n";
    return 1;
  }
  std::cerr << "compiled " << model << " (" << options.recipe << "), running on "
            << (*engine)->backendName() << "\n";

  for (const std::string &prompt : prompts) {
    auto ids = (*engine)->encode(prompt);
    if (!ids) {
      std::cerr << ids.status().toString() << "\n";
      return 1;
    }
    std::vector<int32_t> tokens;
    qtc::rt::FinishReason finish = qtc::rt::FinishReason::kNone;
    qtc::rt::RequestOptions request;
    request.maxNewTokens = maxNewTokens;
    request.stopStrings = stops;
    request.detokenize = true;
    // Called inside step() with each token; returning false would cancel.
    request.onToken = [&](const qtc::rt::RequestOutput &out) {
      std::cout << out.newText << std::flush;
      tokens.insert(tokens.end(), out.newTokens.begin(), out.newTokens.end());
      return true;
    };
    auto id = (*engine)->addRequest(*ids, request);
    if (!id) {
      std::cerr << id.status().toString() << "\n";
      return 1;
    }
    std::cout << prompt << " ->" << std::flush;
    while ((*engine)->hasUnfinishedRequests()) {
      auto outputs = (*engine)->step();
      if (!outputs) {
        std::cerr << outputs.status().toString() << "\n";
        return 1;
      }
      for (const qtc::rt::RequestOutput &out : *outputs)
        if (out.finished())
          finish = out.finish;
    }
    std::cout << "\nfinish: " << qtc::rt::finishReasonName(finish);
    std::cout << "\ntokens: ";
    for (size_t i = 0; i < tokens.size(); ++i)
      std::cout << (i ? "," : "") << tokens[i];
    std::cout << "\n";
  }
  return 0;
}
