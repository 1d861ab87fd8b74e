import Foundation

/// A model's parameters and metadata in one safetensors file.
///
/// Each `Parameter` is stored as a tensor under its `name`; `metadata` goes to the header's
/// `__metadata__` (structured values such as the architecture or training settings are stored
/// as JSON strings, see `encodeMetadata(_:)`). Loading into an existing model is
/// all-or-nothing: every name, dtype and shape is checked first, and only a file that matches
/// the whole model is assigned, so a bad file never leaves a half-loaded model.
public enum ModelFile {
  /// Writes the parameters' values (in this order) and `metadata` to `url`, atomically.
  /// - Throws: `SafeTensorsError` for duplicate or empty parameter names, or when the file
  ///   cannot be written (the previous file, if any, is left untouched).
  public static func save<Scalar: TensorScalar>(
    _ parameters: [Parameter<Scalar>], metadata: [String: String] = [:], to url: URL
  ) throws(SafeTensorsError) {
    try SafeTensors.write(
      parameters.map { (name: $0.name, tensor: $0.value) }, metadata: metadata, to: url)
  }

  /// Reads the file at `url` and assigns its tensors to `parameters` by name, all or nothing.
  ///
  /// The file must hold exactly one tensor per parameter, with the parameter's shape and
  /// (unless `converting`) its dtype. Gradients are reset to zero after loading.
  /// - Returns: The file's metadata.
  /// - Throws: `ModelFileError.file` when the file is unreadable or invalid,
  ///   `ModelFileError.mismatch` listing every difference between the file and the model;
  ///   in both cases no parameter has changed.
  @discardableResult
  public static func load<Scalar: TensorScalar>(
    into parameters: [Parameter<Scalar>], from url: URL, converting: Bool = false
  ) throws(ModelFileError) -> [String: String] {
    let file: SafeTensorsFile
    do {
      file = try SafeTensors.read(from: url)
    } catch {
      throw .file(error)
    }
    try load(file, into: parameters, converting: converting)
    return file.metadata
  }

  /// Assigns the tensors of an already-read file to `parameters`, all or nothing (see
  /// `load(into:from:converting:)`).
  public static func load<Scalar: TensorScalar>(
    _ file: SafeTensorsFile, into parameters: [Parameter<Scalar>], converting: Bool = false
  ) throws(ModelFileError) {
    let problems = mismatches(between: file, and: parameters, converting: converting)
    guard problems.isEmpty else { throw .mismatch(file: file.file, problems: problems) }
    // Decode everything before touching any parameter.
    var values: [Tensor<Scalar>] = []
    for parameter in parameters {
      do {
        values.append(try file.tensor(named: parameter.name, converting: converting))
      } catch {
        throw .file(error)
      }
    }
    for (parameter, value) in zip(parameters, values) {
      parameter.value = value
      parameter.zeroGradient()
    }
  }

  /// Every difference between the file's tensors and the model's parameters, in parameter
  /// order followed by the file's extra tensors.
  static func mismatches<Scalar: TensorScalar>(
    between file: SafeTensorsFile, and parameters: [Parameter<Scalar>], converting: Bool
  ) -> [ModelFileError.Problem] {
    var problems: [ModelFileError.Problem] = []
    var names: Set<String> = []
    let modelDType = SafeTensorsDType(Scalar.self)
    for parameter in parameters {
      guard names.insert(parameter.name).inserted else {
        problems.append(.duplicateParameter(parameter.name))
        continue
      }
      guard let info = file.info(named: parameter.name) else {
        problems.append(.missingTensor(parameter.name))
        continue
      }
      if info.shape != parameter.value.shape {
        problems.append(
          .shapeMismatch(parameter.name, file: info.shape, model: parameter.value.shape))
      }
      if info.dtype != modelDType && !converting {
        problems.append(
          .dtypeMismatch(parameter.name, file: info.dtype.rawValue, model: modelDType.rawValue))
      }
    }
    for name in file.names where !names.contains(name) {
      problems.append(.unexpectedTensor(name))
    }
    return problems
  }

  /// `value` as a compact JSON string with sorted keys, for a metadata entry.
  /// - Throws: `ModelFileError.invalidMetadata` when `value` cannot be encoded.
  public static func encodeMetadata<Value: Encodable>(
    _ value: Value, key: String
  ) throws(ModelFileError) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw .invalidMetadata(key: key, message: "cannot encode: \(error)")
    }
  }

  /// Decodes the JSON string stored under `key` in `metadata`.
  /// - Throws: `ModelFileError.invalidMetadata` when the key is missing or its JSON does not
  ///   decode as `Value`.
  public static func decodeMetadata<Value: Decodable>(
    _: Value.Type, key: String, from metadata: [String: String]
  ) throws(ModelFileError) -> Value {
    guard let text = metadata[key] else {
      let keys = metadata.keys.sorted().map { "\"\($0.escapingControlCharacters)\"" }.joined(
        separator: ", ")
      throw .invalidMetadata(
        key: key, message: "missing (the file has \(keys.isEmpty ? "no metadata" : keys))")
    }
    do {
      return try MetadataDecoder.decode(Value.self, from: text)
    } catch let error as DecodingError {
      throw .invalidMetadata(
        key: key, message: "cannot decode \(Value.self): \(describe(error))")
    } catch {
      throw .invalidMetadata(key: key, message: "cannot decode \(Value.self): \(error)")
    }
  }

  /// A decoding error as one line naming the field by its JSON path (`history[3].trainLoss`),
  /// instead of the coding-path dump of `DecodingError`'s own description.
  static func describe(_ error: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
      keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        .trimmingPrefix(".").description.escapingControlCharacters
    }
    func field(_ context: DecodingError.Context) -> String {
      context.codingPath.isEmpty ? "" : "field \"\(path(context.codingPath))\": "
    }
    switch error {
    case .keyNotFound(let key, let context):
      return "field \"\(path(context.codingPath + [key]))\" is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return field(context) + context.debugDescription.escapingControlCharacters
    case .dataCorrupted(let context):
      return field(context) + context.debugDescription.escapingControlCharacters
    @unknown default:
      return "\(error)"
    }
  }
}

/// Why a model file could not be loaded into a model; the model is unchanged.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
  /// The file is unreadable or not a valid safetensors file.
  case file(SafeTensorsError)
  /// The file is valid but does not fit the model; lists every difference.
  case mismatch(file: String, problems: [Problem])
  /// A metadata entry is missing or does not hold the expected JSON.
  case invalidMetadata(key: String, message: String)
  /// A tensor fits the model but holds a value no model file holds (a NaN, an infinity).
  case invalidTensor(file: String, tensor: String, message: String)

  /// One difference between a file and a model.
  public enum Problem: Equatable, Sendable, CustomStringConvertible {
    /// The model has a parameter the file lacks.
    case missingTensor(String)
    /// The file has a tensor no parameter is called.
    case unexpectedTensor(String)
    /// The shapes differ.
    case shapeMismatch(String, file: [Int], model: [Int])
    /// The dtypes differ and conversion was not requested.
    case dtypeMismatch(String, file: String, model: String)
    /// Two parameters of the model share a name.
    case duplicateParameter(String)

    /// One line naming the tensor and both sides.
    public var description: String {
      switch self {
      case .missingTensor(let name):
        "parameter \"\(name.escapingControlCharacters)\" is not in the file"
      case .unexpectedTensor(let name):
        "tensor \"\(name.escapingControlCharacters)\" in the file matches no parameter of the model"
      case .shapeMismatch(let name, let file, let model):
        "parameter \"\(name.escapingControlCharacters)\": file has shape \(file), model expects \(model)"
      case .dtypeMismatch(let name, let file, let model):
        "parameter \"\(name.escapingControlCharacters)\": file stores \(file), model uses \(model) "
          + "(load with converting: true to convert)"
      case .duplicateParameter(let name):
        "two parameters of the model are named \"\(name.escapingControlCharacters)\""
      }
    }
  }

  /// What went wrong, naming the file and each tensor involved.
  public var description: String {
    switch self {
    case .file(let error):
      return error.description
    case .mismatch(let file, let problems):
      return "\(file): does not match the model, nothing was loaded:\n"
        + problems.map { "  - \($0)" }.joined(separator: "\n")
    case .invalidMetadata(let key, let message):
      return "metadata \"\(key.escapingControlCharacters)\": \(message)"
    case .invalidTensor(let file, let tensor, let message):
      return "\(file): tensor \"\(tensor.escapingControlCharacters)\" \(message)"
    }
  }
}
