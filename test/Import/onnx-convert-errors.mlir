// Nodes no conversion reads are errors naming the node and its op type.
// RUN: not qtc-opt %s --split-input-file --qtc-onnx-convert-nodes 2>&1 | FileCheck %s

module attributes {onnx.opset = 18 : i64} {
  func.func @unknown(%x: tensor<4xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'mystery' (Hardmax): no conversion for Hardmax at opset 18
    %y = onnx.node "Hardmax"(%x) {attrs = {}} : (tensor<4xf32>) -> !onnx.value loc("mystery")
    return %y : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 18 : i64} {
  func.func @bad_broadcast(%x: tensor<4xf32>, %y: tensor<3xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'add' (Add): operands 'tensor<4xf32>' and 'tensor<3xf32>' do not broadcast
    %z = onnx.node "Add"(%x, %y) {attrs = {}} : (tensor<4xf32>, tensor<3xf32>) -> !onnx.value loc("add")
    return %z : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 18 : i64} {
  func.func @dynamic_axes(%x: tensor<4x6xf32>, %axes: tensor<1xi64>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'mean' (ReduceMean): needs a ranked operand and constant axes
    %z = onnx.node "ReduceMean"(%x, %axes) {attrs = {}} : (tensor<4x6xf32>, tensor<1xi64>) -> !onnx.value loc("mean")
    return %z : !onnx.value
  }
}
