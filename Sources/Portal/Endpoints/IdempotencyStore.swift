import IAM
import HTTPTypes
import Core
import Cryptography
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import Storage

/// Remembers the answers to `Idempotency-Key` requests so a retried create replays the first
/// answer instead of creating twice. Keys are per caller and kept 24 hours.
///
/// A key is reserved in the same transaction as the domain write it protects (`reservation`, a
/// `WriteAttachment`), and its answer is recorded when the handler returns. A crash between the two
/// leaves a reserved key without an answer: a retry then learns that the change was made, and is
/// never run twice.
final class IdempotencyStore: Sendable {
    static let migrations = [
        Migration(module: "portal", version: 1, statements: [
            """
            CREATE TABLE idempotency_keys (
                key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, status BIGINT NOT NULL,
                body TEXT NOT NULL, etag TEXT, created_at BIGINT NOT NULL)
            """,
        ]),
    ]

    /// Keys older than this are forgotten.
    static let retentionMillis: Int64 = 24 * 3600 * 1000

    struct Stored: Sendable {
        var requestHash: String
        var status: Int
        var body: String
        var etag: String?
    }

    private let database: any Database
    private let clock: WallClock
    private let inFlight = NIOLockedValueBox<Set<String>>([])

    init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    /// The stored answer for `key`, if one is younger than the retention.
    func lookup(_ key: String) async throws -> Stored? {
        let cutoff = clock.nowMillis() - Self.retentionMillis
        return try await database.read { connection in
            guard let row = try connection.query("SELECT * FROM idempotency_keys WHERE key = ? AND created_at > ?", [.text(key), .integer(cutoff)]).first else { return nil }
            return Stored(requestHash: try row.string("request_hash"), status: Int(try row.int64("status")),
                          body: try row.string("body"), etag: try row.optionalString("etag"))
        }
    }

    /// A stored row without an answer: the reservation committed with the change, the answer did not.
    static let reservedStatus = 0

    /// The statements that reserve `key` for a request, to commit with the handler's first write.
    func reservation(_ key: String, requestHash: String) -> WriteAttachment {
        let now = clock.nowMillis()
        return WriteAttachment([
            ("DELETE FROM idempotency_keys WHERE key = ? OR created_at < ?", [.text(key), .integer(now - Self.retentionMillis)]),
            ("INSERT INTO idempotency_keys (key, request_hash, status, body, etag, created_at) VALUES (?, ?, ?, '', NULL, ?)",
             [.text(key), .text(requestHash), .int(Self.reservedStatus), .integer(now)]),
        ])
    }

    /// Whether this process is running a request with `key` now.
    func isInFlight(_ key: String) -> Bool { inFlight.withLockedValue { $0.contains(key) } }

    /// Marks `key` as being processed; false when it already is.
    func begin(_ key: String) -> Bool { inFlight.withLockedValue { $0.insert(key).inserted } }

    /// Ends processing of `key`.
    func end(_ key: String) { _ = inFlight.withLockedValue { $0.remove(key) } }

    /// Records the answer to `key`, replacing an expired one.
    func store(_ key: String, _ stored: Stored) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            try connection.execute("DELETE FROM idempotency_keys WHERE key = ? OR created_at < ?", [.text(key), .integer(now - Self.retentionMillis)])
            try connection.execute("INSERT INTO idempotency_keys (key, request_hash, status, body, etag, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                   [.text(key), .text(stored.requestHash), .int(stored.status), .text(stored.body), .text(stored.etag), .integer(now)])
        }
    }

    /// The hash that tells one request from another under the same key.
    static func requestHash(method: String, path: String, body: ByteBuffer) -> String {
        Digest.hex(Digest.sha256(Array((method + " " + path + "\n").utf8) + Array(body.readableBytesView)))
    }
}

/// Collects a response body in memory so it can be stored for replay.
final class CollectingBodyWriter: ResponseBodyWriter, @unchecked Sendable {
    private(set) var collected = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        collected.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
