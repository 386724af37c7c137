//===- OnnxDialect.td - ONNX graphs, one op per node -------*- tablegen -*-===//
//
// The level the ONNX importer lands on before anything is recognized: the
// graph as the file states it, then the same ops normalized across opsets.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_DIALECTS_ONNX_ONNXDIALECT_TD
#define QTC_DIALECTS_ONNX_ONNXDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Onnx_Dialect : Dialect {
  let name = "onnx";
  let cppNamespace = "::qtc::onnxir";
  let summary = "ONNX graphs: one op per node, then typed ops per ONNX operator";
  let description = [{
    The ONNX importer's first two levels (docs/onnx-import.md):

    * `onnx.node` holds one ONNX node exactly as the file states it: the op
      type, its domain, its attributes and its operands, with result types
      where the file gives them (`!onnx.value` where it does not). The node's
      name is the op's location.
    * Typed ops named after the ONNX operator (`onnx.Add`, `onnx.Reshape`,
      `onnx.MatMul`, ...) are what `qtc-onnx-convert-nodes` turns each node
      into, one small table entry per operator and opset range: attributes
      that moved to inputs between opsets (`axes`, `split`) are read back
      into attributes, defaults are filled in and result types inferred.
      Their folders evaluate constant and shape subgraphs.

    Initializers and Constant nodes are `onnx.Constant`; float initializers
    hold their bytes as `dense_resource` blobs that view the importer's weight
    store (never copied into the IR), named after the initializer.

    Tensors follow ONNX's conventions: numpy broadcasting, negative axes count
    from the back, `?` is a size the graph computes at run time (in practice
    the sequence length).
  }];
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    void registerTypes();
  }];
}

class Onnx_Op<string mnemonic, list<Trait> traits = []>
    : Op<Onnx_Dialect, mnemonic, traits>;

def Onnx_ValueType : TypeDef<Onnx_Dialect, "Value"> {
  let mnemonic = "value";
  let summary = "An ONNX value whose type the file does not state";
  let description = [{
    The result type of an `onnx.node` whose output has no `value_info` in
    the file. `qtc-onnx-convert-nodes` replaces it with the tensor type it
    infers from the operator's semantics.
  }];
}

#endif // QTC_DIALECTS_ONNX_ONNXDIALECT_TD
