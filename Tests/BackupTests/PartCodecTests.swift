@testable import Backup
import Foundation
import Testing

/// Sealing and opening backup parts: round trips, and every way a part can be wrong.
@Suite struct PartCodecTests {
    let key = [UInt8](repeating: 7, count: 32)
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("codec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// 9 MiB that compress to more than one 4 MiB frame: random bytes with repeated runs.
    func writeSample(_ name: String, bytes: Int = 9 << 20) throws -> String {
        var generator = SystemRandomNumberGenerator()
        var data = [UInt8](repeating: 0, count: bytes)
        var index = 0
        while index < bytes {
            let run = min(bytes - index, 64)
            if index % 128 == 0 {
                for offset in 0..<run { data[index + offset] = UInt8(truncatingIfNeeded: generator.next() as UInt64) }
            } else {
                for offset in 0..<run { data[index + offset] = UInt8(offset) }
            }
            index += run
        }
        let path = folder + "/" + name
        try Data(data).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aPartRoundTripsAcrossSeveralFrames() throws {
        let source = try writeSample("store")
        var reported: Int64 = 0
        let sealed = try PartCodec.seal(source, to: folder + "/store.mpbk", key: key, backupID: "bk-1", part: "store") { reported = $0 }
        #expect(sealed.plainBytes == 9 << 20 && reported == sealed.plainBytes)
        #expect(sealed.storedBytes < sealed.plainBytes, "compressed: \(sealed.storedBytes)")
        #expect(sealed.storedSHA256 == (try BackupService.sha256(ofFile: folder + "/store.mpbk")))
        let opened = try PartCodec.open(folder + "/store.mpbk", to: folder + "/out", key: key, backupID: "bk-1", part: "store")
        #expect(opened.sha256 == sealed.plainSHA256 && opened.bytes == sealed.plainBytes)
        #expect(FileManager.default.contentsEqual(atPath: source, andPath: folder + "/out"))
    }

    @Test func anEmptyPartRoundTrips() throws {
        let source = folder + "/empty"
        _ = FileManager.default.createFile(atPath: source, contents: Data())
        _ = try PartCodec.seal(source, to: folder + "/empty.mpbk", key: key, backupID: "bk-1", part: "configuration")
        #expect(try PartCodec.open(folder + "/empty.mpbk", to: folder + "/out", key: key, backupID: "bk-1", part: "configuration").bytes == 0)
    }

    @Test func aWrongKeyAnAlteredByteATruncationOrAnotherPartsNameIsRefusedAndLeavesNothing() throws {
        let source = try writeSample("store")
        let sealedPath = folder + "/store.mpbk"
        _ = try PartCodec.seal(source, to: sealedPath, key: key, backupID: "bk-1", part: "store")
        let original = try Data(contentsOf: URL(fileURLWithPath: sealedPath))
        func attempt(_ data: Data, key: [UInt8]? = nil, backup: String = "bk-1", part: String = "store") -> BackupError? {
            let path = folder + "/attempt.mpbk"
            try? data.write(to: URL(fileURLWithPath: path))
            do {
                _ = try PartCodec.open(path, to: folder + "/attempt.out", key: key ?? self.key, backupID: backup, part: part)
                return nil
            } catch {
                #expect(!FileManager.default.fileExists(atPath: folder + "/attempt.out"), "no half-restored file is left")
                return error as? BackupError ?? .io("\(error)")
            }
        }
        #expect(attempt(original, key: [UInt8](repeating: 8, count: 32))?.code == "backup_decryption_failed")
        var altered = original
        altered[altered.count / 2] ^= 0x01
        #expect(attempt(altered)?.code == "backup_decryption_failed")
        #expect(attempt(original.prefix(original.count - 100))?.code == "backup_corrupt")
        // Cut exactly after the first frame: every remaining frame is whole, but the last is missing.
        let firstLength = Int(original[6..<10].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        #expect(10 + firstLength < original.count, "the sample spans more than one frame")
        #expect(attempt(original.prefix(10 + firstLength))?.code == "backup_corrupt")
        #expect(attempt(original, part: "secrets")?.code == "backup_decryption_failed")
        #expect(attempt(original, backup: "bk-2")?.code == "backup_decryption_failed")
        #expect(attempt(Data("not a backup".utf8))?.code == "backup_corrupt")
        #expect(attempt(original) == nil)
    }
}
