// qtc-onnx-strip-kv-cache on onnx.nodes: past key/value inputs found by
// data flow (a Concat on the sequence axis whose result is a graph output, or
// a fused attention's past operand whose present is one) leave @main with
// their present outputs; the runtime's paged cache takes their place.
// RUN: qtc-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(qtc-onnx-strip-kv-cache))' | FileCheck %s

// optimum: Concat(past, new) on axis -2, returned through an Identity as
// `present`; Shape(past)[2] (the past length) becomes the constant 0.
// CHECK-LABEL: func.func @concat
// CHECK-SAME:  (%[[NEW:.*]]: tensor<1x2x?x16xf32>, %[[IDS:.*]]: tensor<1x?xi64>) -> !onnx.value
// CHECK-SAME:  onnx.input_names = ["new", "input_ids"]
// CHECK:       %[[LEN:.*]] = onnx.Constant dense<0> : tensor<1xi64>
// CHECK:       %[[Y:.*]] = onnx.node "Sink"(%[[NEW]], %[[LEN]], %[[IDS]])
// CHECK-NOT:   "Concat"
// CHECK:       return %[[Y]] : !onnx.value
func.func @concat(%new: tensor<1x2x?x16xf32>, %past: tensor<?x2x?x16xf32>, %ids: tensor<1x?xi64>) -> (!onnx.value, !onnx.value) attributes {onnx.input_names = ["new", "past_key_values.0.key", "input_ids"]} {
  %k = onnx.node "Concat"(%past, %new) {attrs = {axis = -2 : i64}} : (tensor<?x2x?x16xf32>, tensor<1x2x?x16xf32>) -> !onnx.value
  %len = onnx.node "Shape"(%past) {attrs = {start = 2 : i64, end = 3 : i64}} : (tensor<?x2x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%k, %len, %ids) {attrs = {}} : (!onnx.value, !onnx.value, tensor<1x?xi64>) -> !onnx.value
  %present = onnx.node "Identity"(%k) {attrs = {}} : (!onnx.value) -> !onnx.value
  return %y, %present : !onnx.value, !onnx.value
}

// -----

// One Identity copy returned twice (and a chain of two): both outputs
// are the present and go.
// CHECK-LABEL: func.func @copies
// CHECK-SAME:  -> !onnx.value
// CHECK-NOT:   "Identity"
// CHECK:       return %{{.*}} : !onnx.value
func.func @copies(%new: tensor<1x2x?x16xf32>, %past: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value, !onnx.value) {
  %k = onnx.node "Concat"(%past, %new) {attrs = {axis = 2 : i64}} : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%k) {attrs = {}} : (!onnx.value) -> !onnx.value
  %c1 = onnx.node "Identity"(%k) {attrs = {}} : (!onnx.value) -> !onnx.value
  %c2 = onnx.node "Identity"(%c1) {attrs = {}} : (!onnx.value) -> !onnx.value
  return %y, %c1, %c2 : !onnx.value, !onnx.value, !onnx.value
}

// -----

// A whole Shape of the past: [1, kv_heads, 0, head_dim].
// CHECK-LABEL: func.func @whole_shape
// CHECK:       onnx.Constant dense<[1, 2, 0, 16]> : tensor<4xi64>
func.func @whole_shape(%new: tensor<1x2x?x16xf32>, %past: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value) {
  %k = onnx.node "Concat"(%past, %new) {attrs = {axis = 2 : i64}} : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> !onnx.value
  %s = onnx.node "Shape"(%past) {attrs = {}} : (tensor<1x2x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%k, %s) {attrs = {}} : (!onnx.value, !onnx.value) -> !onnx.value
  return %y, %k : !onnx.value, !onnx.value
}

// -----

// onnxruntime's GroupQueryAttention with past_key/past_value (operands 3
// and 4) and present outputs: the pasts become onnx.absent, the presents go.
// CHECK-LABEL: func.func @gqa
// CHECK-SAME:  (%[[Q:.*]]: tensor<1x?x64xf32>, %[[K:.*]]: tensor<1x?x32xf32>, %[[V:.*]]: tensor<1x?x32xf32>) -> !onnx.value
// CHECK:       %[[NONE:.*]] = onnx.absent
// CHECK:       %[[NONE2:.*]] = onnx.absent
// CHECK:       %[[A:.*]]:3 = onnx.node "GroupQueryAttention"(%[[Q]], %[[K]], %[[V]], %[[NONE]], %[[NONE2]])
// CHECK:       return %[[A]]#0 : !onnx.value
func.func @gqa(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>, %v: tensor<1x?x32xf32>, %pk: tensor<1x2x?x16xf32>, %pv: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value, !onnx.value) {
  %a:3 = onnx.node "GroupQueryAttention"(%q, %k, %v, %pk, %pv) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value, !onnx.value)
  return %a#0, %a#1, %a#2 : !onnx.value, !onnx.value, !onnx.value
}

// -----

// Opset 23's Attention with past_key/past_value (operands 4 and 5) and
// present outputs (results 1 and 2).
// CHECK-LABEL: func.func @attention23
// CHECK-SAME:  (%[[Q:.*]]: tensor<1x4x?x16xf32>, %[[K:.*]]: tensor<1x2x?x16xf32>) -> !onnx.value
// CHECK:       %[[A:.*]]:3 = onnx.node "Attention"(%[[Q]], %[[K]], %[[K]], %{{.*}}, %{{.*}}, %{{.*}}) {{.*}} : (tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, none, none, none)
// CHECK:       return %[[A]]#0 : !onnx.value
func.func @attention23(%q: tensor<1x4x?x16xf32>, %k: tensor<1x2x?x16xf32>, %pk: tensor<1x2x?x16xf32>, %pv: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value, !onnx.value) {
  %none = onnx.absent
  %a:3 = onnx.node "Attention"(%q, %k, %k, %none, %pk, %pv) {attrs = {is_causal = 1 : i64}} : (tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, none, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value, !onnx.value)
  return %a#0, %a#1, %a#2 : !onnx.value, !onnx.value, !onnx.value
}

// -----

// Concats of graph inputs that are not returned (or whose input is the
// second operand) are not a cache: left as they are.
// CHECK-LABEL: func.func @no_past
// CHECK-SAME:  (%{{.*}}: tensor<1x2x?x16xf32>, %{{.*}}: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value)
// CHECK:       onnx.node "Concat"
// CHECK:       onnx.node "Concat"
// CHECK:       return %{{.*}}, %{{.*}} : !onnx.value, !onnx.value
func.func @no_past(%a: tensor<1x2x?x16xf32>, %b: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value) {
  %c = onnx.node "Concat"(%a, %b) {attrs = {axis = 2 : i64}} : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> !onnx.value
  %d = onnx.node "Concat"(%c, %b) {attrs = {axis = 2 : i64}} : (!onnx.value, tensor<1x2x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%c) {attrs = {}} : (!onnx.value) -> !onnx.value
  return %y, %d : !onnx.value, !onnx.value
}

// -----

func.func @wrong_axis(%new: tensor<1x2x?x16xf32>, %past: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value) attributes {onnx.input_names = ["new", "past"]} {
  // expected-error @+1 {{concatenates the past key/value 'past' on axis 1; the runtime's cache grows on the sequence axis (2)}}
  %k = onnx.node "Concat"(%past, %new) {attrs = {axis = 1 : i64}} : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%k) {attrs = {}} : (!onnx.value) -> !onnx.value
  return %y, %k : !onnx.value, !onnx.value
}

// -----

func.func @other_reader(%new: tensor<1x2x?x16xf32>, %past: tensor<1x2x?x16xf32>) -> (!onnx.value, !onnx.value) attributes {onnx.input_names = ["new", "past"]} {
  %k = onnx.node "Concat"(%past, %new) {attrs = {axis = 2 : i64}} : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> !onnx.value
  // expected-error @+1 {{reads the past key/value 'past' other than by a Concat with the new keys or values on the sequence axis}}
  %r = onnx.node "ReduceMean"(%past) {attrs = {}} : (tensor<1x2x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%k, %r) {attrs = {}} : (!onnx.value, !onnx.value) -> !onnx.value
  return %y, %k : !onnx.value, !onnx.value
}

// -----

func.func @dynamic_heads(%new: tensor<1x?x?x16xf32>, %past: tensor<1x?x?x16xf32>) -> (!onnx.value, !onnx.value) attributes {onnx.input_names = ["new", "past"]} {
  // expected-error @+1 {{takes graph input 'past' as a past key/value, which must be [batch, kv_heads, past, head_dim] with static heads and head_dim}}
  %k = onnx.node "Concat"(%past, %new) {attrs = {axis = 2 : i64}} : (tensor<1x?x?x16xf32>, tensor<1x?x?x16xf32>) -> !onnx.value
  %y = onnx.node "Sink"(%k) {attrs = {}} : (!onnx.value) -> !onnx.value
  return %y, %k : !onnx.value, !onnx.value
}
