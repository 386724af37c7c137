//===- Tokenizer.cpp - SentencePiece tokenizer of an artifact -------------===//

#include "qtc/rt/Tokenizer.h"

#include "SentencePiecePluginAbi.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define QTC_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QTC_UNDER_ASAN 1
#endif
#endif

namespace qtc::rt {
namespace {

constexpr char kSentencePieceLibrary[] = "libsentencepiece.so.0";
constexpr char kPluginLibrary[] = "libqtc_sentencepiece.so";

std::string executableDir() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0)
    return "";
  std::string exe(path, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// The folder of the shared object (or executable) this code is linked into:
// an installed libqtcrt.so finds the plugin in <its folder>/qtc/.
std::string thisObjectDir() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&thisObjectDir), &info) || !info.dli_fname)
    return "";
  std::string path(info.dli_fname);
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// dlopen of the first candidate that loads; `tried` collects the errors.
void *openFirst(const std::vector<std::string> &candidates, int flags, std::string &tried) {
  for (const std::string &c : candidates) {
    if (c.empty())
      continue;
    if (void *handle = dlopen(c.c_str(), flags))
      return handle;
    const char *why = dlerror();
    tried += "\n  " + (why ? std::string(why) : c);
  }
  return nullptr;
}

struct LoadedPlugin {
  const qtc_sentencepiece_api *api = nullptr;
  Status status;
};

LoadedPlugin loadPlugin() {
  LoadedPlugin loaded;
  const std::string exeDir = executableDir();
  const std::string objectDir = thisObjectDir();
  // libsentencepiece first and with deep binding: its exported copy of
  // protobuf then serves its own calls, whatever libprotobuf the process
  // holds. AddressSanitizer refuses RTLD_DEEPBIND, so instrumented builds
  // load it plainly (fine unless another protobuf is loaded too).
  int flags = RTLD_NOW | RTLD_LOCAL;
#ifndef QTC_UNDER_ASAN
  flags |= RTLD_DEEPBIND;
#endif
#ifdef QTC_UNDER_ASAN
  // Without deep binding, SentencePiece's calls would reach a protobuf the
  // process already holds (libonnx's, in the JIT) and abort on the version.
  if (dlsym(RTLD_DEFAULT, "_ZN6google8protobuf8internal13VerifyVersionEiiPKc")) {
    loaded.status = unavailable(
        "tokenizer: this AddressSanitizer build cannot keep SentencePiece's protobuf apart from "
        "the one already loaded (sanitizers refuse RTLD_DEEPBIND); pass token ids");
    return loaded;
  }
#endif
  std::string tried;
  if (!openFirst({exeDir.empty() ? "" : exeDir + "/" + kSentencePieceLibrary,
                  kSentencePieceLibrary},
                 flags, tried)) {
    loaded.status = unavailable(std::string("tokenizer: cannot load ") + kSentencePieceLibrary +
                                ":" + tried);
    return loaded;
  }
  tried.clear();
  // An explicit path is the only candidate: a wrong one is reported, not
  // silently replaced by another copy.
  const char *fromEnv = std::getenv("QTC_SENTENCEPIECE_PLUGIN");
  std::vector<std::string> candidates =
      fromEnv && *fromEnv
          ? std::vector<std::string>{fromEnv}
          : std::vector<std::string>{
                exeDir.empty() ? "" : exeDir + "/" + kPluginLibrary,
                // Installed: <libdir>/qtc/ beside the library, or seen from <bindir>.
                objectDir.empty() ? "" : objectDir + "/qtc/" + kPluginLibrary,
                exeDir.empty() ? "" : exeDir + "/" + QTC_RT_PLUGIN_FROM_BINDIR + "/" + kPluginLibrary,
                std::string(QTC_RT_PLUGIN_BUILD_DIR) + "/" + kPluginLibrary, kPluginLibrary};
  void *plugin = openFirst(candidates, RTLD_NOW | RTLD_LOCAL, tried);
  if (!plugin) {
    loaded.status = unavailable(std::string("tokenizer: cannot load ") + kPluginLibrary +
                                " (set QTC_SENTENCEPIECE_PLUGIN to its path):" + tried);
    return loaded;
  }
  auto entry = reinterpret_cast<const qtc_sentencepiece_api *(*)()>(
      dlsym(plugin, "qtc_sentencepiece_plugin"));
  const qtc_sentencepiece_api *api = entry ? entry() : nullptr;
  if (!api || api->abi_version != QTC_SENTENCEPIECE_PLUGIN_ABI) {
    loaded.status = failedPrecondition(std::string("tokenizer: ") + kPluginLibrary +
                                       " is not a qtc SentencePiece plugin of ABI version " +
                                       std::to_string(QTC_SENTENCEPIECE_PLUGIN_ABI));
    return loaded;
  }
  loaded.api = api;
  return loaded;
}

const LoadedPlugin &plugin() {
  static const LoadedPlugin loaded = loadPlugin();
  return loaded;
}

} // namespace

Tokenizer::~Tokenizer() { api_->destroy(processor_); }

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::fromSerializedModel(std::string_view model,
                                                                    int bosId) {
  if (model.empty())
    return failedPrecondition("the artifact carries no tokenizer model");
  const LoadedPlugin &p = plugin();
  if (!p.api)
    return p.status;
  char error[512] = {};
  void *processor = p.api->load(model.data(), model.size(), error, sizeof(error));
  if (!processor)
    return invalidArgument(std::string("cannot load the SentencePiece model: ") + error);
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer(p.api, processor));
  if (bosId >= tokenizer->vocabSize())
    return invalidArgument("bos id " + std::to_string(bosId) + " is outside the tokenizer's " +
                           std::to_string(tokenizer->vocabSize()) + " pieces");
  tokenizer->bosId_ = bosId;
  return tokenizer;
}

int Tokenizer::vocabSize() const { return api_->piece_size(processor_); }

StatusOr<std::vector<int32_t>> Tokenizer::encode(const std::string &text) const {
  const size_t bos = bosId_ >= 0 ? 1 : 0;
  std::vector<int32_t> ids(bos + text.size() + 16);
  char error[512] = {};
  for (;;) {
    long n = api_->encode(processor_, text.data(), text.size(), ids.data() + bos,
                          ids.size() - bos, error, sizeof(error));
    if (n < 0)
      return invalidArgument(std::string("cannot tokenize: ") + error);
    if (static_cast<size_t>(n) <= ids.size() - bos) {
      ids.resize(bos + static_cast<size_t>(n));
      break;
    }
    ids.resize(bos + static_cast<size_t>(n));
  }
  if (bos)
    ids[0] = bosId_;
  return ids;
}

StatusOr<std::string> Tokenizer::decode(const std::vector<int32_t> &ids) const {
  const int size = vocabSize();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= size)
      return invalidArgument("token " + std::to_string(i) + " has id " +
                             std::to_string(ids[i]) + " outside the tokenizer's " +
                             std::to_string(size) + " pieces");
  std::string text(ids.size() * 8 + 16, '\0');
  char error[512] = {};
  for (;;) {
    long n = api_->decode(processor_, ids.data(), ids.size(), text.data(), text.size(), error,
                          sizeof(error));
    if (n < 0)
      return invalidArgument(std::string("cannot detokenize: ") + error);
    bool fitted = static_cast<size_t>(n) <= text.size();
    text.resize(static_cast<size_t>(n));
    if (fitted)
      return text;
  }
}

} // namespace qtc::rt
