import CSQLite

/// One SQLite connection with a prepared-statement cache.
///
/// Unchecked Sendable: a connection moves between threads (the reader free list) but is only
/// ever used by the one thread that holds it.
final class SQLiteConnection: SQLConnection, @unchecked Sendable {
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    let dialect = SQLDialect.sqlite

    /// Opens `path`, read-write (creating it) or read-only, and applies the durability pragmas.
    init(path: String, readOnly: Bool, synchronous: String) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw StoreError.engine(code: rc, message: "\(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
        if !readOnly {
            // WAL lets readers run beside the writer; FULL syncs the WAL on every commit,
            // which is what makes an acknowledged write survive kill -9 and power loss.
            let mode = try query("PRAGMA journal_mode=WAL", []).first?.values.first
            guard mode == .text("wal") else { throw StoreError.engine(code: 0, message: "WAL unavailable for \(path)") }
        }
        try execute("PRAGMA synchronous=\(synchronous)")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        let statement = try prepared(sql, parameters)
        defer { sqlite3_reset(statement) }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            if rc != SQLITE_ROW { throw error(rc) }
        }
        return Int(sqlite3_changes(handle))
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [Row] {
        let statement = try prepared(sql, parameters)
        defer { sqlite3_reset(statement) }
        let count = sqlite3_column_count(statement)
        var columns: [String: Int] = [:]
        for index in 0..<count { columns[String(cString: sqlite3_column_name(statement, index))] = Int(index) }
        var rows: [Row] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for index in 0..<count { values.append(column(statement, index)) }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_NULL: return .null
        default:
            guard let text = sqlite3_column_text(statement, index) else { return .null }
            return .text(String(cString: text))
        }
    }

    private func prepared(_ sql: String, _ parameters: [SQLValue]) throws -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
            sqlite3_clear_bindings(statement)
        } else {
            var fresh: OpaquePointer?
            let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &fresh, nil)
            guard rc == SQLITE_OK, let fresh else { throw error(rc) }
            statements[sql] = fresh
            statement = fresh
        }
        guard Int(sqlite3_bind_parameter_count(statement)) == parameters.count else {
            throw StoreError.engine(code: SQLITE_RANGE, message: "statement takes \(sqlite3_bind_parameter_count(statement)) parameters, given \(parameters.count)")
        }
        for (offset, parameter) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch parameter {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let value): rc = sqlite3_bind_int64(statement, index, value)
            case .real(let value): rc = sqlite3_bind_double(statement, index, value)
            case .text(let value): rc = sqlite3_bind_text(statement, index, value, -1, Self.transient)
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
        return statement
    }

    /// SQLITE_TRANSIENT, which Swift does not import: SQLite copies the bound text.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    // Extended result codes are C macros Swift does not import: SQLITE_CONSTRAINT | (n << 8).
    private static let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)
    private static let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)

    private func error(_ rc: Int32) -> StoreError {
        let message = String(cString: sqlite3_errmsg(handle))
        switch sqlite3_extended_errcode(handle) {
        case Self.constraintUnique, Self.constraintPrimaryKey: return .uniqueViolation(message)
        case let code where code & 0xFF == SQLITE_CONSTRAINT: return .constraintViolation(message)
        default: return .engine(code: rc, message: message)
        }
    }
}
