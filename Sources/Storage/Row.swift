/// One result row, read by column name with typed accessors that fail loudly on a mismatch.
public struct Row: Sendable {
    /// Column names to positions, shared by all rows of one result.
    /// Column name → index in `values`.
    public let columns: [String: Int]
    /// The values in column order.
    public let values: [SQLValue]

    init(columns: [String: Int], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value of `column`.
    public func value(_ column: String) throws -> SQLValue {
        guard let index = columns[column] else { throw StoreError.decoding("no column \(column)") }
        return values[index]
    }

    /// A non-null text column.
    public func string(_ column: String) throws -> String {
        guard case .text(let text) = try value(column) else { throw StoreError.decoding("\(column) is not text") }
        return text
    }

    /// A nullable text column.
    public func optionalString(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let text): return text
        default: throw StoreError.decoding("\(column) is not text")
        }
    }

    /// A non-null integer column.
    public func int64(_ column: String) throws -> Int64 {
        guard case .integer(let number) = try value(column) else { throw StoreError.decoding("\(column) is not an integer") }
        return number
    }

    /// A nullable integer column.
    public func optionalInt64(_ column: String) throws -> Int64? {
        switch try value(column) {
        case .null: return nil
        case .integer(let number): return number
        default: throw StoreError.decoding("\(column) is not an integer")
        }
    }

    /// A non-null number column (a REAL, or an INTEGER the store kept as one).
    public func double(_ column: String) throws -> Double {
        switch try value(column) {
        case .real(let number): return number
        case .integer(let number): return Double(number)
        default: throw StoreError.decoding("\(column) is not a number")
        }
    }

    /// A 0/1 integer column as a Bool.
    public func bool(_ column: String) throws -> Bool { try int64(column) != 0 }
}

/// A type built from a result row.
public protocol RowDecodable: Sendable {
    /// Decodes one row; throws `StoreError.decoding` on a missing or mistyped column.
    init(row: Row) throws
}
