/// Where a NaN or ±∞ first appeared in a forward or backward pass, thrown by
/// `Graph.forwardDetectingAnomalies()` and `Graph.backwardDetectingAnomalies(from:seed:)`.
///
/// It names the offending node (label, op, operand shapes, output shape), the first bad
/// element and its value, and which of the node's inputs were already non-finite — when none
/// were, the anomaly started at this node. Print it (`description`) for a readable message.
public struct AnomalyError: Error, Sendable, CustomStringConvertible {
  /// The pass in which the anomaly was found.
  public enum Pass: String, Sendable {
    /// A node's value is non-finite.
    case forward
    /// A gradient is non-finite.
    case backward
  }

  /// The pass in which the anomaly was found.
  public var pass: Pass
  /// The offending node's id.
  public var node: Int
  /// The offending node's label (`log#3`, or its name).
  public var label: String
  /// The op's name (`"log"`), or the leaf kind (`"input"`, `"constant"`, `"parameter"`).
  public var operation: String
  /// The offending node's operands as `label [shape]`, in order; empty for a leaf.
  public var operands: [String]
  /// The offending node's output shape.
  public var shape: [Int]
  /// What was non-finite: `"value"` (forward), `"seed"`, `"∂L/∂b"` (the gradient the node's
  /// VJP passed to operand `b`), or `"accumulated gradient of parameter w"`.
  public var quantity: String
  /// The multi-index of the first non-finite element of that quantity.
  public var index: [Int]
  /// That element (NaN, +∞ or −∞), as a `Double`.
  public var value: Double
  /// The node's inputs that were already non-finite when the anomaly was found: operand values
  /// (`"value of x"`), the node's own forward value, or the gradient arriving from the loss.
  /// Empty when the anomaly started at this node.
  public var nonFiniteInputs: [String]
  /// More detail when the cause is not the node's own rule (e.g. finite contributions whose
  /// sum overflowed); empty otherwise.
  public var note: String

  public var description: String {
    let signature =
      operands.isEmpty
      ? "\(operation) \(shape)" : "op \(operation), \(operands.joined(separator: ", ")) → \(shape)"
    var lines = [
      "Anomaly in the \(pass) pass at node \(label) (\(signature)):",
      "  \(quantity) is \(value) at \(index)",
    ]
    if !note.isEmpty { lines.append("  \(note)") }
    if nonFiniteInputs.isEmpty {
      lines.append("  its inputs were all finite: the anomaly starts at this node")
    } else {
      lines.append("  already non-finite: \(nonFiniteInputs.joined(separator: ", "))")
    }
    return lines.joined(separator: "\n")
  }
}

extension Graph {
  /// `forward()` that checks every node's value, leaves included, in creation order and
  /// throws at the first one holding NaN or ±∞ — the answer to "where did my NaN come from?".
  ///
  /// Nodes before the offender hold their new values; the offender holds its non-finite value;
  /// later nodes are not re-evaluated.
  /// - Throws: `AnomalyError` naming the first node with a non-finite value.
  public func forwardDetectingAnomalies() throws(AnomalyError) {
    requireNoPlaceholders("forwardDetectingAnomalies")
    for id in records.indices {
      let record = records[id]
      switch record.kind {
      case .input, .constant: break
      case .parameter: values[id] = record.parameter!.value
      case .operation: values[id] = evaluate(record)
      }
      if let offset = firstNonFinite(values[id]) {
        throw anomaly(
          .forward, at: id, quantity: "value", tensor: values[id], offset: offset,
          nonFiniteInputs: record.inputs.filter { !values[$0].isFinite }.map {
            "value of \(label(of: $0))"
          })
      }
    }
  }

  /// `backward(from:seed:)` that checks the seed, every gradient a node's VJP passes back and
  /// every accumulated parameter gradient, and throws at the first NaN or ±∞.
  ///
  /// The error names the node whose VJP produced the bad gradient, the operand it was for, and
  /// whether the gradient arriving at that node or its forward values were already
  /// non-finite. On a throw, node gradients hold what this pass computed so far and no
  /// parameter gradient was changed; otherwise the effect is exactly that of `backward`.
  /// - Throws: `AnomalyError` naming the first offending node.
  public func backwardDetectingAnomalies(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil
  ) throws(AnomalyError) {
    require(output.graph === self, "backward: output node from another graph")
    requireNoPlaceholders("backwardDetectingAnomalies")
    let outputShape = values[output.id].shape
    require(
      seed.map { $0.shape == outputShape } ?? (values[output.id].count == 1),
      "backward: output \(output.label) has shape \(outputShape); pass a seed of that shape")
    let start = seed ?? Tensor.ones(outputShape)
    if let offset = firstNonFinite(start) {
      throw anomaly(
        .backward, at: output.id, quantity: "seed", tensor: start, offset: offset,
        nonFiniteInputs: [])
    }
    gradients = Array(repeating: nil, count: records.count)
    gradients[output.id] = start

    for id in stride(from: output.id, through: 0, by: -1) {
      guard let gradient = gradients[id], records[id].operation != nil else { continue }
      pullback(id, gradient: gradient)
      for (position, input) in records[id].inputs.enumerated() {
        guard let offset = firstNonFinite(gradients[input]!) else { continue }
        throw backwardAnomaly(at: id, operand: position, gradient: gradient, offset: offset)
      }
    }

    for (id, record) in records.enumerated() {
      guard let parameter = record.parameter, !parameter.isFrozen, let gradient = gradients[id]
      else { continue }
      let sum = parameter.gradient + gradient
      if let offset = firstNonFinite(sum) {
        throw anomaly(
          .backward, at: id, quantity: "accumulated gradient of parameter \(parameter.name)",
          tensor: sum, offset: offset,
          nonFiniteInputs: parameter.gradient.isFinite
            ? [] : ["gradient accumulated by earlier passes"],
          note: "this pass's gradient is finite; adding it to the accumulated one overflowed")
      }
    }
    for (id, record) in records.enumerated() {
      if let parameter = record.parameter, !parameter.isFrozen, let gradient = gradients[id] {
        parameter.gradient += gradient
      }
    }
  }

  /// The error for the op node `id` whose pullback left operand `position` with a non-finite
  /// gradient: either its VJP returned one, or a finite one summed with others overflowed.
  private func backwardAnomaly(
    at id: Int, operand position: Int, gradient: Tensor<Scalar>, offset: Int
  ) -> AnomalyError {
    let record = records[id]
    let input = record.inputs[position]
    let inputGradient = gradients[input]!
    var nonFinite: [String] = []
    if !gradient.isFinite { nonFinite.append("gradient arriving at \(label(of: id))") }
    if !values[id].isFinite { nonFinite.append("value of \(label(of: id))") }
    for operand in Set(record.inputs).sorted() where !values[operand].isFinite {
      nonFinite.append("value of \(label(of: operand))")
    }
    let contribution = record.operation!.vjp(
      record.inputs.map { values[$0] }, output: values[id], gradient: gradient)[position]
      .summed(toShape: values[input].shape)
    let note =
      contribution.isFinite
      ? "the VJP's contribution is finite; summed with the gradients from "
        + "\(label(of: input))'s other consumers it overflowed"
      : ""
    return anomaly(
      .backward, at: id, quantity: "∂L/∂\(label(of: input))", tensor: inputGradient,
      offset: offset, nonFiniteInputs: nonFinite, note: note)
  }

  private func anomaly(
    _ pass: AnomalyError.Pass, at id: Int, quantity: String, tensor: Tensor<Scalar>, offset: Int,
    nonFiniteInputs: [String], note: String = ""
  ) -> AnomalyError {
    let record = records[id]
    return AnomalyError(
      pass: pass, node: id, label: label(of: id),
      operation: record.operation?.name ?? "\(record.kind)",
      operands: record.inputs.map { "\(label(of: $0)) \(values[$0].shape)" },
      shape: values[id].shape, quantity: quantity,
      index: rowMajorIndex(offset, shape: tensor.shape),
      value: Double(tensor.scalars[offset]), nonFiniteInputs: nonFiniteInputs, note: note)
  }

  private func firstNonFinite(_ tensor: Tensor<Scalar>) -> Int? {
    tensor.scalars.firstIndex { !$0.isFinite }
  }
}
