//===- OnnxRaiser.cpp - Runs the raising patterns over a graph ------------===//

#include "OnnxRaiser.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace qtc;

Location qtc::onnxNodeLoc(MLIRContext &context, const OnnxGraph &graph,
                          const OnnxNode &node) {
  return NameLoc::get(StringAttr::get(&context, node.displayName()),
                      FileLineColLoc::get(&context, graph.path, 0, 0));
}

LogicalResult qtc::raiseOnnxGraph(MLIRContext &context,
                                  PatternContext &patterns) {
  const OnnxGraph &graph = patterns.graph;
  auto isShapeOnlyNode = [&](const OnnxNode &node) {
    return llvm::all_of(node.outputs, [&](const std::string &output) {
      return output.empty() || graph.isShapeOnly(output);
    });
  };

  for (const OnnxNode &node : graph.nodes) {
    if (!graph.isLive(node) || patterns.consumed.count(node.index) ||
        isShapeOnlyNode(node) || !node.domain.empty())
      continue;
    for (const OnnxPattern &pattern : onnxPatterns()) {
      if (pattern.anchorOp != node.opType ||
          graph.opsetVersion < pattern.minOpset ||
          graph.opsetVersion > pattern.maxOpset)
        continue;
      if (pattern.match(patterns, node))
        break;
    }
  }

  // Shape-only nodes compute positions, masks, tables and reshape targets;
  // the patterns that read them have evaluated what they needed.
  const OnnxNode *first = nullptr, *firstExplained = nullptr;
  size_t unraised = 0;
  for (const OnnxNode &node : graph.nodes) {
    if (!graph.isLive(node) || patterns.consumed.count(node.index) ||
        isShapeOnlyNode(node))
      continue;
    if (!first)
      first = &node;
    if (!firstExplained && patterns.notes.count(node.index))
      firstExplained = &node;
    ++unraised;
  }
  if (!first)
    return success();

  InFlightDiagnostic diag =
      emitError(onnxNodeLoc(context, graph, *first))
      << "cannot raise ONNX node '" << first->displayName() << "' ("
      << (first->domain.empty() ? "" : first->domain + ".") << first->opType
      << ") to tfm: it is not part of a recognized pattern";
  // The reason a pattern gave up explains why the nodes around it remain.
  if (firstExplained == first)
    diag.attachNote() << patterns.notes.lookup(first->index);
  else if (firstExplained)
    diag.attachNote(onnxNodeLoc(context, graph, *firstExplained))
        << "the pattern anchored at '" << firstExplained->displayName() << "' ("
        << firstExplained->opType
        << ") did not match: " << patterns.notes.lookup(firstExplained->index);
  if (unraised > 1)
    diag.attachNote() << (unraised - 1)
                      << " more node(s) are not accounted for";
  return diag;
}
