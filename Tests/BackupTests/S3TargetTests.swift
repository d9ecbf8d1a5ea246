@testable import Backup
import Core
import Foundation
import Logging
import ObjectStore
import Storage
import TestPeers
import Testing

/// Signature V4 against AWS's published example, and backups against a real S3 server (moto).
@Suite struct S3TargetTests {
    /// AWS's "GET Object" example from the Signature V4 documentation for S3.
    @Test func signaturesMatchAWSsPublishedExample() {
        let signer = SignatureV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signer.sign(method: "GET", path: "/test.txt", query: [],
                                  headers: [("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9")],
                                  payloadHash: SignatureV4.emptyPayloadHash, at: Date(timeIntervalSince1970: 1_369_353_600))
        let authorization = headers.first { $0.0 == "Authorization" }?.1 ?? ""
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(SignatureV4.canonicalQuery([("prefix", "backups/a b"), ("list-type", "2")]) == "list-type=2&prefix=backups%2Fa%20b")
    }

    @Test(arguments: [true, false])
    func backupsGoToS3AndComeBackInBothAddressingStyles(pathStyle: Bool) async throws {
        let server = try await S3Server()
        defer { server.stop() }
        let workers = BlockingWorkPool(threads: 2)
        // A small multipart threshold sends the store snapshot up in parts.
        let client = S3Client(settings: .init(endpoint: server.endpoint.replacingOccurrences(of: "127.0.0.1", with: "localhost"), region: "us-east-1",
                                              bucket: "metalplane-backups", accessKey: "test", secretKey: "test", pathStyle: pathStyle,
                                              multipartThreshold: 5 << 20, partBytes: 5 << 20),
                              workers: workers)
        try await client.createBucket()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("s3-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = try SQLiteDatabase(path: folder + "/data/metalplane.sqlite")
        try await database.migrate(BackupSchema.migrations + [Migration(module: "sample", version: 1, statements: ["CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)"])])
        // Random hex rows: 24 MiB that compress only to about half, so the sealed store is past the multipart threshold.
        let digits = Array("0123456789abcdef".utf8)
        try await database.write { connection in
            var generator = SystemRandomNumberGenerator()
            for index in 0..<48 {
                var text = [UInt8](repeating: 0, count: 512 << 10)
                for offset in stride(from: 0, to: text.count, by: 16) {
                    var value: UInt64 = generator.next()
                    for digit in 0..<16 { text[offset + digit] = digits[Int(value & 15)]; value >>= 4 }
                }
                try connection.execute("INSERT INTO blobs (id, data) VALUES (?, ?)", [.int(index), .text(String(decoding: text, as: UTF8.self))])
            }
        }
        let service = BackupService(database: database, target: S3Target(client: client, prefix: "prod/controller-1"),
                                    keyring: try BackupKeyring(spec: "k1:" + Data(repeating: 9, count: 32).base64EncodedString(), currentID: nil),
                                    settings: .init(dataDirectory: folder + "/data", configurationFile: nil, controllerVersion: "test"),
                                    workers: workers, clock: .system, logger: Logger(label: "test"))
        let manifest = try await service.run(trigger: "test")
        #expect(try #require(manifest.parts.first).storedBytes > 5 << 20)
        let keys = try await client.list(prefix: "prod/controller-1/backups/")
        #expect(keys.contains("prod/controller-1/backups/\(manifest.id)/manifest.json") && keys.contains("prod/controller-1/backups/\(manifest.id)/store.mpbk"))
        #expect(try await service.list().map(\.id) == [manifest.id])
        let verified = try await service.verify(manifest.id)
        #expect(verified.integrity == "ok" && verified.rows["blobs"] == 48)
        _ = try await service.restore(manifest.id, to: folder + "/restored")
        let restored = try SQLiteDatabase(path: folder + "/restored/metalplane.sqlite")
        let same = try await restored.read { try $0.query("SELECT id, data FROM blobs ORDER BY id", []) }
        let original = try await database.read { try $0.query("SELECT id, data FROM blobs ORDER BY id", []) }
        #expect(same.map(\.values) == original.map(\.values))
        await restored.close()
        _ = try await service.prune(policy: RetentionPolicy(keepAllDays: 0, dailyDays: 0, monthlyMonths: 0, protectedMonths: 0), dryRun: false)
        #expect(try await client.list(prefix: "prod/").isEmpty, "pruning removes every object of the backup")
        await database.close()
        await workers.shutdown()
    }
}
