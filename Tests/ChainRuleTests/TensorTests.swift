import Foundation
import Testing

@testable import ChainRule

@Suite("Tensor")
struct TensorTests {
  @Test func createsFromNestedArraysAndShape() {
    let m = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
    #expect(m.shape == [2, 3])
    #expect(m[1, 2] == 6)
    #expect(m == Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
    let cube = Tensor<Float>([[[1, 2]], [[3, 4]]])
    #expect(cube.shape == [2, 1, 2])
    #expect(cube[1, 0, 1] == 4)
    #expect(Tensor<Float>(2.5).shape == [])
    #expect(Tensor<Double>.ones([2, 2]).scalars == [1, 1, 1, 1])
    #expect(Tensor<Double>(shape: [3], repeating: 7).scalars == [7, 7, 7])
  }

  @Test func copyOnWriteKeepsCopiesIndependent() {
    var a = Tensor<Double>([1, 2, 3])
    let b = a
    a[0] = 10
    #expect(b[0] == 1)
    #expect(a[0] == 10)
  }

  @Test func printsLikeNumPy() {
    #expect(Tensor<Double>([[0.3], [-0.2]]).description == "[[ 0.3]\n [-0.2]]")
    #expect(Tensor<Double>([1, 2.5]).description == "[1.  2.5]")
    #expect(Tensor<Double>(0.4218990052500079).description == "0.42189901")
    #expect(
      Tensor<Float>([[[1, 2]], [[3, 4]]]).description == "[[[1. 2.]]\n\n [[3. 4.]]]")
    #expect(Tensor<Double>([1e-5, 1]).description == "[1.00000000e-05 1.00000000e+00]")
    #expect(Tensor<Double>(shape: [2000], repeating: 1).description.contains("..."))
  }

  @Test func approximateEqualityUsesRelativeAndAbsoluteTolerance() {
    let a = Tensor<Double>([1, 2])
    #expect(a.isApproximatelyEqual(to: Tensor([1 + 1e-13, 2])))
    #expect(!a.isApproximatelyEqual(to: Tensor([1.001, 2])))
    #expect(a.isApproximatelyEqual(to: Tensor([1.001, 2]), relativeTolerance: 1e-2))
    #expect(!a.isApproximatelyEqual(to: Tensor([[1, 2]])))  // shapes differ
    #expect(!Tensor<Double>([.nan]).isApproximatelyEqual(to: Tensor([.nan])))
  }

  @Test func broadcastsLikeNumPy() {
    #expect(Broadcast.shape([3, 4], [4]) == [3, 4])
    #expect(Broadcast.shape([3, 1], [1, 4]) == [3, 4])
    #expect(Broadcast.shape([2, 3, 4], []) == [2, 3, 4])
    #expect(Broadcast.shape([3, 4], [3]) == nil)
    let m = Tensor<Double>([[1, 2], [3, 4]])
    #expect(m + Tensor([10, 20]) == Tensor([[11, 22], [13, 24]]))
    #expect(m * Tensor([[10], [100]]) == Tensor([[10, 20], [300, 400]]))
    #expect(Tensor([[1], [2]]) - Tensor<Double>([1, 2]) == Tensor([[0, -1], [1, 0]]))
  }

  @Test func sumsGradientsBackToTheOperandShape() {
    let g = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
    #expect(g.summed(toShape: [3]) == Tensor([5, 7, 9]))
    #expect(g.summed(toShape: [2, 1]) == Tensor([[6], [15]]))
    #expect(g.summed(toShape: []) == Tensor(21))
    #expect(g.sum(alongAxis: 1) == Tensor([6, 15]))
    #expect(g.sum(alongAxis: 0, keepingDimension: true) == Tensor([[5, 7, 9]]))
  }

  @Test func matmulAndTransposeAgreeWithTheDefinition() {
    let a = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
    let b = Tensor<Double>([[1, 0], [0, 1], [1, 1]])
    #expect(a.matmul(b) == Tensor([[4, 5], [10, 11]]))
    #expect(a.transposed() == Tensor([[1, 4], [2, 5], [3, 6]]))
    #expect(a.matmul(a, transposeOther: true) == a.matmul(a.transposed()))
    #expect(a.matmul(a, transposeSelf: true) == a.transposed().matmul(a))
  }
}

@Suite("Shape errors")
struct ShapeErrorTests {
  @Test func matmulMessageNamesOperandsShapesAndTheMismatch() {
    let x = ShapeError.Operand(name: "x", shape: [4, 3])
    let w = ShapeError.Operand(name: "W1", shape: [2, 5])
    #expect(throws: ShapeError.matmul(x, w)) { try MatMul().outputShape([x, w]) }
    #expect(
      ShapeError.matmul(x, w).description
        == #"matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)"#)
  }

  @Test func broadcastMessageNamesTheOpAndTheIncompatibleAxis() {
    let a = ShapeError.Operand(name: "z1", shape: [4, 3])
    let b = ShapeError.Operand(name: "b1", shape: [2])
    let error = ShapeError.broadcast(op: "add", a, b)
    #expect(
      error.description == #"add: "z1" [4, 3] and "b1" [2] do not broadcast (axis -1: 3 vs 2)"#)
    #expect(throws: error) { try Add().outputShape([a, b]) }
  }

  @Test func graphUsesNodeNamesOrGeneratedLabelsInMessages() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor.zeros([4, 3]), name: "x")
    let hidden = x.tanh()
    #expect(hidden.label == "tanh#1")
    let operands = [x, hidden].map { ShapeError.Operand(name: $0.label, shape: $0.shape) }
    #expect(
      ShapeError.matmul(operands[0], operands[1]).description
        == #"matmul: "x" [4, 3] and "tanh#1" [4, 3] do not align (3 ≠ 4)"#)
  }

  @Test func otherOpsRejectBadShapesWithAMessage() {
    let v = ShapeError.Operand(name: "v", shape: [3])
    #expect(throws: ShapeError.self) { try Transpose().outputShape([v]) }
    #expect(throws: ShapeError.self) { try Reshape(shape: [2, 2]).outputShape([v]) }
    #expect(throws: ShapeError.self) { try Sum(axis: 1).outputShape([v]) }
  }
}
