// RUN: qtc-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qtc-onnx-raise-rope,canonicalize))' | FileCheck %s

// The dynamo exporter's RoPE: cos/sin computed from inv_freq x positions
// (Range over the sequence length, MatMul), rotate-half by Slice/Neg/Concat
// on a [1, heads, T, head_dim] view. The positions come from the sequence
// length, so the function gains a `positions` argument.
// CHECK-LABEL: func.func @computed
// CHECK-SAME: (%[[IDS:.*]]: tensor<1x?xi64>, %[[Q:.*]]: tensor<1x?x16xf32>, %[[POS:.*]]: tensor<?xi64>)
// CHECK-SAME: onnx.input_names = ["input_ids", "q", "positions"]
// CHECK: %[[T:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0, 1], [2]]
// CHECK: %[[R:.*]] = tfm.rope %[[T]], %[[POS]] {head_dim = 8 : i64, theta = 1.000000e+04 : f32} : tensor<?x16xf32>, tensor<?xi64>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[R]]
// CHECK: %[[H:.*]] = onnx.Reshape %[[E]]
// CHECK: %[[V:.*]] = onnx.Transpose %[[H]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: onnx.Cos
// CHECK: return %[[V]]
func.func @computed(%ids: tensor<1x?xi64>, %q: tensor<1x?x16xf32>) -> tensor<1x2x?x8xf32> attributes {onnx.input_names = ["input_ids", "q"]} {
  %shape = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %invf = onnx.Constant dense<[[[1.0], [0.1], [0.01], [0.001]]]> : tensor<1x4x1xf32>
  %zero = onnx.Constant dense<0> : tensor<i64>
  %one = onnx.Constant dense<1> : tensor<i64>
  %s0 = onnx.Constant dense<0> : tensor<1xi64>
  %s4 = onnx.Constant dense<4> : tensor<1xi64>
  %sbig = onnx.Constant dense<9223372036854775807> : tensor<1xi64>
  %a3 = onnx.Constant dense<3> : tensor<1xi64>
  %st = onnx.Constant dense<1> : tensor<1xi64>
  %len = onnx.Shape %ids {end = 2 : i64, start = 1 : i64} : tensor<1x?xi64> -> tensor<1xi64>
  %n = onnx.Squeeze %len {axes = array<i64: 0>} : tensor<1xi64> -> tensor<i64>
  %r = onnx.Range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = onnx.Unsqueeze %r {axes = array<i64: 0, 1>} : tensor<?xi64> -> tensor<1x1x?xi64>
  %pf = onnx.Cast %p : tensor<1x1x?xi64> -> tensor<1x1x?xf32>
  %fr = onnx.MatMul %invf, %pf : tensor<1x4x1xf32>, tensor<1x1x?xf32> -> tensor<1x4x?xf32>
  %ft = onnx.Transpose %fr {perm = array<i64: 0, 2, 1>} : tensor<1x4x?xf32> -> tensor<1x?x4xf32>
  %emb = onnx.Concat %ft, %ft {axis = 2 : i64} : (tensor<1x?x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x8xf32>
  %c = onnx.Cos %emb : tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %s = onnx.Sin %emb : tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %c {axes = array<i64: 1>} : tensor<1x?x8xf32> -> tensor<1x1x?x8xf32>
  %sin = onnx.Unsqueeze %s {axes = array<i64: 1>} : tensor<1x?x8xf32> -> tensor<1x1x?x8xf32>
  %h = onnx.Reshape %q, %shape : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %x = onnx.Transpose %h {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %lo = onnx.Slice %x, %s0, %s4, %a3, %st : (tensor<1x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x?x4xf32>
  %hi = onnx.Slice %x, %s4, %sbig, %a3, %st : (tensor<1x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x?x4xf32>
  %nhi = onnx.Neg %hi : tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  %rot = onnx.Concat %nhi, %lo {axis = 3 : i64} : (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x8xf32>
  %a = onnx.Mul %x, %cos : tensor<1x2x?x8xf32>, tensor<1x1x?x8xf32> -> tensor<1x2x?x8xf32>
  %b = onnx.Mul %sin, %rot : tensor<1x1x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %y = onnx.Add %b, %a : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %y : tensor<1x2x?x8xf32>
}

// -----

// TorchScript's RoPE: tables gathered by position_ids (positions scaled
// linearly by 2), rotate-half by Split, on a [1, T, heads, head_dim] view.
// The rotation reads the graph's position_ids.
// CHECK-LABEL: func.func @gathered
// CHECK-SAME: (%[[PIDS:.*]]: tensor<1x?xi64>, %[[Q:.*]]: tensor<1x?x16xf32>)
// CHECK-SAME: onnx.input_names = ["position_ids", "q"]
// CHECK: %[[POS:.*]] = tensor.collapse_shape %[[PIDS]] {{\[\[}}0, 1]] : tensor<1x?xi64> into tensor<?xi64>
// CHECK: %[[R:.*]] = tfm.rope %{{.*}}, %[[POS]] {head_dim = 8 : i64, scaling = #tfm.rope_scaling<kind = linear, factor = 2.000000e+00>, theta = 1.000000e+04 : f32}
// CHECK: %[[H:.*]] = onnx.Reshape
// CHECK-NEXT: return %[[H]]
func.func @gathered(%pids: tensor<1x?xi64>, %q: tensor<1x?x16xf32>) -> tensor<1x?x2x8xf32> attributes {onnx.input_names = ["position_ids", "q"]} {
  %shape = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %cost = onnx.Constant dense<[[1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00], [8.77582550e-01, 9.98750269e-01, 9.99987483e-01, 9.99999881e-01, 8.77582550e-01, 9.98750269e-01, 9.99987483e-01, 9.99999881e-01], [5.40302277e-01, 9.95004177e-01, 9.99949992e-01, 9.99999523e-01, 5.40302277e-01, 9.95004177e-01, 9.99949992e-01, 9.99999523e-01], [7.07371980e-02, 9.88771081e-01, 9.99887526e-01, 9.99998868e-01, 7.07371980e-02, 9.88771081e-01, 9.99887526e-01, 9.99998868e-01], [-4.16146845e-01, 9.80066597e-01, 9.99800026e-01, 9.99997973e-01, -4.16146845e-01, 9.80066597e-01, 9.99800026e-01, 9.99997973e-01], [-8.01143587e-01, 9.68912423e-01, 9.99687493e-01, 9.99996901e-01, -8.01143587e-01, 9.68912423e-01, 9.99687493e-01, 9.99996901e-01], [-9.89992499e-01, 9.55336511e-01, 9.99550045e-01, 9.99995530e-01, -9.89992499e-01, 9.55336511e-01, 9.99550045e-01, 9.99995530e-01], [-9.36456680e-01, 9.39372718e-01, 9.99387562e-01, 9.99993861e-01, -9.36456680e-01, 9.39372718e-01, 9.99387562e-01, 9.99993861e-01], [-6.53643608e-01, 9.21060979e-01, 9.99200106e-01, 9.99992013e-01, -6.53643608e-01, 9.21060979e-01, 9.99200106e-01, 9.99992013e-01], [-2.10795805e-01, 9.00447130e-01, 9.98987675e-01, 9.99989867e-01, -2.10795805e-01, 9.00447130e-01, 9.98987675e-01, 9.99989867e-01], [2.83662200e-01, 8.77582550e-01, 9.98750269e-01, 9.99987483e-01, 2.83662200e-01, 8.77582550e-01, 9.98750269e-01, 9.99987483e-01], [7.08669782e-01, 8.52524519e-01, 9.98487890e-01, 9.99984860e-01, 7.08669782e-01, 8.52524519e-01, 9.98487890e-01, 9.99984860e-01], [9.60170269e-01, 8.25335622e-01, 9.98200536e-01, 9.99981999e-01, 9.60170269e-01, 8.25335622e-01, 9.98200536e-01, 9.99981999e-01], [9.76587653e-01, 7.96083808e-01, 9.97888267e-01, 9.99978900e-01, 9.76587653e-01, 7.96083808e-01, 9.97888267e-01, 9.99978900e-01], [7.53902256e-01, 7.64842212e-01, 9.97551024e-01, 9.99975502e-01, 7.53902256e-01, 7.64842212e-01, 9.97551024e-01, 9.99975502e-01], [3.46635312e-01, 7.31688857e-01, 9.97188807e-01, 9.99971867e-01, 3.46635312e-01, 7.31688857e-01, 9.97188807e-01, 9.99971867e-01]]> : tensor<16x8xf32>
  %sint = onnx.Constant dense<[[0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00], [4.79425550e-01, 4.99791689e-02, 4.99997940e-03, 4.99999966e-04, 4.79425550e-01, 4.99791689e-02, 4.99997940e-03, 4.99999966e-04], [8.41470957e-01, 9.98334140e-02, 9.99983307e-03, 9.99999815e-04, 8.41470957e-01, 9.98334140e-02, 9.99983307e-03, 9.99999815e-04], [9.97494996e-01, 1.49438128e-01, 1.49994371e-02, 1.49999943e-03, 9.97494996e-01, 1.49438128e-01, 1.49994371e-02, 1.49999943e-03], [9.09297407e-01, 1.98669329e-01, 1.99986659e-02, 1.99999870e-03, 9.09297407e-01, 1.98669329e-01, 1.99986659e-02, 1.99999870e-03], [5.98472118e-01, 2.47403964e-01, 2.49973964e-02, 2.49999738e-03, 5.98472118e-01, 2.47403964e-01, 2.49973964e-02, 2.49999738e-03], [1.41120002e-01, 2.95520216e-01, 2.99955010e-02, 2.99999560e-03, 1.41120002e-01, 2.95520216e-01, 2.99955010e-02, 2.99999560e-03], [-3.50783229e-01, 3.42897803e-01, 3.49928550e-02, 3.49999289e-03, -3.50783229e-01, 3.42897803e-01, 3.49928550e-02, 3.49999289e-03], [-7.56802499e-01, 3.89418334e-01, 3.99893336e-02, 3.99998948e-03, -7.56802499e-01, 3.89418334e-01, 3.99893336e-02, 3.99998948e-03], [-9.77530122e-01, 4.34965521e-01, 4.49848138e-02, 4.49998491e-03, -9.77530122e-01, 4.34965521e-01, 4.49848138e-02, 4.49998491e-03], [-9.58924294e-01, 4.79425550e-01, 4.99791689e-02, 4.99997940e-03, -9.58924294e-01, 4.79425550e-01, 4.99791689e-02, 4.99997940e-03], [-7.05540299e-01, 5.22687256e-01, 5.49722761e-02, 5.49997250e-03, -7.05540299e-01, 5.22687256e-01, 5.49722761e-02, 5.49997250e-03], [-2.79415488e-01, 5.64642489e-01, 5.99640049e-02, 5.99996420e-03, -2.79415488e-01, 5.64642489e-01, 5.99640049e-02, 5.99996420e-03], [2.15119988e-01, 6.05186403e-01, 6.49542361e-02, 6.49995403e-03, 2.15119988e-01, 6.05186403e-01, 6.49542361e-02, 6.49995403e-03], [6.56986594e-01, 6.44217670e-01, 6.99428469e-02, 6.99994294e-03, 6.56986594e-01, 6.44217670e-01, 6.99428469e-02, 6.99994294e-03], [9.37999964e-01, 6.81638777e-01, 7.49297068e-02, 7.49992952e-03, 9.37999964e-01, 6.81638777e-01, 7.49297068e-02, 7.49992952e-03]]> : tensor<16x8xf32>
  %c = onnx.Gather %cost, %pids : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  %s = onnx.Gather %sint, %pids : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %c {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1x8xf32>
  %sin = onnx.Unsqueeze %s {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1x8xf32>
  %x = onnx.Reshape %q, %shape : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %lo, %hi = onnx.Split %x {axis = -1 : i64, sizes = array<i64: 4, 4>} : tensor<1x?x2x8xf32> -> tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>
  %nhi = onnx.Neg %hi : tensor<1x?x2x4xf32> -> tensor<1x?x2x4xf32>
  %rot = onnx.Concat %nhi, %lo {axis = -1 : i64} : (tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>) -> tensor<1x?x2x8xf32>
  %a = onnx.Mul %cos, %x : tensor<1x?x1x8xf32>, tensor<1x?x2x8xf32> -> tensor<1x?x2x8xf32>
  %b = onnx.Mul %rot, %sin : tensor<1x?x2x8xf32>, tensor<1x?x1x8xf32> -> tensor<1x?x2x8xf32>
  %y = onnx.Add %a, %b : tensor<1x?x2x8xf32>, tensor<1x?x2x8xf32> -> tensor<1x?x2x8xf32>
  return %y : tensor<1x?x2x8xf32>
}

// -----

// Tables that are not cos/sin(position * theta^(-2i/d)) stay as they are.
// CHECK-LABEL: func.func @not_rope_tables
// CHECK-NOT: tfm.rope
func.func @not_rope_tables(%pids: tensor<1x?xi64>, %q: tensor<1x?x16xf32>) -> tensor<1x?x2x8xf32> attributes {onnx.input_names = ["position_ids", "q"]} {
  %shape = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %t = onnx.Constant dense<[[2.73923367e-01, -4.60426569e-01, -9.18052971e-01, -9.66944754e-01, 6.26540482e-01, 8.25511158e-01, 2.13271558e-01, 4.58993107e-01], [8.72499794e-02, 8.70144844e-01, 6.31707132e-01, -9.94522989e-01, 7.14808524e-01, -9.32828844e-01, 4.59310889e-01, -6.48688734e-01], [7.26357818e-01, 8.29224437e-02, -4.00576204e-01, -1.54625565e-01, -9.43360686e-01, -7.51433432e-01, 3.41248840e-01, 2.94379026e-01], [2.30770230e-01, -2.32644886e-01, 9.94419873e-01, 9.61670697e-01, 3.71083975e-01, 3.00918549e-01, 3.76893461e-01, -2.22157151e-01], [-7.29807019e-01, 4.42976683e-01, 5.07086441e-02, -3.79516244e-01, -2.83292830e-02, 7.78975666e-01, 8.68087053e-01, -2.84409612e-01], [1.43059656e-01, -3.56261224e-01, 1.88600063e-01, -3.24177563e-01, -2.16762006e-01, 7.80548692e-01, -5.45684814e-01, 2.46374294e-01], [-8.31969321e-01, 6.65288270e-01, 5.74196637e-01, -5.21261096e-01, 7.52968490e-01, -8.82863939e-01, -3.27765882e-01, -6.99441075e-01], [-9.93212685e-02, 5.92648566e-01, -5.38715601e-01, -8.95957410e-01, -1.90896317e-01, -6.02973938e-01, -8.18493903e-01, 1.60664767e-01], [-4.02607739e-01, 3.43989760e-01, -6.00969136e-01, 8.84226203e-01, -2.69779652e-01, -7.89009452e-01, 2.58216292e-01, 8.54309082e-01], [-1.19245693e-01, 9.09180999e-01, -2.08372629e-04, -1.49542749e-01, 2.40426898e-01, 9.90193009e-01, 8.97887349e-01, -7.99097195e-02], [5.15457690e-01, -5.15460921e-03, 5.86243197e-02, 5.71571410e-01, -1.70688301e-01, 4.68967140e-01, 4.22285765e-01, 8.64119351e-01], [-7.70134747e-01, 4.58030224e-01, 8.54847848e-01, 9.35852408e-01, -9.70587373e-01, 7.27280200e-01, 9.62390065e-01, 9.14420366e-01], [-7.02471972e-01, 9.45257604e-01, 7.79871106e-01, 6.44747674e-01, -4.00241539e-02, -5.35254180e-01, 6.03761137e-01, 8.47060323e-01], [-4.67739463e-01, 7.78688118e-02, -1.14494339e-01, 8.62034619e-01, -9.18978572e-01, 4.64012384e-01, 2.28746489e-01, -9.43269253e-01], [4.38439548e-01, -9.68016565e-01, 5.15901983e-01, 2.55174469e-02, 8.58208418e-01, -8.67834985e-01, 6.82634532e-01, -8.66620004e-01], [-3.11380029e-01, -1.39402539e-01, 9.32124138e-01, 1.24463685e-01, -4.82270807e-01, -5.16648591e-01, 7.76236653e-01, -5.48261166e-01]]> : tensor<16x8xf32>
  %c = onnx.Gather %t, %pids : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %c {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1x8xf32>
  %x = onnx.Reshape %q, %shape : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %lo, %hi = onnx.Split %x {axis = -1 : i64, sizes = array<i64: 4, 4>} : tensor<1x?x2x8xf32> -> tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>
  %nhi = onnx.Neg %hi : tensor<1x?x2x4xf32> -> tensor<1x?x2x4xf32>
  %rot = onnx.Concat %nhi, %lo {axis = -1 : i64} : (tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>) -> tensor<1x?x2x8xf32>
  %a = onnx.Mul %cos, %x : tensor<1x?x1x8xf32>, tensor<1x?x2x8xf32> -> tensor<1x?x2x8xf32>
  %b = onnx.Mul %rot, %cos : tensor<1x?x2x8xf32>, tensor<1x?x1x8xf32> -> tensor<1x?x2x8xf32>
  %y = onnx.Add %a, %b : tensor<1x?x2x8xf32>, tensor<1x?x2x8xf32> -> tensor<1x?x2x8xf32>
  return %y : tensor<1x?x2x8xf32>
}

// -----

// The halves swapped the wrong way round (Concat(x1, -x2)) are no rotation.
// CHECK-LABEL: func.func @wrong_rotation
// CHECK-NOT: tfm.rope
func.func @wrong_rotation(%pids: tensor<1x?xi64>, %q: tensor<1x?x16xf32>) -> tensor<1x?x2x8xf32> attributes {onnx.input_names = ["position_ids", "q"]} {
  %shape = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %cost = onnx.Constant dense<[[1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00, 1.00000000e+00], [8.77582550e-01, 9.98750269e-01, 9.99987483e-01, 9.99999881e-01, 8.77582550e-01, 9.98750269e-01, 9.99987483e-01, 9.99999881e-01], [5.40302277e-01, 9.95004177e-01, 9.99949992e-01, 9.99999523e-01, 5.40302277e-01, 9.95004177e-01, 9.99949992e-01, 9.99999523e-01], [7.07371980e-02, 9.88771081e-01, 9.99887526e-01, 9.99998868e-01, 7.07371980e-02, 9.88771081e-01, 9.99887526e-01, 9.99998868e-01], [-4.16146845e-01, 9.80066597e-01, 9.99800026e-01, 9.99997973e-01, -4.16146845e-01, 9.80066597e-01, 9.99800026e-01, 9.99997973e-01], [-8.01143587e-01, 9.68912423e-01, 9.99687493e-01, 9.99996901e-01, -8.01143587e-01, 9.68912423e-01, 9.99687493e-01, 9.99996901e-01], [-9.89992499e-01, 9.55336511e-01, 9.99550045e-01, 9.99995530e-01, -9.89992499e-01, 9.55336511e-01, 9.99550045e-01, 9.99995530e-01], [-9.36456680e-01, 9.39372718e-01, 9.99387562e-01, 9.99993861e-01, -9.36456680e-01, 9.39372718e-01, 9.99387562e-01, 9.99993861e-01], [-6.53643608e-01, 9.21060979e-01, 9.99200106e-01, 9.99992013e-01, -6.53643608e-01, 9.21060979e-01, 9.99200106e-01, 9.99992013e-01], [-2.10795805e-01, 9.00447130e-01, 9.98987675e-01, 9.99989867e-01, -2.10795805e-01, 9.00447130e-01, 9.98987675e-01, 9.99989867e-01], [2.83662200e-01, 8.77582550e-01, 9.98750269e-01, 9.99987483e-01, 2.83662200e-01, 8.77582550e-01, 9.98750269e-01, 9.99987483e-01], [7.08669782e-01, 8.52524519e-01, 9.98487890e-01, 9.99984860e-01, 7.08669782e-01, 8.52524519e-01, 9.98487890e-01, 9.99984860e-01], [9.60170269e-01, 8.25335622e-01, 9.98200536e-01, 9.99981999e-01, 9.60170269e-01, 8.25335622e-01, 9.98200536e-01, 9.99981999e-01], [9.76587653e-01, 7.96083808e-01, 9.97888267e-01, 9.99978900e-01, 9.76587653e-01, 7.96083808e-01, 9.97888267e-01, 9.99978900e-01], [7.53902256e-01, 7.64842212e-01, 9.97551024e-01, 9.99975502e-01, 7.53902256e-01, 7.64842212e-01, 9.97551024e-01, 9.99975502e-01], [3.46635312e-01, 7.31688857e-01, 9.97188807e-01, 9.99971867e-01, 3.46635312e-01, 7.31688857e-01, 9.97188807e-01, 9.99971867e-01]]> : tensor<16x8xf32>
  %c = onnx.Gather %cost, %pids : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %c {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1x8xf32>
  %x = onnx.Reshape %q, %shape : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %lo, %hi = onnx.Split %x {axis = -1 : i64, sizes = array<i64: 4, 4>} : tensor<1x?x2x8xf32> -> tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>
  %nhi = onnx.Neg %hi : tensor<1x?x2x4xf32> -> tensor<1x?x2x4xf32>
  %rot = onnx.Concat %lo, %nhi {axis = -1 : i64} : (tensor<1x?x2x4xf32>, tensor<1x?x2x4xf32>) -> tensor<1x?x2x8xf32>
  %a = onnx.Mul %cos, %x : tensor<1x?x1x8xf32>, tensor<1x?x2x8xf32> -> tensor<1x?x2x8xf32>
  %b = onnx.Mul %rot, %cos : tensor<1x?x2x8xf32>, tensor<1x?x1x8xf32> -> tensor<1x?x2x8xf32>
  %y = onnx.Add %a, %b : tensor<1x?x2x8xf32>, tensor<1x?x2x8xf32> -> tensor<1x?x2x8xf32>
  return %y : tensor<1x?x2x8xf32>
}
