import Foundation

extension Graph {
  /// Checks the reverse-mode gradients of `output` against central differences, element by
  /// element, and returns a report (print it for a table).
  ///
  /// For every element xᵢ of every checked node the numeric derivative is
  /// the five-point central difference
  /// `(8(L(x + ε·eᵢ) − L(x − ε·eᵢ)) − (L(x + 2ε·eᵢ) − L(x − 2ε·eᵢ))) / 12ε` (error O(ε⁴)), where `L = Σ seed ⊙ output` (just the output when it is
  /// a scalar) and only the nodes downstream of the checked one are re-evaluated. The numeric
  /// side always runs in `Double`, also for a `Float` graph: a twin graph holds the leaves'
  /// values converted to `Double` and re-evaluates the same ops (every op is generic). The
  /// analytic side is this graph's own `backward(from:seed:)`, in its own scalar type.
  /// An element passes when `|analytic − numeric| ≤ atol + rtol·|numeric|` (PyTorch's
  /// `gradcheck` criterion); NaN or ±∞ on either side fails. An element with both sides
  /// within atol of zero passes whatever backward computed: it is counted as *vacuous*, and a
  /// node (or a whole report) with no live element is `.vacuous`, not passed. To resolve a
  /// relative error δ, an element needs |n| > atol / (δ − rtol): with the defaults, a 0.2 %
  /// error shows only where |n| > 10⁻²; in `Double`, atol 1e-8 and rtol 1e-5 are safe for
  /// moderate values (the rounding error of a central difference is about 10⁻¹⁰·|L|).
  /// A stop-gradient node (`StopGradient`) is held at its value in the central difference, as
  /// its VJP treats it.
  ///
  /// Any node whose gradient backward computes (`node.requiresGradient`) can be checked: for a leaf this is ∂L/∂leaf, for an op node it is ∂L/∂node with
  /// the node's value perturbed in place (what `node.gradient` holds after backward).
  /// The graph is left exactly as it was found: values, node gradients, and the parameters'
  /// values and accumulated gradients are restored. Values are assumed current (as for
  /// `backward`): call `forward()` first after feeding new inputs.
  ///
  /// - Parameters:
  ///   - output: The node differentiated; one element, or pass `seed`.
  ///   - nodes: The nodes whose gradients are checked; `nil` checks every parameter node.
  ///   - seed: ∂L/∂output for a non-scalar output, shape of `output`.
  ///   - epsilon: The central-difference step ε (default 1e-6).
  ///   - absoluteTolerance: atol (default 1e-5).
  ///   - relativeTolerance: rtol (default 1e-3).
  /// - Returns: Per checked node the largest absolute and relative errors, the worst element
  ///   with both values, how many elements were live, and whether the node passed, failed or
  ///   was vacuous.
  public func checkGradients(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>]? = nil,
    seed: Tensor<Scalar>? = nil, epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-5,
    relativeTolerance: Double = 1e-3
  ) -> GradientCheckReport {
    require(output.graph === self, "checkGradients: output node from another graph")
    requireNoPlaceholders("checkGradients")
    require(epsilon > 0, "checkGradients: epsilon must be positive, got \(epsilon)")
    let outputShape = values[output.id].shape
    require(
      seed.map { $0.shape == outputShape } ?? (values[output.id].count == 1),
      "checkGradients: output \(output.label) has shape \(outputShape); pass a seed of that shape")
    let checked = nodes ?? self.nodes.filter { $0.kind == .parameter }
    for node in checked {
      require(node.graph === self, "checkGradients: node \(node.label) from another graph")
      require(
        node.requiresGradient,
        "checkGradients: no gradient is computed for \(node.label) (a constant, an input made "
          + "with requiresGradient: false, or an op on such nodes only)")
    }

    // Analytic side: one backward pass of this graph, then everything put back.
    let savedGradients = gradients
    let parameters = self.parameters
    let savedParameterValues = parameters.map(\.value)
    let savedParameterGradients = parameters.map(\.gradient)
    defer {
      gradients = savedGradients
      for (parameter, (value, gradient)) in zip(
        parameters, zip(savedParameterValues, savedParameterGradients))
      {
        parameter.value = value
        parameter.gradient = gradient
      }
    }
    backward(from: output, seed: seed)
    let analytic = checked.map { (gradients[$0.id] ?? Tensor.zeros(values[$0.id].shape)) }

    // Numeric side, in Double.
    let twin = doubleTwin()
    let projection =
      seed?.converted(to: Double.self) ?? Tensor<Double>.ones(values[output.id].shape)
    let entries = checked.enumerated().map { index, node in
      let numeric = twin.centralDifference(
        of: output.id, projection: projection, withRespectTo: node.id, epsilon: epsilon)
      return GradientCheckReport.Entry(
        node: node.id, label: node.label, analytic: analytic[index].converted(to: Double.self),
        numeric: numeric, absoluteTolerance: absoluteTolerance,
        relativeTolerance: relativeTolerance)
    }
    return GradientCheckReport(
      output: output.label, dtypeName: Scalar.dtypeName, epsilon: epsilon,
      absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
      entries: entries)
  }

  /// The same graph in `Double`: every leaf becomes a constant holding its current value
  /// converted to `Double`, and every op node re-evaluates the same op in `Double`.
  func doubleTwin() -> Graph<Double> {
    let twin = Graph<Double>()
    for (id, record) in records.enumerated() {
      if let operation = record.operation {
        _ = twin.apply(
          operation, record.inputs.map { Node(graph: twin, id: $0) }, name: record.name)
      } else {
        _ = twin.constant(values[id].converted(to: Double.self), name: label(of: id))
      }
    }
    return twin
  }
}

extension Graph where Scalar == Double {
  /// ∂L/∂node by central differences, L = Σ projection ⊙ output, re-evaluating only the op
  /// nodes between `node` and `output` that depend on `node`; the values are restored after.
  func centralDifference(
    of output: Int, projection: Tensor<Double>, withRespectTo node: Int, epsilon: Double
  ) -> Tensor<Double> {
    var result = Tensor<Double>.zeros(values[node].shape)
    guard node <= output else { return result }  // a later node cannot change the output
    var affected = Array(repeating: false, count: output + 1)
    affected[node] = true
    var downstream: [Int] = []
    // A stop-gradient node keeps its value: its output counts as a constant, which is what
    // stop-gradient means (L is differentiated as if the stopped value were fixed).
    for id in node..<output
    where records[id + 1].inputs.contains(where: { affected[$0] })
      && !(records[id + 1].operation is StopGradient)
    {
      affected[id + 1] = true
      downstream.append(id + 1)
    }
    guard affected[output] else { return result }

    let saved = values
    defer { values = saved }
    func loss(perturbing element: Int, by step: Double) -> Double {
      values[node].scalars[element] = saved[node].scalars[element] + step
      for id in downstream {  // shapes were validated when the twin was built
        values[id] = records[id].operation!.forward(records[id].inputs.map { values[$0] })
      }
      var total = 0.0
      for (y, weight) in zip(values[output].scalars, projection.scalars) { total += y * weight }
      values = saved
      return total
    }
    // The five-point stencil: its error is O(ε⁴), where the two-point (L(x+ε) − L(x−ε))/2ε
    // errs by ε²·L‴/6 — 10⁻⁵ relative on a deep chain of steep functions (exp, pow, cos)
    // whose curvature scale is 10⁻⁴, far above the fuzz's tolerance, while its rounding is
    // the same to a factor 1.5.
    for element in 0..<result.count {
      let plus = loss(perturbing: element, by: epsilon)
      let minus = loss(perturbing: element, by: -epsilon)
      let plus2 = loss(perturbing: element, by: 2 * epsilon)
      let minus2 = loss(perturbing: element, by: -2 * epsilon)
      result.scalars[element] = (8 * (plus - minus) - (plus2 - minus2)) / (12 * epsilon)
    }
    return result
  }
}
