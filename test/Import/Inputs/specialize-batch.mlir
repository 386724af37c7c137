// Input of onnx-specialize-batch.test: graph inputs of each kind.
func.func @main(%ids: tensor<?x?xi64>, %flat: tensor<?xi64>, %x: tensor<?x4x?xf32>, %two: tensor<2x?xi64>) -> !onnx.value {
  %0 = onnx.node "Identity"(%ids) {attrs = {}} : (tensor<?x?xi64>) -> !onnx.value
  return %0 : !onnx.value
}
