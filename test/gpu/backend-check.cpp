//===- backend-check.cpp - The CUDA backend against the host backend ------===//
//
// Runs one artifact on both backends with the same batches and compares the
// logits: a two-sequence prefill, then decode steps of both sequences (the
// host's greedy tokens feed both backends, so they stay in lockstep), then a
// copy-on-write fork of sequence 0 whose logits must equal the original's.
// Prints per-call logit error and argmax agreement, and the CUDA decode step
// time; exits non-zero on a failure.
//
//   backend-check model.qtc [--decode-steps N] [--prompt-a N] [--prompt-b N]
//
//===----------------------------------------------------------------------===//

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

using namespace qtc::rt;

namespace {

struct Sequence {
  std::vector<int32_t> tokens; // all tokens so far
  std::vector<int32_t> blocks; // physical KV blocks
};

// Builds a BatchView over `seqs`: for each sequence, its tokens from
// `firstNew[s]` on are new in this call; the logits of each sequence's last
// token are requested.
struct Batch {
  std::vector<int32_t> ids, positions, tokenSeq, seqLens, tables, logitRows;
  int maxBlocks = 0;
  BatchView view;

  Batch(const std::vector<Sequence> &seqs, const std::vector<int> &firstNew, bool decode) {
    for (const Sequence &s : seqs)
      maxBlocks = std::max(maxBlocks, static_cast<int>(s.blocks.size()));
    for (size_t s = 0; s < seqs.size(); ++s) {
      for (size_t p = firstNew[s]; p < seqs[s].tokens.size(); ++p) {
        ids.push_back(seqs[s].tokens[p]);
        positions.push_back(static_cast<int32_t>(p));
        tokenSeq.push_back(static_cast<int32_t>(s));
      }
      logitRows.push_back(static_cast<int32_t>(ids.size()) - 1);
      seqLens.push_back(static_cast<int32_t>(seqs[s].tokens.size()));
      std::vector<int32_t> row = seqs[s].blocks;
      row.resize(maxBlocks, 0);
      tables.insert(tables.end(), row.begin(), row.end());
    }
    view.numTokens = static_cast<int>(ids.size());
    view.numSeqs = static_cast<int>(seqs.size());
    view.tokenIds = ids.data();
    view.positions = positions.data();
    view.tokenSeq = tokenSeq.data();
    view.seqLens = seqLens.data();
    view.blockTables = tables.data();
    view.maxBlocksPerSeq = maxBlocks;
    view.logitRows = logitRows.data();
    view.numLogitRows = static_cast<int>(logitRows.size());
    view.decodeOnly = decode;
  }
};

int argmax(const float *row, int n) {
  return static_cast<int>(std::max_element(row, row + n) - row);
}

int failures = 0;

// Compares `got` (cuda) with `want` (host) row by row.
void compare(const char *what, const std::vector<float> &want, const std::vector<float> &got,
             int vocab) {
  int rows = static_cast<int>(want.size() / vocab);
  double maxAbs = 0, err = 0, ref = 0;
  int agree = 0;
  for (int r = 0; r < rows; ++r) {
    const float *w = &want[static_cast<size_t>(r) * vocab];
    const float *g = &got[static_cast<size_t>(r) * vocab];
    for (int i = 0; i < vocab; ++i) {
      double d = std::fabs(double(g[i]) - w[i]);
      maxAbs = std::max(maxAbs, std::isfinite(d) ? d : 1e30);
      err += d * d;
      ref += double(w[i]) * w[i];
    }
    // Agreement unless the host's top two are within f16 rounding.
    int a = argmax(w, vocab), b = argmax(g, vocab);
    std::vector<float> sorted(w, w + vocab);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    agree += a == b || sorted[0] - sorted[1] < 0.05f;
  }
  double rel = ref > 0 ? std::sqrt(err / ref) : 0;
  bool ok = got.size() == want.size() && rel < 2e-2 && agree == rows;
  failures += !ok;
  std::printf("%-4s %-22s rows=%d rel_l2=%.3e max_abs=%.3e argmax %d/%d\n", ok ? "ok" : "FAIL",
              what, rows, rel, maxAbs, agree, rows);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: backend-check model.qtc [--decode-steps N] "
                         "[--prompt-a N] [--prompt-b N]\n");
    return 2;
  }
  int decodeSteps = 32, promptA = 37, promptB = 120;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--decode-steps"))
      decodeSteps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--prompt-a"))
      promptA = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--prompt-b"))
      promptB = std::atoi(argv[i + 1]);
  }
  StatusOr<std::unique_ptr<Artifact>> artifact = Artifact::open(argv[1]);
  if (!artifact.isOk()) {
    std::fprintf(stderr, "backend-check: %s\n", artifact.status().toString().c_str());
    return 1;
  }
  const int vocab = (*artifact)->config().vocab_size();
  const int blockSize = (*artifact)->kvCache().block_size();

  BackendOptions options;
  options.maxTokensPerCall = 512;
  options.numKvBlocks = 256;
  std::unique_ptr<Backend> host = createHostBackend();
  StatusOr<std::unique_ptr<Backend>> cuda = createCudaBackend();
  if (!cuda.isOk()) {
    std::fprintf(stderr, "backend-check: %s\n", cuda.status().toString().c_str());
    return 1;
  }
  for (Backend *b : {host.get(), cuda->get()}) {
    Status s = b->prepare(**artifact, options);
    if (!s.isOk()) {
      std::fprintf(stderr, "backend-check: %s: %s\n", b->name().c_str(), s.toString().c_str());
      return 1;
    }
  }

  // Two prompts of deterministic pseudo-random tokens, blocks interleaved
  // so that the block tables are not the identity.
  std::vector<Sequence> seqs(2);
  uint32_t state = 12345;
  auto nextToken = [&] { state = state * 1664525u + 1013904223u; return int32_t(3 + (state >> 8) % (vocab - 3)); };
  seqs[0].tokens.push_back(1);
  seqs[1].tokens.push_back(1);
  for (int i = 1; i < promptA; ++i) seqs[0].tokens.push_back(nextToken());
  for (int i = 1; i < promptB; ++i) seqs[1].tokens.push_back(nextToken());
  int nextBlock = 0;
  auto ensureBlocks = [&](Sequence &s) {
    while (static_cast<int>(s.blocks.size()) * blockSize < static_cast<int>(s.tokens.size()))
      s.blocks.push_back(nextBlock++ * 7 % options.numKvBlocks);
  };
  for (Sequence &s : seqs)
    ensureBlocks(s);

  auto run = [&](Backend &b, const BatchView &v, std::vector<float> &out) {
    Status s = b.forward(v, out);
    if (!s.isOk()) {
      std::fprintf(stderr, "backend-check: %s forward: %s\n", b.name().c_str(), s.toString().c_str());
      std::exit(1);
    }
  };

  std::vector<float> hostLogits, cudaLogits;
  {
    Batch prefill(seqs, {0, 0}, false);
    run(*host, prefill.view, hostLogits);
    run(**cuda, prefill.view, cudaLogits);
    compare("prefill", hostLogits, cudaLogits, vocab);
  }

  double decodeSeconds = 0;
  for (int step = 0; step < decodeSteps; ++step) {
    std::vector<int> firstNew;
    for (size_t s = 0; s < seqs.size(); ++s) {
      seqs[s].tokens.push_back(argmax(&hostLogits[s * vocab], vocab));
      ensureBlocks(seqs[s]);
      firstNew.push_back(static_cast<int>(seqs[s].tokens.size()) - 1);
    }
    Batch decode(seqs, firstNew, true);
    run(*host, decode.view, hostLogits);
    auto start = std::chrono::steady_clock::now();
    run(**cuda, decode.view, cudaLogits);
    decodeSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (step == 0 || step + 1 == decodeSteps || step % 8 == 7)
      compare(("decode step " + std::to_string(step)).c_str(), hostLogits, cudaLogits, vocab);
  }
  std::printf("cuda decode: %.1f us per step of %zu sequences (wall clock, incl. copies)\n",
              1e6 * decodeSeconds / std::max(1, decodeSteps), seqs.size());

  // Copy-on-write: fork sequence 0 into fresh blocks; the fork and the
  // original must produce the same logits for the same next token.
  Sequence fork;
  fork.tokens = seqs[0].tokens;
  for (int32_t block : seqs[0].blocks) {
    int32_t copy = nextBlock++ * 7 % options.numKvBlocks;
    fork.blocks.push_back(copy);
    for (Backend *b : {host.get(), cuda->get()}) {
      Status s = b->copyKvBlock(block, copy);
      if (!s.isOk()) {
        std::fprintf(stderr, "backend-check: copyKvBlock: %s\n", s.toString().c_str());
        return 1;
      }
    }
  }
  std::vector<Sequence> pair = {seqs[0], fork};
  int32_t token = argmax(&hostLogits[0], vocab);
  for (Sequence &s : pair) {
    s.tokens.push_back(token);
    while (static_cast<int>(s.blocks.size()) * blockSize < static_cast<int>(s.tokens.size()))
      s.blocks.push_back(nextBlock++ * 7 % options.numKvBlocks);
  }
  Batch forked(pair, {static_cast<int>(pair[0].tokens.size()) - 1,
                      static_cast<int>(pair[1].tokens.size()) - 1}, true);
  run(*host, forked.view, hostLogits);
  run(**cuda, forked.view, cudaLogits);
  compare("fork vs host", hostLogits, cudaLogits, vocab);
  std::vector<float> original(cudaLogits.begin(), cudaLogits.begin() + vocab);
  std::vector<float> copy(cudaLogits.begin() + vocab, cudaLogits.end());
  compare("fork vs original", original, copy, vocab);

  std::printf("backend-check: %s\n", failures ? "FAILED" : "all ok");
  return failures ? 1 : 0;
}
