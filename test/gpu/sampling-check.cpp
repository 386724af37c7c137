//===- sampling-check.cpp - Sampled requests on CUDA against the host -----===//
//
// Runs the same seeded, sampled requests (temperature, top-k, top-p, min-p,
// repetition/presence/frequency penalties) through two Engines over one
// artifact, the host backend's and the CUDA backend's, each as one
// continuous batch, and checks that they agree where their logits do.
// Each request asks for the log-softmax of the whole vocabulary with every
// token (RequestOptions::logprobs = vocab), so the distribution each engine
// drew from is known exactly: the sampler's steps (temperature, min-p,
// top-k, top-p, presence/frequency penalties) do not change when the logits
// shift by a constant; the repetition penalty does (its rule depends on the
// logit's sign), so there the logits are the log-softmax plus the log-sum-exp
// of that engine's score() logits of the context (prefill kernels, close to
// the decode step's).
//
//  - Exactness. Token t of a request on either engine is the sampler's
//    draw, at the uniform u = samplingUniform(seed, 0, t), from that
//    engine's own distribution of step t: a wrong logits row, seed or
//    token index shows here. (With the repetition penalty, a mismatch whose
//    u lies within --tie-slack of a boundary of the cumulative distribution
//    is counted, not failed.)
//  - Agreement. Until a request's first differing token (after it the
//    contexts differ and it is not compared further), the two engines'
//    distributions of each step are within --max-l1 (sum |p_host - p_cuda|).
//    Given exactness, the tokens are then identical wherever the logits
//    agree closely enough for that draw; a differing token is reported with
//    how near u was to a boundary.
//  - Distribution. For each sampling setting, --draws one-token requests
//    with seeds 0, 1, ... run on CUDA in batches of up to 64 (so their
//    logits rows come from batches of every composition); their counts must
//    follow p_host of that context (host score() logits): Pearson's
//    chi-square over the tokens expected at least 5 times (the rest pooled),
//    upper tail beyond 1e-4 by the Wilson-Hilferty approximation is a
//    failure.
//
// Greedy requests are backend-check's (argmax agreement); this is sampling.
// Exits 0 when everything agrees, 1 on a disagreement, 2 on bad usage or an
// engine that cannot be created.
//
//   sampling-check model.qtc [--backend cuda|host] [--other-artifact B.qtc]
//                  [--tokens N] [--draws N] [--max-l1 X] [--tie-slack X]
//
// --backend host compares the host backend with itself (a self-test: every
// token must agree); --other-artifact runs the second engine on another
// artifact of the same model (e.g. --backend host with a w4a16 artifact
// against fp16: logits that really differ, which the check must report).
//
//===----------------------------------------------------------------------===//

#include "qtc/rt/Engine.h"
#include "qtc/rt/Tokenizer.h"
#include "scheduler/Sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <vector>

using namespace qtc::rt;

namespace {

struct Setting {
  const char *name;
  SamplingOptions sampling;
};

std::vector<Setting> settings() {
  auto make = [](float temperature, int topK, float topP, float minP, float repetition,
                 float presence, float frequency) {
    SamplingOptions s;
    s.greedy = false;
    s.temperature = temperature;
    s.topK = topK;
    s.topP = topP;
    s.minP = minP;
    s.repetitionPenalty = repetition;
    s.presencePenalty = presence;
    s.frequencyPenalty = frequency;
    return s;
  };
  return {
      {"temperature 0.8", make(0.8f, 0, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f)},
      {"temperature 1.0, top-p 0.9", make(1.0f, 0, 0.9f, 0.0f, 1.0f, 0.0f, 0.0f)},
      {"temperature 0.7, top-k 40, min-p 0.05", make(0.7f, 40, 1.0f, 0.05f, 1.0f, 0.0f, 0.0f)},
      {"temperature 0.9, repetition 1.3, presence 0.4, frequency 0.2",
       make(0.9f, 0, 1.0f, 0.0f, 1.3f, 0.4f, 0.2f)},
      {"temperature 1.2, top-p 0.95, repetition 1.1, frequency 0.5",
       make(1.2f, 0, 0.95f, 0.0f, 1.1f, 0.0f, 0.5f)},
  };
}

// Where u falls in p's cumulative distribution, tokens in the sampler's
// order (most likely first, lower id on ties): the token, and the distance
// from u to the nearer end of its interval.
struct Draw {
  int32_t token = -1;
  double margin = 0;
};

Draw drawFrom(const std::vector<double> &p, double u) {
  std::vector<int32_t> order;
  for (int32_t id = 0; id < static_cast<int32_t>(p.size()); ++id)
    if (p[id] > 0)
      order.push_back(id);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  Draw draw;
  double cumulative = 0;
  for (int32_t id : order) {
    const double next = cumulative + p[id];
    if (u < next || id == order.back()) {
      draw.token = id;
      draw.margin = std::min(u - cumulative, next - u);
      return draw;
    }
    cumulative = next;
  }
  return draw;
}

double l1(const std::vector<double> &a, const std::vector<double> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += std::fabs(a[i] - b[i]);
  return sum;
}

// The last row of `engine`'s logits after `ids`.
bool lastLogits(Engine &engine, const std::vector<int32_t> &ids, int vocab,
                std::vector<float> &row) {
  ScoreOptions options;
  options.keepLogits = true;
  StatusOr<ScoreResult> scored = engine.score(ids, options);
  if (!scored) {
    std::fprintf(stderr, "score on %s: %s\n", engine.backendName().c_str(),
                 scored.status().toString().c_str());
    return false;
  }
  row.assign(scored->logits.end() - vocab, scored->logits.end());
  return true;
}

// Runs every request in one continuous batch; each request's outputs, in order.
bool runAll(Engine &engine, const std::vector<std::vector<int32_t>> &prompts,
            const std::vector<RequestOptions> &options,
            std::vector<std::vector<RequestOutput>> &outputs) {
  std::map<RequestId, size_t> index;
  outputs.assign(prompts.size(), {});
  for (size_t r = 0; r < prompts.size(); ++r) {
    StatusOr<RequestId> id = engine.addRequest(prompts[r], options[r]);
    if (!id) {
      std::fprintf(stderr, "addRequest on %s: %s\n", engine.backendName().c_str(),
                   id.status().toString().c_str());
      return false;
    }
    index[*id] = r;
  }
  while (engine.hasUnfinishedRequests()) {
    StatusOr<std::vector<RequestOutput>> step = engine.step();
    if (!step) {
      std::fprintf(stderr, "step on %s: %s\n", engine.backendName().c_str(),
                   step.status().toString().c_str());
      return false;
    }
    for (RequestOutput &out : *step)
      outputs[index.at(out.id)].push_back(std::move(out));
  }
  return true;
}

std::vector<int32_t> tokensOf(const std::vector<RequestOutput> &outputs) {
  std::vector<int32_t> tokens;
  for (const RequestOutput &out : outputs)
    tokens.insert(tokens.end(), out.newTokens.begin(), out.newTokens.end());
  return tokens;
}

// The logits a step's sampler saw, up to a constant: its log-softmax over
// the vocabulary (logprobs = vocab), plus `shift`.
std::vector<float> logitsOf(const RequestOutput &out, int vocab, double shift) {
  std::vector<float> logits(vocab, -INFINITY);
  for (const TokenLogprob &t : out.topLogprobs)
    logits[t.id] = static_cast<float>(t.logprob + shift);
  return logits;
}

double logSumExp(const std::vector<float> &row) {
  double maxLogit = *std::max_element(row.begin(), row.end()), sum = 0;
  for (float l : row)
    sum += std::exp(l - maxLogit);
  return maxLogit + std::log(sum);
}

// Upper chi-square quantile at tail probability 1e-4 (Wilson-Hilferty).
double chiSquareCritical(int df) {
  const double z = 3.719; // upper 1e-4 quantile of the standard normal
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: sampling-check model.qtc [--backend cuda|host] "
                         "[--other-artifact B.qtc] [--tokens N] [--draws N] [--max-l1 X] "
                         "[--tie-slack X]\n");
    return 2;
  }
  std::string backend = "cuda", otherArtifact = argv[1];
  int tokensPerRequest = 24, draws = 4000;
  double maxL1 = 0.05, tieSlack = 1e-3;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--backend"))
      backend = argv[i + 1];
    else if (!std::strcmp(argv[i], "--other-artifact"))
      otherArtifact = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokens"))
      tokensPerRequest = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--draws"))
      draws = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--max-l1"))
      maxL1 = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--tie-slack"))
      tieSlack = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "sampling-check: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  StatusOr<BackendKind> kind = parseBackendKind(backend);
  if (!kind || *kind == BackendKind::kAuto || tokensPerRequest < 1 || draws < 1) {
    std::fprintf(stderr, "sampling-check: bad --backend, --tokens or --draws\n");
    return 2;
  }
  EngineOptions hostOptions, otherOptions;
  hostOptions.backend = BackendKind::kHost;
  otherOptions.backend = *kind;
  StatusOr<std::unique_ptr<Engine>> host = Engine::create(argv[1], hostOptions);
  StatusOr<std::unique_ptr<Engine>> other = Engine::create(otherArtifact, otherOptions);
  if (!host || !other) {
    std::fprintf(stderr, "sampling-check: %s\n",
                 (!host ? host.status() : other.status()).toString().c_str());
    return 2;
  }
  const int vocab = (*host)->artifact().config().vocab_size();
  const std::string otherName = (*other)->backendName();

  // Prompts: text when the artifact has a tokenizer, else fixed ids.
  std::vector<std::vector<int32_t>> prompts;
  for (const char *text : {"In the beginning", "And God said, Let there be", "The LORD is my",
                           "Blessed are the"}) {
    StatusOr<std::vector<int32_t>> ids = (*host)->encode(text);
    if (ids) {
      prompts.push_back(*ids);
    } else {
      std::vector<int32_t> synthetic = {1};
      for (int i = 0; i < 6 + static_cast<int>(prompts.size()); ++i)
        synthetic.push_back(static_cast<int32_t>(3 + (37 * i + 11 * prompts.size()) % (vocab - 3)));
      prompts.push_back(synthetic);
    }
  }

  std::printf("sampling-check: host vs %s, %s; prompts %s\n", otherName.c_str(),
              otherArtifact.c_str(),
              (*host)->tokenizer() ? "from the artifact's tokenizer"
                                   : ("of fixed ids (" + (*host)->tokenizerError().toString() + ")")
                                         .c_str());
  bool ok = true;
  int64_t comparedTotal = 0, identicalTotal = 0;
  for (const Setting &setting : settings()) {
    // Two seeds per prompt, all in one batch.
    std::vector<std::vector<int32_t>> batch;
    std::vector<RequestOptions> options;
    for (uint64_t seed : {uint64_t{1}, uint64_t{77}})
      for (const std::vector<int32_t> &prompt : prompts) {
        RequestOptions r;
        r.maxNewTokens = tokensPerRequest;
        r.logprobs = vocab;
        r.stopAtEos = false;
        r.sampling = setting.sampling;
        r.sampling.seed = seed + batch.size();
        batch.push_back(prompt);
        options.push_back(r);
      }
    std::vector<std::vector<RequestOutput>> hostOutputs, otherOutputs;
    if (!runAll(**host, batch, options, hostOutputs) ||
        !runAll(**other, batch, options, otherOutputs))
      return 1;
    const bool shiftMatters = setting.sampling.repetitionPenalty != 1.0f;
    int compared = 0, identicalRequests = 0, differing = 0, failures = 0, slackMismatches = 0;
    double worstL1 = 0, sumL1 = 0;
    for (size_t r = 0; r < batch.size(); ++r) {
      const std::vector<int32_t> a = tokensOf(hostOutputs[r]), b = tokensOf(otherOutputs[r]);
      if (a.size() != b.size() || a.size() != static_cast<size_t>(tokensPerRequest)) {
        ++failures;
        std::printf("  FAIL request %zu: %zu tokens on host, %zu on %s, %d asked for\n", r,
                    a.size(), b.size(), otherName.c_str(), tokensPerRequest);
        continue;
      }
      std::vector<int32_t> output; // the common context so far
      bool diverged = false;
      for (size_t t = 0; t < a.size() && !diverged; ++t) {
        const double u = samplingUniform(options[r].sampling.seed, 0, t);
        std::vector<double> p[2];
        Engine *engines[2] = {host->get(), other->get()};
        const std::vector<RequestOutput> *outs[2] = {&hostOutputs[r], &otherOutputs[r]};
        for (int e = 0; e < 2; ++e) {
          const RequestOutput &out = (*outs[e])[t];
          if (static_cast<int>(out.topLogprobs.size()) != vocab) {
            std::printf("  FAIL request %zu token %zu: %zu logprobs, not the vocabulary's %d\n",
                        r, t, out.topLogprobs.size(), vocab);
            return 1;
          }
          double shift = 0;
          if (shiftMatters) {
            std::vector<int32_t> context = batch[r];
            context.insert(context.end(), output.begin(), output.end());
            std::vector<float> row;
            if (!lastLogits(*engines[e], context, vocab, row))
              return 1;
            shift = logSumExp(row);
          }
          const std::vector<float> logits = logitsOf(out, vocab, shift);
          Sampler sampler(options[r].sampling, 0);
          p[e] = sampler.distribution(logits.data(), vocab, batch[r], output);
          const int32_t redrawn = sampler.next(logits.data(), vocab, batch[r], output);
          if (redrawn != out.newTokens.at(0)) {
            const Draw draw = drawFrom(p[e], u);
            if (shiftMatters && draw.margin <= tieSlack) {
              ++slackMismatches;
            } else {
              ++failures;
              std::printf("  FAIL request %zu token %zu on %s: drew %d, but its distribution "
                          "gives %d at u %.6f (%.3g from a boundary)\n",
                          r, t, engines[e]->backendName().c_str(), out.newTokens[0], redrawn, u,
                          draw.margin);
            }
          }
        }
        const double distance = l1(p[0], p[1]);
        worstL1 = std::max(worstL1, distance);
        sumL1 += distance;
        ++compared;
        if (distance > maxL1) {
          ++failures;
          std::printf("  FAIL request %zu token %zu: L1 %.4g between the distributions > %.4g\n",
                      r, t, distance, maxL1);
        }
        if (a[t] != b[t]) {
          diverged = true;
          ++differing;
          const Draw dh = drawFrom(p[0], u), dc = drawFrom(p[1], u);
          std::printf("  request %zu token %zu: host %d, %s %d (u %.6f, %.3g and %.3g from a "
                      "boundary, L1 %.3g); not compared further\n",
                      r, t, a[t], otherName.c_str(), b[t], u, dh.margin, dc.margin, distance);
        }
        output.push_back(a[t]);
      }
      identicalRequests += a == b ? 1 : 0;
    }
    comparedTotal += compared;
    identicalTotal += identicalRequests;

    // The distribution of the first token after prompt 0 over many seeds.
    std::vector<std::vector<int32_t>> drawPrompts(draws, prompts[0]);
    std::vector<RequestOptions> drawOptions(draws);
    for (int d = 0; d < draws; ++d) {
      drawOptions[d].maxNewTokens = 1;
      drawOptions[d].stopAtEos = false;
      drawOptions[d].sampling = setting.sampling;
      drawOptions[d].sampling.seed = static_cast<uint64_t>(d);
    }
    std::vector<std::vector<RequestOutput>> drawnOutputs;
    if (!runAll(**other, drawPrompts, drawOptions, drawnOutputs))
      return 1;
    std::vector<float> hostRow;
    if (!lastLogits(**host, prompts[0], vocab, hostRow))
      return 1;
    Sampler sampler(setting.sampling, 0);
    const std::vector<double> p = sampler.distribution(hostRow.data(), vocab, prompts[0], {});
    std::vector<int> counts(vocab, 0);
    int outside = 0;
    for (const std::vector<RequestOutput> &outs : drawnOutputs) {
      const std::vector<int32_t> tokens = tokensOf(outs);
      if (tokens.size() != 1 || tokens[0] < 0 || tokens[0] >= vocab) {
        ++outside;
        continue;
      }
      ++counts[tokens[0]];
      outside += p[tokens[0]] == 0 ? 1 : 0;
    }
    double chi = 0, pooledExpected = 0, pooledCount = 0;
    int bins = 0;
    for (int id = 0; id < vocab; ++id) {
      const double expected = p[id] * draws;
      if (expected >= 5) {
        chi += (counts[id] - expected) * (counts[id] - expected) / expected;
        ++bins;
      } else {
        pooledExpected += expected;
        pooledCount += counts[id];
      }
    }
    if (pooledExpected >= 5) {
      chi += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / pooledExpected;
      ++bins;
    }
    const double critical = bins > 1 ? chiSquareCritical(bins - 1) : 0;
    // Tokens the host's distribution cannot pick may still come from CUDA's
    // at a top-k/top-p/min-p edge; more than 0.5% of the draws is a failure.
    const bool distributionOk = (bins < 2 || chi < critical) && outside <= draws / 200;
    if (!distributionOk)
      ++failures;
    std::printf("%s %s: %d requests, %d identical, %d differing; %d steps compared, mean L1 "
                "%.3g, worst %.3g%s; %d draws: chi-square %.1f over %d bins (limit %.1f), %d "
                "outside the host's support%s\n",
                failures ? "FAIL" : "ok  ", setting.name, static_cast<int>(batch.size()),
                identicalRequests, differing, compared, compared ? sumL1 / compared : 0.0, worstL1,
                slackMismatches ? (" (" + std::to_string(slackMismatches) +
                                   " redraws within --tie-slack)").c_str()
                                : "",
                draws, chi, bins, critical, outside, distributionOk ? "" : "  <- distribution");
    ok &= failures == 0;
  }
  std::printf("sampling-check host vs %s: %s (%lld steps compared, %lld requests identical)\n",
              otherName.c_str(), ok ? "agree" : "DISAGREE",
              static_cast<long long>(comparedTotal), static_cast<long long>(identicalTotal));
  return ok ? 0 : 1;
}
