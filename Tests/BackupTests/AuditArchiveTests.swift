@testable import Backup
import Core
import Foundation
import Logging
import Storage
import Testing

/// The hash-chained audit archive: continuous segments, and every kind of removal or alteration caught.
@Suite struct AuditArchiveTests {
    let folder: String
    let database: SQLiteDatabase
    let workers = BlockingWorkPool(threads: 2)

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        database = try SQLiteDatabase(path: folder + "/metalplane.sqlite")
        try await database.migrate(BackupSchema.migrations + [Migration(module: "iam", version: 1, statements: [
            "CREATE TABLE audit_log (id TEXT PRIMARY KEY, at BIGINT NOT NULL, action TEXT NOT NULL, target TEXT, status BIGINT NOT NULL)",
        ])])
    }

    func archive(clock: WallClock = .system) throws -> AuditArchive {
        AuditArchive(database: database, target: DirectoryTarget(root: folder + "/target", workers: workers),
                     keyring: try BackupKeyring(spec: "k1:" + Data(repeating: 5, count: 32).base64EncodedString(), currentID: nil),
                     workers: workers, clock: clock, logger: Logger(label: "test"), dataDirectory: folder)
    }

    func append(_ range: Range<Int>, at: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) async throws {
        try await database.write { connection in
            for index in range {
                try connection.execute("INSERT INTO audit_log (id, at, action, target, status) VALUES (?, ?, ?, ?, ?)",
                                       [.text("aud_\(index)"), .integer(at + Int64(index)), .text("tenants.create"), index % 2 == 0 ? .null : .text("t\(index)"), .integer(201)])
            }
        }
    }

    func segmentPath(_ sequence: Int64) -> String { folder + "/target/" + AuditArchive.objectName(sequence, keyID: "k1") }

    @Test func recordsAreArchivedInChainedSegmentsThatVerify() async throws {
        let archive = try archive()
        try await append(0..<120)
        #expect(try await archive.archivePending(perSegment: 50) == 120)
        try await append(120..<130)
        #expect(try await archive.archivePending(perSegment: 50) == 10)
        #expect(try await archive.archivePending(perSegment: 50) == 0, "nothing twice")
        let report = try await archive.verify()
        #expect(report.segments == 4 && report.records == 130 && report.lastSegment == 4 && report.reachesStoreTip == true)
        await database.close()
    }

    @Test func aRemovedOrAlteredSegmentOrRecordIsDetected() async throws {
        let archive = try archive()
        try await append(0..<150)
        try await archive.archivePending(perSegment: 50)
        func failure() async -> String {
            do { _ = try await archive.verify(); return "verified" } catch { return (error as? BackupError)?.message ?? "\(error)" }
        }
        // An altered byte: the segment no longer opens.
        let second = try Data(contentsOf: URL(fileURLWithPath: segmentPath(2)))
        var altered = second
        altered[altered.count - 30] ^= 0x01
        try altered.write(to: URL(fileURLWithPath: segmentPath(2)))
        #expect(await failure().contains("audit segment 2"))
        // A removed segment in the middle: a gap.
        try FileManager.default.removeItem(atPath: segmentPath(2))
        #expect(await failure().contains("missing"))
        try second.write(to: URL(fileURLWithPath: segmentPath(2)))
        #expect(await failure() == "verified")
        // The newest segment removed: the archive no longer reaches the store's tip.
        try FileManager.default.removeItem(atPath: segmentPath(3))
        #expect(await failure().contains("newest segments are missing"))
        await database.close()
    }

    @Test func aRecordRemovedFromASegmentBreaksTheChain() async throws {
        let archive = try archive()
        try await append(0..<10)
        try await archive.archivePending()
        // Re-seal the segment without its fifth record, as someone holding the key could.
        let key = [UInt8](repeating: 5, count: 32)
        _ = try PartCodec.open(segmentPath(1), to: folder + "/plain", key: key, backupID: "audit-archive", part: "segment-1")
        var lines = try String(contentsOfFile: folder + "/plain", encoding: .utf8).split(separator: "\n").map(String.init)
        lines.remove(at: 5)
        let header = lines[0].replacingOccurrences(of: "\"count\":10", with: "\"count\":9")
        try ([header] + lines.dropFirst()).joined(separator: "\n").write(toFile: folder + "/plain", atomically: true, encoding: .utf8)
        _ = try PartCodec.seal(folder + "/plain", to: segmentPath(1), key: key, backupID: "audit-archive", part: "segment-1")
        await #expect { try await archive.verify() } throws: { ($0 as? BackupError)?.message.contains("breaks the hash chain") == true }
        await database.close()
    }

    @Test func segmentsPastTheRetentionArePrunedAndTheRestStillVerifies() async throws {
        let old = Int64(Date().addingTimeInterval(-30 * 31 * 86_400).timeIntervalSince1970 * 1000)
        try await append(0..<50, at: old)
        try await archive().archivePending(perSegment: 50)
        try await append(50..<100)
        try await archive().archivePending(perSegment: 50)
        #expect(try await archive().prune(olderThanMonths: 24) == 1)
        let report = try await archive().verify()
        #expect(report.firstSegment == 2 && report.records == 50)
        await database.close()
    }
}
