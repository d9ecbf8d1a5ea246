/// A connection inside one read or write unit of work; synchronous, so no `await` can sit inside a transaction.
public protocol SQLConnection {
    /// The engine behind the connection, for the few statements that differ between them.
    var dialect: SQLDialect { get }
    /// Runs a statement with `?` placeholders and returns the number of rows changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int
    /// Runs a query with `?` placeholders and returns its rows.
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [Row]
}

extension SQLConnection {
    /// Runs a statement without parameters.
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    /// Rows decoded as `type`.
    public func query<T: RowDecodable>(_ type: T.Type, _ sql: String, _ parameters: [SQLValue] = []) throws -> [T] {
        try query(sql, parameters).map(T.init(row:))
    }

    /// The first row decoded as `type`, or nil.
    public func queryFirst<T: RowDecodable>(_ type: T.Type, _ sql: String, _ parameters: [SQLValue] = []) throws -> T? {
        try query(sql, parameters).first.map(T.init(row:))
    }

    /// The first column of the first row as an integer (for `COUNT(*)` and the like).
    public func scalarInt(_ sql: String, _ parameters: [SQLValue] = []) throws -> Int64? {
        guard let row = try query(sql, parameters).first, let first = row.values.first else { return nil }
        if case .integer(let value) = first { return value }
        return nil
    }
}

/// The store every domain module talks to: units of work run on dedicated threads, each one transaction.
///
/// `SQLiteDatabase` (the embedded default) and `PostgreSQLDatabase` (postgres-nio, for several
/// controller replicas) implement it; domain modules use only portable SQL with `?` placeholders.
public protocol Database: Sendable {
    /// Runs `body` as one read-only transaction on a reader thread.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Runs `body` as one atomic, durable change on the writer thread; returns once it is committed.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Applies the migrations not yet applied, in order, each in its own transaction.
    func migrate(_ migrations: [Migration]) async throws
    /// Checks that the store answers.
    func ping() async throws
    /// Finishes queued writes and closes every connection.
    func close() async
}
