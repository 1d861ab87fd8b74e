/// Updates a model's parameters from the gradients accumulated in them.
///
/// One training step: `zeroGradients()`, forward, `graph.backward(from: loss)`, `step()`.
/// The per-parameter state (momentum buffers, moment estimates) is readable and writable
/// through `state`, keyed `<parameter name>.<buffer>`, so training can be saved and resumed.
public protocol Optimizer<Scalar>: AnyObject {
  /// The element type, `Float` or `Double`.
  associatedtype Scalar: TensorScalar

  /// The parameters updated by `step()`, in order.
  var parameters: [Parameter<Scalar>] { get }

  /// η, the step size; a `LearningRateSchedule` sets it between steps.
  var learningRate: Scalar { get set }

  /// Applies one update to every parameter that has a gradient (`hasGradient`) and is not
  /// frozen; the others, and the optimizer's state for them, are left as they are.
  func step()

  /// The optimizer's buffers, keyed `<parameter name>.<buffer>` (e.g. `layer0.weight.momentum`).
  var state: [String: Tensor<Scalar>] { get }

  /// Replaces the buffers with `state` (as read from `state` earlier).
  /// - Throws: `OptimizerStateError` for an unknown key or a shape that does not match its
  ///   parameter; nothing is changed then.
  func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError)
}

extension Optimizer {
  /// Clears the accumulated gradient of every parameter (do this before each backward pass).
  public func zeroGradients() { clearGradients(of: parameters) }
}

/// `zeroGradient()` on each parameter, in code specialised for the scalar type (the protocol
/// extension above is generic over the optimizer, so its own loop would run unspecialised).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func clearGradients<Scalar: TensorScalar>(of parameters: [Parameter<Scalar>]) {
  for parameter in parameters { parameter.zeroGradient() }
}

/// A saved optimizer state that does not fit the optimizer's parameters.
public struct OptimizerStateError: Error, Equatable, CustomStringConvertible {
  /// What was wrong, naming the key and the shapes.
  public let description: String
  init(_ description: String) { self.description = description }
}

/// Shared bookkeeping: the parameters by name and the buffers they own.
struct ParameterBuffers<Scalar: TensorScalar> {
  /// Buffer names per parameter, e.g. `["momentum"]` or `["m", "v"]`.
  let bufferNames: [String]
  /// `buffers[i][name]` belongs to parameter i; absent until first used.
  var buffers: [[String: Tensor<Scalar>]]

  init(count: Int, bufferNames: [String]) {
    self.bufferNames = bufferNames
    self.buffers = Array(repeating: [:], count: count)
  }

  /// Removes buffer `name` of parameter `index` for an in-place update (so that it is uniquely
  /// referenced and no copy is made), or zeros of `shape` if it does not exist yet.
  mutating func take(_ index: Int, _ name: String, shape: [Int]) -> Tensor<Scalar> {
    buffers[index].removeValue(forKey: name) ?? Tensor.zeros(shape)
  }

  /// Puts back a buffer taken with `take`.
  mutating func store(_ index: Int, _ name: String, _ tensor: Tensor<Scalar>) {
    buffers[index][name] = tensor
  }

  func state(_ parameters: [Parameter<Scalar>]) -> [String: Tensor<Scalar>] {
    var result: [String: Tensor<Scalar>] = [:]
    for (index, parameter) in parameters.enumerated() {
      for (name, tensor) in buffers[index] { result["\(parameter.name).\(name)"] = tensor }
    }
    return result
  }

  mutating func load(
    _ state: [String: Tensor<Scalar>], _ parameters: [Parameter<Scalar>], optimizer: String
  ) throws(OptimizerStateError) {
    var loaded = Array(repeating: [String: Tensor<Scalar>](), count: parameters.count)
    var known: [String: (Int, String)] = [:]
    for (index, parameter) in parameters.enumerated() {
      for name in bufferNames { known["\(parameter.name).\(name)"] = (index, name) }
    }
    for (key, tensor) in state.sorted(by: { $0.key < $1.key }) {
      guard let (index, name) = known[key] else {
        throw OptimizerStateError(
          "\(optimizer) state: unknown key \"\(key)\" (no such parameter buffer)")
      }
      let shape = parameters[index].value.shape
      guard tensor.shape == shape else {
        throw OptimizerStateError(
          "\(optimizer) state: \"\(key)\" has shape \(tensor.shape), its parameter \(shape)")
      }
      loaded[index][name] = tensor
    }
    buffers = loaded
  }
}

/// Checks that parameter names are unique, since the state is keyed by them.
func requireUniqueNames<Scalar>(_ parameters: [Parameter<Scalar>], optimizer: String) {
  var seen = Set<String>()
  for parameter in parameters {
    require(
      seen.insert(parameter.name).inserted,
      "\(optimizer): two parameters are named \"\(parameter.name)\"; state is keyed by name")
  }
}
