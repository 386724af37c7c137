// jit-stream: compiles a checkpoint folder (or .onnx file) in this process
// with a recipe, then streams a continuation of each prompt token by token.
//
//   jit-stream MODEL [--recipe R] [--target T|host] [-n N] PROMPT...
//
// Text is printed as it is generated; a line "tokens: id,id,..." per prompt
// follows, to compare with `qtc-run MODEL.qtc --prompt PROMPT -n N`.
#include "qtc/Pipeline/Jit.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

int usage() {
  std::cerr << "usage: jit-stream MODEL [--recipe R] [--target T|host] [-n N] PROMPT...\n";
  return 2;
}

// Prints what the growing token list adds to the text printed so far:
// detokenizing the whole list keeps pieces that span tokens intact.
qtc::rt::Status streamText(const qtc::rt::Engine &engine, const std::vector<int32_t> &tokens,
                           std::string &printed) {
  auto text = engine.decode(tokens);
  if (!text)
    return text.status();
  if (text->size() > printed.size() && text->compare(0, printed.size(), printed) == 0) {
    std::cout << text->substr(printed.size()) << std::flush;
    printed = *text;
  }
  return qtc::rt::Status::ok();
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  std::string model = argv[1];
  qtc::JitOptions options;
  options.targets.clear(); // host unless --target names a GPU
  int maxNewTokens = 16;
  std::vector<std::string> prompts;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--recipe" || arg == "--target" || arg == "-n") && i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--recipe")
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
    qtc::rt::RequestOptions request;
    request.maxNewTokens = maxNewTokens;
    auto id = (*engine)->addRequest(*ids, request);
    if (!id) {
      std::cerr << id.status().toString() << "\n";
      return 1;
    }
    std::vector<int32_t> tokens;
    std::string printed;
    std::cout << prompt << " ->" << std::flush;
    while ((*engine)->hasUnfinishedRequests()) {
      auto outputs = (*engine)->step();
      if (!outputs) {
        std::cerr << outputs.status().toString() << "\n";
        return 1;
      }
      for (const qtc::rt::RequestOutput &out : *outputs) {
        tokens.insert(tokens.end(), out.newTokens.begin(), out.newTokens.end());
        if (auto status = streamText(**engine, tokens, printed); !status) {
          std::cerr << status.toString() << "\n";
          return 1;
        }
      }
    }
    std::cout << "\ntokens: ";
    for (size_t i = 0; i < tokens.size(); ++i)
      std::cout << (i ? "," : "") << tokens[i];
    std::cout << "\n";
  }
  return 0;
}
