import Core
import Cryptography
import Foundation
import IAM
import Logging
import Storage

/// The audit log, archived continuously to the backup target in append-only segments
/// (`audit/<sequence>.<keyId>.mpbk`), each sealed like a backup part and hash-chained: every record
/// carries SHA-256(previous hash ‖ record), and each segment starts from the last hash of the one
/// before. `verify` walks the chain: an altered segment fails to open, a removed record breaks the
/// chain, a removed segment leaves a gap, and removed newest segments no longer reach the tip the
/// store remembers. Segments are never rewritten; `prune` removes those past the retention.
public final class AuditArchive: Sendable {
    let database: (any Database)?
    let target: any BackupTarget
    let keyring: BackupKeyring
    let workers: BlockingWorkPool
    let clock: WallClock
    let logger: Logger
    let lockPath: String?

    static let folder = "audit/"
    static let genesis = String(repeating: "0", count: 64)

    public init(database: (any Database)?, target: any BackupTarget, keyring: BackupKeyring, workers: BlockingWorkPool,
                clock: WallClock, logger: Logger, dataDirectory: String?) {
        self.database = database
        self.target = target
        self.keyring = keyring
        self.workers = workers
        self.clock = clock
        self.logger = logger
        self.lockPath = dataDirectory.map { $0 + "/audit-archive.lock" }
    }

    struct Header: Codable {
        var segment: Int64
        var previousHash: String
        var firstRowid: Int64
        var lastRowid: Int64
        var count: Int
        var createdAt: Int64
    }

    struct Line: Codable {
        var hash: String
        var record: [String: JSONValue]
    }

    /// Archives the records not archived yet, in segments of up to `perSegment`; returns how many records.
    @discardableResult
    public func archivePending(perSegment: Int = 50_000) async throws -> Int {
        guard let database, let lockPath else { throw BackupError.notConfigured("no store to archive from") }
        let lock = try BackupLock.acquire(at: lockPath, holder: "pid \(getpid()), audit archive")
        defer { lock.release() }
        var archived = 0
        while true {
            let state = try await database.read { connection -> (rowid: Int64, hash: String, sequence: Int64) in
                guard let row = try connection.query("SELECT last_rowid, last_hash, next_sequence FROM audit_archive WHERE id = 1", []).first else {
                    return (0, Self.genesis, 1)
                }
                return (try row.int64("last_rowid"), try row.string("last_hash"), try row.int64("next_sequence"))
            }
            let rows = try await AuditLog(database: database).sequencedRows(after: state.rowid, limit: perSegment)
            guard !rows.isEmpty else { return archived }
            var hash = state.hash
            var lines: [String] = []
            var lastRowid = state.rowid
            var firstRowid: Int64 = 0
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for row in rows {
                lastRowid = try row.int64("archive_rowid")
                if firstRowid == 0 { firstRowid = lastRowid }
                let record = try Self.record(of: row)
                let canonical = String(decoding: try encoder.encode(record), as: UTF8.self)
                hash = Self.chain(hash, canonical)
                lines.append(String(decoding: try encoder.encode(Line(hash: hash, record: record)), as: UTF8.self))
            }
            let header = Header(segment: state.sequence, previousHash: state.hash, firstRowid: firstRowid, lastRowid: lastRowid,
                                count: rows.count, createdAt: clock.nowMillis())
            let text = String(decoding: try encoder.encode(header), as: UTF8.self) + "\n" + lines.joined(separator: "\n") + "\n"
            try await upload(text, sequence: state.sequence)
            let newHash = hash
            let newRowid = lastRowid
            try await database.write { connection in
                try connection.execute("""
                    INSERT INTO audit_archive (id, last_rowid, last_hash, next_sequence, updated_at) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET last_rowid = excluded.last_rowid, last_hash = excluded.last_hash,
                    next_sequence = excluded.next_sequence, updated_at = excluded.updated_at
                    """, [.integer(newRowid), .text(newHash), .integer(state.sequence + 1), .integer(self.clock.nowMillis())])
            }
            archived += rows.count
            logger.info("audit segment archived", metadata: ["segment": .stringConvertible(state.sequence), "records": .stringConvertible(rows.count)])
        }
    }

    /// What verification found.
    public struct Verification: Sendable, Codable, Equatable {
        public var segments: Int
        public var records: Int
        public var firstSegment: Int64?
        public var lastSegment: Int64?
        /// Whether the newest segment ends where the store says the archive ends (nil without a store).
        public var reachesStoreTip: Bool?
    }

    /// Opens every segment and checks the chain; throws `BackupError.corrupt` naming the first break.
    public func verify() async throws -> Verification {
        // The store's tip is read first: segments archived meanwhile extend the chain past it.
        let tip = try await database?.read { try $0.query("SELECT last_hash, next_sequence FROM audit_archive WHERE id = 1", []).first }
        let segments = try await listSegments()
        var endHashes: [Int64: String] = [:]
        var expected: String?
        var previousSequence: Int64?
        var records = 0
        for segment in segments {
            let text = try await download(segment)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: true).makeIterator()
            guard let first = lines.next(), let header = try? JSONDecoder().decode(Header.self, from: Data(first.utf8)), header.segment == segment.sequence else {
                throw BackupError.corrupt(part: "audit segment \(segment.sequence)", reason: "no valid header")
            }
            if let previousSequence, segment.sequence != previousSequence + 1 {
                throw BackupError.corrupt(part: "audit segment \(previousSequence + 1)", reason: "missing: the archive jumps from segment \(previousSequence) to \(segment.sequence)")
            }
            if let expected, header.previousHash != expected {
                throw BackupError.corrupt(part: "audit segment \(segment.sequence)", reason: "does not continue the chain of segment \(segment.sequence - 1)")
            }
            var hash = header.previousHash
            var count = 0
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            while let line = lines.next() {
                guard let entry = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else {
                    throw BackupError.corrupt(part: "audit segment \(segment.sequence)", reason: "record \(count + 1) is not readable")
                }
                hash = Self.chain(hash, String(decoding: try encoder.encode(entry.record), as: UTF8.self))
                guard hash == entry.hash else {
                    throw BackupError.corrupt(part: "audit segment \(segment.sequence)", reason: "record \(count + 1) breaks the hash chain (altered or removed)")
                }
                count += 1
            }
            guard count == header.count else {
                throw BackupError.corrupt(part: "audit segment \(segment.sequence)", reason: "holds \(count) records, its header says \(header.count)")
            }
            records += count
            expected = hash
            endHashes[segment.sequence] = hash
            previousSequence = segment.sequence
        }
        var reaches: Bool?
        if let tip {
            let storeHash = try tip.string("last_hash")
            let storeLast = try tip.int64("next_sequence") - 1
            guard endHashes[storeLast] == storeHash else {
                throw BackupError.corrupt(part: "audit archive", reason: "ends at segment \(previousSequence.map(String.init) ?? "none"), but the store archived up to segment \(storeLast): newest segments are missing or replaced")
            }
            reaches = true
        }
        return Verification(segments: segments.count, records: records, firstSegment: segments.first?.sequence,
                            lastSegment: segments.last?.sequence, reachesStoreTip: reaches)
    }

    /// Removes segments whose newest record is older than `months` (24 by default); the oldest
    /// remaining segment then anchors the chain.
    @discardableResult
    public func prune(olderThanMonths months: Int = 24) async throws -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let cutoff = Int64((calendar.date(byAdding: .month, value: -months, to: clock.now()) ?? clock.now()).timeIntervalSince1970 * 1000)
        var removed = 0
        // Oldest first, stopping at the first one to keep: the chain stays contiguous.
        for segment in try await listSegments() {
            let text = try await download(segment)
            let newest = text.split(separator: "\n").dropFirst().compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
                .compactMap { entry -> Int64? in if case .int(let at) = entry.record["at"] { return at } else { return nil } }.max() ?? 0
            guard newest < cutoff else { break }
            try await target.delete(segment.name)
            removed += 1
        }
        return removed
    }

    // MARK: Pieces

    struct Segment {
        var sequence: Int64
        var keyID: String
        var name: String
    }

    func listSegments() async throws -> [Segment] {
        try await target.list(prefix: Self.folder).compactMap { name -> Segment? in
            let file = name.dropFirst(Self.folder.count).split(separator: ".")
            guard file.count == 3, file[2] == "mpbk", let sequence = Int64(file[0]) else { return nil }
            return Segment(sequence: sequence, keyID: String(file[1]), name: name)
        }.sorted { $0.sequence < $1.sequence }
    }

    static func objectName(_ sequence: Int64, keyID: String) -> String {
        folder + String(sequence).leftPadded(to: 12) + "." + keyID + ".mpbk"
    }

    static func chain(_ previous: String, _ canonical: String) -> String {
        Digest.hex(Digest.sha256(Array((previous + "\n" + canonical).utf8)))
    }

    static func record(of row: Row) throws -> [String: JSONValue] {
        var record: [String: JSONValue] = [:]
        // `seq` is PostgreSQL's sequence column, the stand-in for SQLite's rowid: not part of the record.
        for (column, index) in row.columns where column != "archive_rowid" && column != "seq" {
            switch row.values[index] {
            case .null: record[column] = .null
            case .integer(let value): record[column] = .int(value)
            case .real(let value): record[column] = .double(value)
            case .text(let value): record[column] = .string(value)
            }
        }
        return record
    }

    private func upload(_ text: String, sequence: Int64) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: scratch + ".mpbk") }
        let key = try keyring.key(keyring.currentID)
        try await workers.run {
            try Data(text.utf8).write(to: URL(fileURLWithPath: scratch))
            _ = try PartCodec.seal(scratch, to: scratch + ".mpbk", key: key, backupID: "audit-archive", part: "segment-\(sequence)")
        }
        try await target.put(Self.objectName(sequence, keyID: keyring.currentID), from: scratch + ".mpbk")
    }

    private func download(_ segment: Segment) async throws -> String {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: scratch + ".plain") }
        try await target.get(segment.name, to: scratch)
        let key = try keyring.key(segment.keyID)
        return try await workers.run {
            do {
                _ = try PartCodec.open(scratch, to: scratch + ".plain", key: key, backupID: "audit-archive", part: "segment-\(segment.sequence)")
            } catch let error as BackupError {
                throw BackupError.corrupt(part: "audit segment \(segment.sequence)", reason: "cannot be opened (\(error.message))")
            }
            return try String(contentsOfFile: scratch + ".plain", encoding: .utf8)
        }
    }
}
