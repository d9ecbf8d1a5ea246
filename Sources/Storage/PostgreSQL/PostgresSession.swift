import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// One PostgreSQL connection, used synchronously by the one thread that holds it (the writer or
/// a reader), so the domain's synchronous units of work run unchanged. Blocking on a future is
/// safe here: these are the store's own threads, never an event loop or the cooperative pool.
///
/// After a connection error the session is dropped and the next unit connects again, to
/// whichever host is the writable primary by then.
final class PostgresSession: SQLConnection, @unchecked Sendable {
    let dialect = SQLDialect.postgresql
    private let location: PostgresLocation
    private let logger: Logger
    private var connection: PostgresConnection?
    private var translated: [String: String] = [:]
    /// Statements sent without waiting for their answer (transaction control): the server runs a
    /// connection's statements in order, so their outcome is known when the next answer arrives.
    private var pending: [EventLoopFuture<PostgresQueryResult>] = []
    private static let nextID = NIOLockedValueBox(0)

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    deinit { disconnect() }

    /// Connects to the writable primary unless connected already.
    func connectIfNeeded() throws {
        if let connection, !connection.isClosed { return }
        connection = nil
        connection = try Self.primary(location, logger: logger).wait()
    }

    /// A new connection to the writable primary, for a caller that may suspend (the signal listener).
    static func connectToPrimary(_ location: PostgresLocation, logger: Logger) async throws -> PostgresConnection {
        try await primary(location, logger: logger).get()
    }

    /// Tries each host in turn and keeps the first that is not in recovery.
    private static func primary(_ location: PostgresLocation, logger: Logger) -> EventLoopFuture<PostgresConnection> {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        @Sendable func attempt(_ index: Int, _ failures: [String]) -> EventLoopFuture<PostgresConnection> {
            guard index < location.hosts.count else {
                return loop.makeFailedFuture(StoreError.unavailable("no writable PostgreSQL primary: " + failures.joined(separator: "; ")))
            }
            let host = location.hosts[index]
            var configuration = PostgresConnection.Configuration(host: host.name, port: host.port, username: location.username,
                                                                 password: location.password, database: location.database, tls: .disable)
            configuration.options.connectTimeout = .seconds(Int64(location.connectTimeoutSeconds))
            let id = nextID.withLockedValue { $0 += 1; return $0 }
            return PostgresConnection.connect(on: loop, configuration: configuration, id: id, logger: logger).flatMap { candidate in
                candidate.query(PostgresQuery(unsafeSQL: "SELECT pg_is_in_recovery()"), logger: logger).flatMapThrowing { result in
                    try result.rows.first.map { try $0.decode(Bool.self) } ?? true
                }.flatMap { standby -> EventLoopFuture<PostgresConnection> in
                    guard standby else { return loop.makeSucceededFuture(candidate) }
                    return candidate.close().flatMap { attempt(index + 1, failures + ["\(host.name):\(host.port) is a standby"]) }
                }.flatMapError { error in
                    // A StoreError is the later hosts' verdict, already complete: pass it on.
                    if error is StoreError { return loop.makeFailedFuture(error) }
                    return candidate.close().flatMap { attempt(index + 1, failures + ["\(host.name):\(host.port): \(describe(error))"]) }
                }
            }.flatMapError { error in
                if error is StoreError { return loop.makeFailedFuture(error) }
                return attempt(index + 1, failures + ["\(host.name):\(host.port): \(describe(error))"])
            }
        }
        return attempt(0, [])
    }

    /// Closes the connection; the next unit of work opens a new one.
    func disconnect() {
        pending = []
        if let connection { try? connection.close().wait() }
        connection = nil
    }

    /// Transaction control whose answer nobody reads: pipelined, so a unit of work pays no round trip for it.
    private static func isPipelined(_ sql: String) -> Bool {
        sql.hasPrefix("BEGIN") || sql.hasPrefix("SAVEPOINT ") || sql.hasPrefix("RELEASE ")
    }

    /// Sends `sql` without waiting; a failure is reported by the next statement that waits.
    func send(_ sql: String) throws {
        try connectIfNeeded()
        guard let connection else { throw StoreError.unavailable("not connected") }
        pending.append(connection.query(PostgresQuery(unsafeSQL: sql), logger: logger))
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        if parameters.isEmpty && Self.isPipelined(sql) {
            try send(sql)
            return 0
        }
        return try run(sql, parameters).metadata.rows ?? 0
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [Row] {
        let result = try run(sql, parameters)
        guard let first = result.rows.first else { return [] }
        var columns: [String: Int] = [:]
        for (index, cell) in first.enumerated() where columns[cell.columnName] == nil { columns[cell.columnName] = index }
        return try result.rows.map { row in Row(columns: columns, values: try row.map(Self.value(of:))) }
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> PostgresQueryResult {
        try connectIfNeeded()
        guard let connection else { throw StoreError.unavailable("not connected") }
        let text: String
        if let cached = translated[sql] {
            text = cached
        } else {
            text = PostgresSQLTranslation.translate(sql)
            translated[sql] = text
        }
        var binds = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .null: binds.appendNull()
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            // Untyped, like a literal: PostgreSQL reads it as the type its place asks for.
            case .text(let value): binds.append(UntypedText(value: value))
            }
        }
        do {
            let answer = connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger)
            let outcome = Result { try answer.wait() }
            // Statements sent before this one answered first; the first failure among them is the cause.
            let earlier = pending
            pending = []
            for statement in earlier { _ = try statement.wait() }
            return try outcome.get()
        } catch let error as PSQLError where ["40001", "40P01"].contains(error.serverInfo?[.sqlState] ?? "") {
            throw SerializationConflict(message: error.serverInfo?[.message] ?? "serialization failure")
        } catch {
            let failure = Self.storeError(error)
            if case .unavailable = failure { disconnect() }
            throw failure
        }
    }

    /// A cell as the portable value the domain reads: booleans as 0/1, numerics as integers when whole.
    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric:
            let number = try cell.decode(Decimal.self)
            let double = NSDecimalNumber(decimal: number).doubleValue
            if double.rounded() == double, abs(double) < 9.0e18 { return .integer(Int64(double)) }
            return .real(double)
        default: return .text(try cell.decode(String.self))
        }
    }

    /// What a caller sees: the store's own failures in its terms, a domain error thrown by a unit as it is.
    static func reported(_ error: any Error) -> any Error {
        if let conflict = error as? SerializationConflict { return StoreError.unavailable("serialization conflict: \(conflict.message)") }
        if error is PSQLError || error is PostgresDecodingError { return storeError(error) }
        return error
    }

    /// PostgreSQL's SQLSTATE classes in the store's terms.
    static func storeError(_ error: any Error) -> StoreError {
        if let store = error as? StoreError { return store }
        guard let psql = error as? PSQLError else { return .engine(code: 0, message: String(describing: error)) }
        guard psql.code == .server, let state = psql.serverInfo?[.sqlState] else {
            return .unavailable("PostgreSQL connection: \(psql.code)")
        }
        let message = psql.serverInfo?[.message] ?? "SQLSTATE \(state)"
        switch state {
        case "23505": return .uniqueViolation(message)
        case let code where code.hasPrefix("23"): return .constraintViolation(message)
        // A connection problem, a server shutting down, or a primary that became a standby.
        case let code where code.hasPrefix("08") || code.hasPrefix("57P") || code == "25006":
            return .unavailable("SQLSTATE \(state): \(message)")
        default: return .engine(code: 0, message: "SQLSTATE \(state): \(message)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let store = error as? StoreError { return store.message }
        if let psql = error as? PSQLError { return psql.serverInfo?[.message] ?? "\(psql.code)" }
        return String(describing: error)
    }
}

/// A text parameter sent without a type (OID 0), as a literal would be.
private struct UntypedText: PostgresDynamicTypeEncodable {
    let value: String
    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }
    func encode<Encoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<Encoder>) {
        buffer.writeString(value)
    }
}

/// A serialization failure or deadlock (SQLSTATE 40001, 40P01): the writer runs its batch again.
struct SerializationConflict: Error {
    let message: String
}
