/// The local derivatives ∂y/∂xᵢ of one op node, as drawings and explanations show them: a
/// number where it is one, else the op's `derivativeFormula`, and at the level of single
/// elements for `explain`.
extension Graph {
  /// What the edge operand `slot` → node `id` says about the chain rule there, or `nil` when
  /// no gradient flows along it (a constant, a gradient-free input, class labels).
  ///
  /// - A local derivative where the edge has one: element-wise ops whose operand is not
  ///   broadcast, and any op whose result and operand hold one element each:
  ///   `∂a1/∂z1 = 0.822` or `∂a1/∂z1 = 1 − a1²`.
  /// - Otherwise the vector–Jacobian product that carries ȳ (the result's gradient) back to
  ///   the operand: `x̄ = ȳ·w1ᵀ`, `w̄1 = xᵀ·ȳ`; a broadcast operand such as a bias sums over
  ///   the rows it was added to: `b̄1 = Σ_batch ȳ`.
  func edgeLabel(
    node id: Int, operand slot: Int, style: DotOptions.EdgeLabels, digits: Int, names: NodeNames
  ) -> String? {
    let record = records[id]
    guard let operation = record.operation, style != .none else { return nil }
    let input = record.inputs[slot]
    guard carriesGradient(node: id, operand: slot) else { return nil }
    let operands = record.inputs.map { ChainText.grouped(names[$0]) }
    let result = ChainText.grouped(names[id])
    let share = Self.bar(names[input])
    let elementwise = operation is any UnaryElementwise || operation is any BinaryElementwise
    let (outputShape, inputShape) = (values[id].shape, values[input].shape)
    if elementwise && inputShape != outputShape {
      let formula = operation.derivativeFormula(input: slot, operands: operands, output: result)
      let summed = Self.broadcastIsOverBatch(inputShape, outputShape) ? "Σ_batch" : "Σ_broadcast"
      return "\(share) = \(summed) " + (formula == "1" ? "ȳ" : "ȳ·" + ChainText.grouped(formula))
    }
    if elementwise || (values[id].count == 1 && values[input].count == 1) {
      // The derivative's name only where it is short: the edge's ends already name both.
      let derivativeName = "∂\(Self.atom(names[id]))/∂\(Self.atom(names[input]))"
      let derivative = derivativeName.count <= 14 ? derivativeName + " = " : ""
      var formula = operation.derivativeFormula(input: slot, operands: operands, output: result)
      if operation is MatMul { formula = operands[1 - slot] }  // one element each: the partner
      let number = scalarDerivative(node: id, operand: slot).map {
        DotText.number($0, digits: digits)
      }
      switch style {
      case .none: return nil
      case .formulas: return derivative + formula
      case .numbers: return derivative + (number ?? formula)
      case .formulasAndNumbers:
        guard let number, formula != number else { return derivative + formula }
        return derivative + "\(formula) = \(number)"
      }
    }
    return "\(share) = " + vjpFormula(node: id, operand: slot, operands: operands, result: result)
  }

  /// The VJP of a non-element-wise op as a formula in ȳ: `ȳ·w1ᵀ`, `reshape(ȳ)`, `ȳ/n`, or,
  /// for a loss that reduces to one number, `ȳ·(softmax(z) − onehot(y))/n`.
  func vjpFormula(node id: Int, operand slot: Int, operands: [String], result: String) -> String {
    let operation = records[id].operation!
    let input = records[id].inputs[slot]
    switch operation {
    case is MatMul: return slot == 0 ? "ȳ·\(operands[1])ᵀ" : "\(operands[0])ᵀ·ȳ"
    case is Transpose: return "ȳᵀ"
    case is Reshape: return "reshape(ȳ)"
    case is Sum: return "ȳ broadcast to " + DotText.shape(values[input].shape)
    case is Mean:
      let n = values[input].count / max(values[id].count, 1)
      return "ȳ/\(n) broadcast to " + DotText.shape(values[input].shape)
    default:
      let formula = operation.derivativeFormula(input: slot, operands: operands, output: result)
      if formula.contains("ȳ") { return formula }
      if values[id].count == 1 { return "ȳ·" + ChainText.grouped(formula) }
      return "ȳ·J,  J = " + formula
    }
  }

  /// Whether a gradient flows from node `id` back into its operand `slot`: the operand
  /// needs one, and is not the class-index operand of sparse softmax cross-entropy (indices
  /// have no derivative).
  func carriesGradient(node id: Int, operand slot: Int) -> Bool {
    let record = records[id]
    guard record.operation != nil, requiresGradient(record.inputs[slot]) else { return false }
    return !(record.operation is SparseSoftmaxCrossEntropy && slot == 1)
  }

  /// A name as it stands after `∂`: itself when it is one identifier (`a1`, `layer0.z`,
  /// `w1[0, 1]`), else in parentheses (`(x·w1)`).
  static func atom(_ name: String) -> String {
    let plain = { (text: Substring) in
      text.allSatisfy { $0.isLetter || $0.isNumber || "._#".contains($0) }
    }
    if plain(name[...]) { return name }
    // A function applied to one argument, `log(1 − a2)`: its parentheses already group it.
    if let open = name.firstIndex(of: "("), name.last == ")", plain(name[..<open]),
      open != name.startIndex
    {
      var depth = 0
      for (offset, character) in name[open...].enumerated() {
        if character == "(" { depth += 1 }
        if character == ")" { depth -= 1 }
        if depth == 0 && offset < name[open...].count - 1 { return "(" + name + ")" }
      }
      return name
    }
    return "(" + name + ")"
  }

  /// `x̄`-style name of a gradient: a one-letter name with a macron (`w̄1`, `x̄`), else
  /// `∂L/∂name`.
  static func bar(_ name: String) -> String {
    guard let first = name.first, first.isLetter, first.isASCII,
      name.dropFirst().allSatisfy({ $0.isNumber })
    else { return "∂L/∂" + ChainText.grouped(name) }
    return String(first) + "\u{0304}" + name.dropFirst()
  }

  /// Whether broadcasting `operand` up to `output` only adds or stretches leading axes (the
  /// batch rows a bias is added to).
  static func broadcastIsOverBatch(_ operand: [Int], _ output: [Int]) -> Bool {
    let offset = output.count - operand.count
    guard offset >= 0 else { return false }
    var seenKept = false
    for axis in output.indices {
      let source = axis - offset
      let stretched = source < 0 || (operand[source] == 1 && output[axis] != 1)
      let kept = source >= 0 && operand[source] == output[axis]
      if stretched && seenKept { return false }
      if kept && operand[source] != 1 { seenKept = true }
    }
    return true
  }

  /// ∂y/∂xᵢ as a number when the op's result and the operand hold one element each: the
  /// operand's VJP for ȳ = 1, which is exactly the derivative then; `nil` otherwise.
  func scalarDerivative(node id: Int, operand slot: Int) -> Double? {
    let record = records[id]
    guard let operation = record.operation else { return nil }
    let input = record.inputs[slot]
    guard values[id].count == 1, values[input].count == 1 else { return nil }
    let gradients = operation.vjp(
      record.inputs.map { values[$0] }, output: values[id], gradient: .ones(values[id].shape))
    return Double(gradients[slot].summed(toShape: values[input].shape).scalars[0])
  }

  /// One nonzero-pattern entry of an op's Jacobian: output element → operand element.
  struct ElementEdge {
    /// Which operand (position in the op's inputs).
    var slot: Int
    /// The operand node.
    var input: Int
    /// The operand element's flat row-major index.
    var index: Int
    /// ∂y[e]/∂x[index] at the current values.
    var value: Double
    /// The same derivative as a formula in element names.
    var formula: String
  }

  /// The operand elements that output element `element` of op node `id` depends on, with the
  /// local derivatives.
  ///
  /// The numbers are one row of the Jacobian: the op's VJP for a one-hot ȳ at `element`,
  /// summed back to each operand's shape — exact, for any op. Which entries are edges is
  /// known structurally for element-wise ops (the broadcast partner element) and matmul (a
  /// row of A, a column of B), so a local derivative that happens to be 0 still shows; for
  /// other ops an entry is an edge when its number is nonzero.
  func elementEdges(node id: Int, element: Int) -> [ElementEdge] {
    let record = records[id]
    guard let operation = record.operation else { return [] }
    let output = values[id]
    var oneHot = Tensor<Scalar>.zeros(output.shape)
    oneHot.scalars[element] = 1
    let rows = operation.vjp(record.inputs.map { values[$0] }, output: output, gradient: oneHot)
    let outputIndex = rowMajorIndex(element, shape: output.shape)
    var edges: [ElementEdge] = []
    for (slot, input) in record.inputs.enumerated() {
      let inputShape = values[input].shape
      let row = rows[slot].summed(toShape: inputShape).scalars
      let indices: [Int]
      if operation is any UnaryElementwise || operation is any BinaryElementwise {
        indices = [broadcastSource(of: outputIndex, in: inputShape)]
      } else if operation is MatMul {
        let (i, j) = (outputIndex[0], outputIndex[1])
        let inner = values[record.inputs[0]].shape[1]
        indices = (0..<inner).map { k in slot == 0 ? i * inner + k : k * inputShape[1] + j }
      } else {
        indices = row.indices.filter { row[$0] != 0 }
      }
      for index in indices {
        edges.append(
          ElementEdge(
            slot: slot, input: input, index: index, value: Double(row[index]),
            formula: elementFormula(node: id, element: element, slot: slot, operandIndex: index)
          ))
      }
    }
    return edges
  }

  /// The flat index of the operand element that broadcasting pairs with an output element.
  func broadcastSource(of outputIndex: [Int], in shape: [Int]) -> Int {
    let offset = outputIndex.count - shape.count
    var flat = 0
    for axis in shape.indices {
      let index = shape[axis] == 1 ? 0 : outputIndex[axis + offset]
      flat = flat * shape[axis] + index
    }
    return flat
  }

  /// ∂y[e]/∂xᵢ[index] as a formula in element names: the op's `derivativeFormula` with the
  /// operand and result elements' names for element-wise ops; the partner element for matmul;
  /// `1` (or `1/n`) for the ops that only move or add elements.
  private func elementFormula(node id: Int, element: Int, slot: Int, operandIndex: Int)
    -> String
  {
    let record = records[id]
    let operation = record.operation!
    let outputShape = values[id].shape
    if operation is any UnaryElementwise || operation is any BinaryElementwise {
      let outputIndex = rowMajorIndex(element, shape: outputShape)
      let operands = record.inputs.map { input in
        ChainText.grouped(
          elementName(input, broadcastSource(of: outputIndex, in: values[input].shape)))
      }
      return operation.derivativeFormula(
        input: slot, operands: operands, output: ChainText.grouped(elementName(id, element)))
    }
    switch operation {
    case is MatMul:
      let (a, b) = (record.inputs[0], record.inputs[1])
      let outputIndex = rowMajorIndex(element, shape: outputShape)
      let inner = values[a].shape[1]
      if slot == 0 {  // ∂Y[i,j]/∂A[i,k] = B[k,j]
        let k = operandIndex % inner
        return elementName(b, k * values[b].shape[1] + outputIndex[1])
      }
      let k = operandIndex / values[b].shape[1]  // ∂Y[i,j]/∂B[k,j] = A[i,k]
      return elementName(a, outputIndex[0] * inner + k)
    case is Transpose, is Reshape, is Sum: return "1"
    case is Mean: return "1/\(values[record.inputs[0]].count / max(values[id].count, 1))"
    default:
      return operation.derivativeFormula(
        input: slot, operands: record.inputs.map { NodeNames(self)[$0] },
        output: NodeNames(self)[id])
    }
  }

  /// How an element of a node is written in formulas: `w2` (one element), `x[0, 1]`, an
  /// unnamed constant's number (`1`), an unnamed op's expression (`log(1 − a2)`), or its label
  /// (`tanh#4`) when the expression would be long.
  func elementName(_ id: Int, _ element: Int) -> String {
    let record = records[id]
    let value = values[id]
    let suffix = value.count == 1 ? "" : DotText.index(element, shape: value.shape)
    if record.name != nil { return NodeNames(self)[id] + suffix }
    switch record.kind {
    case .input, .parameter: return label(of: id) + suffix
    case .constant: return DotText.shortest(Double(value.scalars[element]))
    case .operation:
      let expression = elementExpression(id, element)
      return expression.count <= 48 ? expression : label(of: id) + suffix
    }
  }

  /// An unnamed op's element written from its operands' element names.
  private func elementExpression(_ id: Int, _ element: Int) -> String {
    let record = records[id]
    let operation = record.operation!
    let shape = values[id].shape
    let outputIndex = rowMajorIndex(element, shape: shape)
    let isElementwise = operation is any UnaryElementwise || operation is any BinaryElementwise
    let operands = record.inputs.map { input in
      isElementwise
        ? elementName(input, broadcastSource(of: outputIndex, in: values[input].shape))
        : NodeNames(self)[input]
    }
    let suffix = isElementwise || values[id].count == 1 ? "" : DotText.index(element, shape: shape)
    let text = ChainText.expression(operation: operation, operands: operands)
    // An index applies to the whole expression: `(x·W)[2, 1]`, never `x·W[2, 1]`.
    return suffix.isEmpty ? text : Self.atom(text) + suffix
  }
}
