// The architecture record of a model file: one `LayerRecord` per layer of a `Sequential`,
// stored as JSON in the `chainrule.model` metadata, its tensors named `layer<i>.<role>` in the
// safetensors file. A record holds exactly the fields its kind needs, every one written; the
// reader refuses a missing field, a field of another kind, a size out of range, by its JSON
// path (`layers[2].kernelSize[1]`), before anything is allocated. The conversion both ways
// (layer → record, record → layer) and the shape each layer needs and gives live here, one
// `case` per kind, so that adding a kind touches this file only.

/// One layer of a saved network: its kind and hyper-parameters, the architecture record of a
/// model file.
///
/// The fields of each kind (all required unless marked; a field of another kind is refused):
///
/// | kind | fields | tensors |
/// | --- | --- | --- |
/// | `dense` | `inputSize`, `outputSize`, `activation` (optional, default `none`) | `weight` [in, out], `bias` [out] |
/// | `conv2d` | `inputChannels`, `outputChannels`, `kernelSize`, `stride`, `padding`, `dilation` ([height, width] each), `bias` (`true`), `activation` | `weight` [O, C, kH, kW], `bias` [O] |
/// | `maxPool2d` | `kernelSize`, `stride`, `padding` | none |
/// | `flatten` | `startAxis` | none |
/// | `dropout` | `probability`, `generator` (the four state words of its mask generator) | none |
/// | `layerNorm` | `normalizedShape` ([D]), `epsilon`, `affine` (`true`) | `weight` [D] (γ), `bias` [D] (β) |
/// | `embedding` | `count`, `dimension` | `weight` [count, dimension] |
/// | `sequential` | `layers` (the records of a `Sequential` inside the `Sequential`) | its layers', as `layer<j>.<role>` under its own name |
///
/// A kind this version does not know is refused by name when loading, never guessed; so is a
/// `bias` or `affine` of `false` (this version's `Conv2d` always has a bias and `LayerNorm`
/// always has γ and β). Sizes are whole numbers in 1…2,147,483,647 (padding from 0).
public struct LayerRecord: Codable, Equatable, Sendable {
  /// The layer kind: one of `knownKinds`.
  public var kind: String
  /// Dense: input features per example (rows of W).
  public var inputSize: Int?
  /// Dense: output units (columns of W).
  public var outputSize: Int?
  /// Dense and conv2d: the activation's name (`Activation.rawValue`: `none`, `relu`, …).
  public var activation: String?
  /// Further numbers by name, for kinds of later versions; no kind of this version has any,
  /// and a record that holds them is refused.
  public var settings: [String: Double]?
  /// Conv2d: C, the input channels.
  public var inputChannels: Int?
  /// Conv2d: O, the number of kernels.
  public var outputChannels: Int?
  /// Conv2d and maxPool2d: [kH, kW].
  public var kernelSize: [Int]?
  /// Conv2d and maxPool2d: [height, width] steps between windows.
  public var stride: [Int]?
  /// Conv2d and maxPool2d: [height, width] added on each side (zeros for conv2d, −∞ for
  /// maxPool2d).
  public var padding: [Int]?
  /// Conv2d: [height, width] steps between kernel taps.
  public var dilation: [Int]?
  /// Conv2d: whether the layer adds a bias; always `true` in this version.
  public var bias: Bool?
  /// Flatten: the first axis merged.
  public var startAxis: Int?
  /// Dropout: the probability p that an element is zeroed, in [0, 1).
  public var probability: Double?
  /// Dropout: the state words of its mask generator (`Xoshiro256StarStar.stateWords`), so a
  /// loaded model put back in training draws the masks the saved one would have drawn next.
  public var generator: [UInt64]?
  /// LayerNorm: the shape normalised over, [D] (this version normalises the last axis).
  public var normalizedShape: [Int]?
  /// LayerNorm: ε added to the variance.
  public var epsilon: Double?
  /// LayerNorm: whether it has γ and β; always `true` in this version.
  public var affine: Bool?
  /// Embedding: the number of rows (the vocabulary).
  public var count: Int?
  /// Embedding: the length of each vector.
  public var dimension: Int?
  /// Sequential: the records of the nested network's layers.
  public var layers: [LayerRecord]?

  /// The kinds this version reads and writes.
  public static let knownKinds = [
    "dense", "conv2d", "maxPool2d", "flatten", "dropout", "layerNorm", "embedding", "sequential",
  ]

  /// The largest size a record may hold (2³¹ − 1): large enough for any model that fits in
  /// memory, small enough that no product of two sizes overflows `Int`.
  public static let largestSize = Int(Int32.max)

  /// A record from its fields (for the fields of other kinds, set the properties).
  public init(
    kind: String, inputSize: Int? = nil, outputSize: Int? = nil, activation: String? = nil,
    settings: [String: Double]? = nil
  ) {
    self.kind = kind
    self.inputSize = inputSize
    self.outputSize = outputSize
    self.activation = activation
    self.settings = settings
  }

  /// The record of `layer`.
  /// - Throws: `ModelFileError.invalidMetadata` for a layer type the format has no kind for
  ///   (a layer of your own, also inside a nested `Sequential`).
  public init<Scalar: TensorScalar>(_ layer: any Layer<Scalar>) throws(ModelFileError) {
    func pair(_ size: Size2D) -> [Int] { [size.height, size.width] }
    switch layer {
    case let dense as Dense<Scalar>:
      self.init(
        kind: "dense", inputSize: dense.inputSize, outputSize: dense.outputSize,
        activation: dense.activation.rawValue)
    case let conv as Conv2d<Scalar>:
      let shape = conv.weight.value.shape
      self.init(kind: "conv2d", activation: conv.activation.rawValue)
      (inputChannels, outputChannels) = (shape[1], shape[0])
      kernelSize = [shape[2], shape[3]]
      (stride, padding, dilation) = (pair(conv.stride), pair(conv.padding), pair(conv.dilation))
      bias = true
    case let pool as MaxPool2d<Scalar>:
      self.init(kind: "maxPool2d")
      (kernelSize, stride, padding) = (pair(pool.kernelSize), pair(pool.stride), pair(pool.padding))
    case let flatten as Flatten<Scalar>:
      self.init(kind: "flatten")
      startAxis = flatten.startAxis
    case let dropout as Dropout<Scalar>:
      self.init(kind: "dropout")
      (probability, generator) = (dropout.probability, dropout.generator.stateWords)
    case let norm as LayerNorm<Scalar>:
      self.init(kind: "layerNorm")
      (normalizedShape, epsilon, affine) = (norm.gain.value.shape, norm.epsilon, true)
    case let embedding as Embedding<Scalar>:
      self.init(kind: "embedding")
      (count, dimension) = (embedding.count, embedding.dimension)
    case let sequential as Sequential<Scalar>:
      self.init(kind: "sequential")
      var records: [LayerRecord] = []
      for inner in sequential.layers { records.append(try LayerRecord(inner)) }
      layers = records
    default:
      throw .invalidMetadata(
        key: ModelDescription.key,
        message: "layer \"\(layer.name)\" is a \(type(of: layer)), which the model format cannot "
          + "store (it stores: \(Self.knownKinds.joined(separator: ", ")))")
    }
  }

  /// The parameters the layer holds, named with `prefix` (`layer0`) as `Sequential` names
  /// them, with their shapes.
  /// - Throws: `ModelFileError.invalidMetadata` for an unknown kind, a missing field, a field
  ///   of another kind or a size out of range; `field` names the record in the message
  ///   (`layers[0]`).
  public func parameterShapes(prefix: String, field: String) throws(ModelFileError)
    -> [(name: String, shape: [Int])]
  {
    try checked(field).parameterShapes(prefix: prefix)
  }

  /// The fields of each kind, required and optional.
  private static let fields: [String: (required: [String], optional: [String])] = [
    "dense": (["inputSize", "outputSize"], ["activation"]),
    "conv2d": (
      [
        "inputChannels", "outputChannels", "kernelSize", "stride", "padding", "dilation", "bias",
        "activation",
      ], []
    ),
    "maxPool2d": (["kernelSize", "stride", "padding"], []),
    "flatten": (["startAxis"], []),
    "dropout": (["probability", "generator"], []),
    "layerNorm": (["normalizedShape", "epsilon", "affine"], []),
    "embedding": (["count", "dimension"], []),
    "sequential": (["layers"], []),
  ]

  /// Each field of the record with whether the file has it.
  private var presence: [(name: String, present: Bool)] {
    [
      ("inputSize", inputSize != nil), ("outputSize", outputSize != nil),
      ("activation", activation != nil), ("settings", settings != nil),
      ("inputChannels", inputChannels != nil), ("outputChannels", outputChannels != nil),
      ("kernelSize", kernelSize != nil), ("stride", stride != nil), ("padding", padding != nil),
      ("dilation", dilation != nil), ("bias", bias != nil), ("startAxis", startAxis != nil),
      ("probability", probability != nil), ("generator", generator != nil),
      ("normalizedShape", normalizedShape != nil), ("epsilon", epsilon != nil),
      ("affine", affine != nil), ("count", count != nil), ("dimension", dimension != nil),
      ("layers", layers != nil),
    ]
  }

  /// The record's layer, every field checked: the kind is known, every field it needs is
  /// there and in range, and it holds no field of another kind.
  /// - Throws: `ModelFileError.invalidMetadata` naming the first bad field by its JSON path.
  func checked(_ field: String) throws(ModelFileError) -> CheckedLayer {
    guard let fields = Self.fields[kind] else {
      throw .invalidMetadata(
        key: ModelDescription.key,
        message: "\(field).kind is \(CSVError.quoted(kind)), a layer kind this version of "
          + "ChainRule does not know (it knows: \(Self.knownKinds.joined(separator: ", "))); "
          + "the file was written by a newer version or is damaged")
    }
    let allowed = Set(fields.required + fields.optional)
    for (name, present) in presence where present && !allowed.contains(name) {
      throw problem(
        field, name,
        "is present; a \(kind) layer has no such field (its fields: "
          + (fields.required + fields.optional).joined(separator: ", ") + ")")
    }
    for (name, present) in presence where !present && fields.required.contains(name) {
      throw problem(field, name, "is missing; a \(kind) layer needs it")
    }
    switch kind {
    case "dense":
      return .dense(
        inputSize: try size(inputSize, "inputSize", field),
        outputSize: try size(outputSize, "outputSize", field),
        activation: try activationValue(field))
    case "conv2d":
      guard bias == true else {
        throw problem(field, "bias", "is false; this version's Conv2d always has a bias")
      }
      return .conv2d(
        inputChannels: try size(inputChannels, "inputChannels", field),
        outputChannels: try size(outputChannels, "outputChannels", field),
        kernel: try pair(kernelSize, "kernelSize", field, from: 1),
        stride: try pair(stride, "stride", field, from: 1),
        padding: try pair(padding, "padding", field, from: 0),
        dilation: try pair(dilation, "dilation", field, from: 1),
        activation: try activationValue(field))
    case "maxPool2d":
      let kernel = try pair(kernelSize, "kernelSize", field, from: 1)
      let pad = try pair(padding, "padding", field, from: 0)
      guard pad.height <= kernel.height / 2, pad.width <= kernel.width / 2 else {
        throw problem(
          field, "padding",
          "is \(padding!); max pooling pads at most half the kernel "
            + "\(kernelSize!) on each axis")
      }
      return .maxPool2d(
        kernel: kernel, stride: try pair(stride, "stride", field, from: 1), padding: pad)
    case "flatten":
      let axis = startAxis!
      guard axis >= 0, axis < ModelDescription.largestRank else {
        throw problem(
          field, "startAxis", "is \(axis); an axis is in 0..<\(ModelDescription.largestRank)")
      }
      return .flatten(startAxis: axis)
    case "dropout":
      let p = probability!
      guard p >= 0, p < 1 else {
        throw problem(field, "probability", "is \(p); a dropout probability is in [0, 1)")
      }
      guard let state = Xoshiro256StarStar(stateWords: generator!) else {
        throw problem(
          field, "generator", "is \(generator!); the generator's state is four words, not all 0")
      }
      return .dropout(probability: p, generator: state)
    case "layerNorm":
      guard affine == true else {
        throw problem(field, "affine", "is false; this version's LayerNorm always has γ and β")
      }
      guard normalizedShape!.count == 1 else {
        throw problem(
          field, "normalizedShape",
          "is \(normalizedShape!); this version normalises the last "
            + "axis only: [D]")
      }
      let e = epsilon!
      guard e >= 0 else { throw problem(field, "epsilon", "is \(e); ε must not be negative") }
      return .layerNorm(
        size: try size(normalizedShape![0], "normalizedShape[0]", field), epsilon: e)
    case "sequential":
      guard !layers!.isEmpty else { throw problem(field, "layers", "is empty") }
      var inner: [CheckedLayer] = []
      for (index, record) in layers!.enumerated() {
        inner.append(try record.checked("\(field).layers[\(index)]"))
      }
      return .sequential(inner)
    default:  // "embedding"
      return .embedding(
        count: try size(count, "count", field), dimension: try size(dimension, "dimension", field))
    }
  }

  private func problem(_ field: String, _ name: String, _ message: String) -> ModelFileError {
    .invalidMetadata(key: ModelDescription.key, message: "field \"\(field).\(name)\" \(message)")
  }

  /// A size in `from`…`largestSize`.
  private func size(_ value: Int?, _ name: String, _ field: String, from lowest: Int = 1)
    throws(ModelFileError) -> Int
  {
    guard let value, value >= lowest else {
      throw problem(
        field, name,
        "is \(value.map(String.init) ?? "missing"); a \(kind) layer needs a "
          + (lowest == 0 ? "size of at least 0" : "positive size"))
    }
    guard value <= Self.largestSize else {
      throw problem(field, name, "is \(value); a model file holds sizes up to \(Self.largestSize)")
    }
    return value
  }

  /// A [height, width] pair of sizes in `from`…`largestSize`.
  private func pair(_ value: [Int]?, _ name: String, _ field: String, from lowest: Int)
    throws(ModelFileError) -> Size2D
  {
    guard let value, value.count == 2 else {
      throw problem(
        field, name,
        "is \(value.map { "\($0)" } ?? "missing"); a \(kind) layer needs "
          + "[height, width]")
    }
    return Size2D(
      height: try size(value[0], "\(name)[0]", field, from: lowest),
      width: try size(value[1], "\(name)[1]", field, from: lowest))
  }

  private func activationValue(_ field: String) throws(ModelFileError) -> Activation {
    guard let found = Activation(rawValue: activation ?? "none") else {
      throw .invalidMetadata(
        key: ModelDescription.key,
        message: "field \"\(field).activation\" is \(CSVError.quoted(activation ?? "")); "
          + "known: \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return found
  }
}

/// A layer record whose fields have all been checked: what the loader builds, and the
/// shapes the layer reads and gives. Building one of these never traps.
enum CheckedLayer: Sendable {
  case dense(inputSize: Int, outputSize: Int, activation: Activation)
  case conv2d(
    inputChannels: Int, outputChannels: Int, kernel: Size2D, stride: Size2D, padding: Size2D,
    dilation: Size2D, activation: Activation)
  case maxPool2d(kernel: Size2D, stride: Size2D, padding: Size2D)
  case flatten(startAxis: Int)
  case dropout(probability: Double, generator: Xoshiro256StarStar)
  case layerNorm(size: Int, epsilon: Double)
  case embedding(count: Int, dimension: Int)
  /// A `Sequential` inside the `Sequential`.
  indirect case sequential([CheckedLayer])

  /// The record's kind, for messages.
  var kind: String {
    switch self {
    case .dense: "dense"
    case .conv2d: "conv2d"
    case .maxPool2d: "maxPool2d"
    case .flatten: "flatten"
    case .dropout: "dropout"
    case .layerNorm: "layerNorm"
    case .embedding: "embedding"
    case .sequential: "sequential"
    }
  }

  /// The parameters, named `<prefix>.<role>`, with their shapes, in the layer's order.
  func parameterShapes(prefix: String) -> [(name: String, shape: [Int])] {
    switch self {
    case .dense(let input, let output, _):
      [("\(prefix).weight", [input, output]), ("\(prefix).bias", [output])]
    case .conv2d(let input, let output, let kernel, _, _, _, _):
      [
        ("\(prefix).weight", [output, input, kernel.height, kernel.width]),
        ("\(prefix).bias", [output]),
      ]
    case .layerNorm(let size, _): [("\(prefix).weight", [size]), ("\(prefix).bias", [size])]
    case .embedding(let count, let dimension): [("\(prefix).weight", [count, dimension])]
    case .sequential(let layers):
      layers.enumerated().flatMap { index, layer in
        layer.parameterShapes(prefix: "\(prefix).layer\(index)")
      }
    case .maxPool2d, .flatten, .dropout: []
    }
  }

  /// The layer, its parameters zero (for values about to be loaded).
  func makeLayer<Scalar: TensorScalar>(_: Scalar.Type) -> any Layer<Scalar> {
    switch self {
    case .dense(let input, let output, let activation):
      return Dense<Scalar>(
        weight: .zeros([input, output]), bias: .zeros([output]), activation: activation)
    case .conv2d(let input, let output, let kernel, let stride, let padding, let dilation, let f):
      return Conv2d<Scalar>(
        weight: .zeros([output, input, kernel.height, kernel.width]), bias: .zeros([output]),
        stride: stride, padding: padding, dilation: dilation, activation: f)
    case .maxPool2d(let kernel, let stride, let padding):
      return MaxPool2d<Scalar>(kernelSize: kernel, stride: stride, padding: padding)
    case .flatten(let startAxis):
      return Flatten<Scalar>(startAxis: startAxis)
    case .dropout(let probability, let generator):
      let layer = Dropout<Scalar>(probability: probability, seed: 0)
      layer.generator = generator
      return layer
    case .layerNorm(let size, let epsilon):
      return LayerNorm<Scalar>(size: size, epsilon: epsilon)
    case .embedding(let count, let dimension):
      return Embedding<Scalar>(table: .zeros([count, dimension]))
    case .sequential(let layers):
      return Sequential<Scalar>(layers.map { $0.makeLayer(Scalar.self) })
    }
  }

  /// What is known of the layer's output from what is known of its input (`nil`: nothing,
  /// not even the rank; else one entry per axis, the batch first, `nil` where unknown).
  /// - Parameters:
  ///   - field: the record's path, `layers[2]`.
  ///   - source: what feeds the layer, for messages: `layers[1]`, `the input shape`.
  /// - Throws: `ModelFileError.invalidMetadata` when the input cannot feed the layer.
  func outputShape(_ input: [Int?]?, field: String, source: String) throws(ModelFileError)
    -> [Int?]?
  {
    func refuse(_ message: String) -> ModelFileError {
      .invalidMetadata(key: ModelDescription.key, message: message)
    }
    let given = "\(source) gives \(ModelDescription.text(input))"
    let outputs = source.hasPrefix("layers[") ? "\(source) outputs" : "\(source) has"
    switch self {
    case .dense(let size, let output, _):
      guard let input else { return [nil, output] }
      guard input.count == 2 else {
        throw refuse("\(field) (dense) reads [N, \(size)]; \(given) (add a flatten layer)")
      }
      if let features = input[1], features != size {
        throw refuse("field \"\(field).inputSize\" is \(size); \(outputs) \(features)")
      }
      return [nil, output]
    case .conv2d(let channels, let output, let kernel, let stride, let padding, let dilation, _):
      guard let input else { return [nil, output, nil, nil] }
      guard input.count == 4 else {
        throw refuse("\(field) (conv2d) reads [N, \(channels), H, W]; \(given)")
      }
      if let c = input[1], c != channels {
        throw refuse(
          "field \"\(field).inputChannels\" is \(channels); \(outputs) \(c) channels")
      }
      let (height, width) = try Self.window(
        input, kernel, stride, padding, dilation, field: field, given: given)
      return [nil, output, height, width]
    case .maxPool2d(let kernel, let stride, let padding):
      guard let input else { return [nil, nil, nil, nil] }
      guard input.count == 4 else {
        throw refuse("\(field) (maxPool2d) reads [N, C, H, W]; \(given)")
      }
      let (height, width) = try Self.window(
        input, kernel, stride, padding, 1, field: field, given: given)
      return [nil, input[1], height, width]
    case .flatten(let start):
      guard let input else { return Array(repeating: nil, count: start + 1) }
      guard start < input.count else {
        throw refuse(
          "field \"\(field).startAxis\" is \(start); \(given), which has no axis \(start)")
      }
      let rest = input[start...]
      var product: Int? = 1
      for dimension in rest {
        guard let known = dimension, let sofar = product else {
          product = nil
          break
        }
        let (next, overflow) = sofar.multipliedReportingOverflow(by: known)
        product = overflow ? Int.max : next
      }
      return Array(input[..<start]) + [product]
    case .dropout: return input
    case .layerNorm(let size, _):
      if let last = input?.last, let known = last, known != size {
        throw refuse("field \"\(field).normalizedShape\" is [\(size)]; \(given)")
      }
      return input
    case .embedding(_, let dimension):
      return input.map { $0 + [dimension] }
    case .sequential(let layers):
      var (shape, from) = (input, source)
      for (index, layer) in layers.enumerated() {
        let inner = "\(field).layers[\(index)]"
        shape = try layer.outputShape(shape, field: inner, source: from)
        try ModelDescription.checkElementCount(shape, field: inner)
        from = inner
      }
      return shape
    }
  }

  /// The output height and width of a window sweep (PyTorch's formula, as `WindowGeometry`),
  /// `nil` where the input's is unknown. Sizes are at most 2³¹ − 1, so nothing overflows.
  private static func window(
    _ input: [Int?], _ kernel: Size2D, _ stride: Size2D, _ padding: Size2D, _ dilation: Size2D,
    field: String, given: String
  ) throws(ModelFileError) -> (Int?, Int?) {
    func axis(_ size: Int?, _ k: Int, _ s: Int, _ p: Int, _ d: Int) throws(ModelFileError)
      -> Int?
    {
      guard let size else { return nil }
      let span = d * (k - 1) + 1
      guard size + 2 * p >= span else {
        throw .invalidMetadata(
          key: ModelDescription.key,
          message: "\(field): its \(kernel) kernel (dilation \(dilation)) spans more than the "
            + "input padded by \(padding); \(given)")
      }
      return (size + 2 * p - span) / s + 1
    }
    return (
      try axis(input[2], kernel.height, stride.height, padding.height, dilation.height),
      try axis(input[3], kernel.width, stride.width, padding.width, dilation.width)
    )
  }
}
