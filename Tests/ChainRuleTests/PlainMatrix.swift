import Foundation

@testable import ChainRule

/// A tiny matrix of `[[Double]]` rows for writing the course's formulas in plain Swift,
/// independently of the library's kernels.
struct PlainMatrix: Equatable {
  var rows: [[Double]]

  init(_ rows: [[Double]]) { self.rows = rows }
  init(_ tensor: Tensor<Double>) {
    precondition(tensor.rank == 2)
    rows = (0..<tensor.shape[0]).map { i in
      Array(tensor.scalars[(i * tensor.shape[1])..<((i + 1) * tensor.shape[1])])
    }
  }

  var rowCount: Int { rows.count }
  var columnCount: Int { rows.first?.count ?? 0 }
  var transposed: PlainMatrix {
    PlainMatrix((0..<columnCount).map { j in rows.map { $0[j] } })
  }
  var tensor: Tensor<Double> { Tensor(rows) }

  /// Ordinary matrix product by the textbook triple loop.
  static func • (a: PlainMatrix, b: PlainMatrix) -> PlainMatrix {
    precondition(a.columnCount == b.rowCount)
    return PlainMatrix(
      (0..<a.rowCount).map { i in
        (0..<b.columnCount).map { j in
          (0..<a.columnCount).reduce(0) { $0 + a.rows[i][$1] * b.rows[$1][j] }
        }
      })
  }

  /// Element-wise combination of two matrices of the same size.
  func zip(_ other: PlainMatrix, _ f: (Double, Double) -> Double) -> PlainMatrix {
    PlainMatrix(Swift.zip(rows, other.rows).map { Swift.zip($0, $1).map(f) })
  }

  func map(_ f: (Double) -> Double) -> PlainMatrix { PlainMatrix(rows.map { $0.map(f) }) }

  /// `M + b` for a column vector b [rows, 1], added to every column (a bias per row).
  func addingToEveryColumn(_ column: PlainMatrix) -> PlainMatrix {
    precondition(column.columnCount == 1 && column.rowCount == rowCount)
    return PlainMatrix(Swift.zip(rows, column.rows).map { row, b in row.map { $0 + b[0] } })
  }

  /// Row sums as a column vector: `sum(M, axis = 1)` in NumPy's words.
  var rowSums: PlainMatrix { PlainMatrix(rows.map { [$0.reduce(0, +)] }) }
}

infix operator • : MultiplicationPrecedence
