import Core
import Foundation
@testable import NodeRuntime
import Testing

@Suite(.serialized) struct EventLogTests {
    func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)").path
    }

    @Test func pastTheSizeLimitItRingCompactsToTheNewestEventsAndCapsArchives() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = EventLog(.init(directory: path, maxBytes: 8_000, keepEvents: 20, archiveMaxBytes: 20_000, freeSpaceFloorBytes: 0, checkEvery: 10))
        for index in 0..<1_000 { log.append(kind: "token", fields: ["n": String(index)]) }
        let stats = log.stats
        #expect(stats.written == 1_000 && !stats.countingOnly)
        let recent = log.recent(limit: 10_000)
        #expect(recent.count <= 120, "compacted to the newest 20 plus what came after")
        #expect(recent.last?["n"] == "999")
        let archives = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("events-") }
        let archiveBytes = archives.map { StagingArea.size(ofFile: path + "/" + $0) }.reduce(0, +)
        #expect(!archives.isEmpty && archiveBytes <= 20_000, "archives are capped by total bytes")
    }

    @Test func belowTheFreeSpaceFloorItCountsInsteadOfWriting() {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let warnings = LockedStrings()
        let log = EventLog(.init(directory: path, freeSpaceFloorBytes: Int64.max / 2, checkEvery: 4), onDegrade: { warnings.append($0) })
        for _ in 0..<10 { log.append(kind: "token") }
        let stats = log.stats
        #expect(stats.countingOnly && stats.counted == 10 && stats.written == 0)
        #expect(warnings.values.contains { $0.contains("counting-only") })
    }

    /// ENOSPC for real: a 64 KiB tmpfs mounted by the test (the test runs as root, as CI does).
    @Test func aFullFilesystemDegradesToCountingOnlyAndNothingCrashes() throws {
        let path = directory()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", path]
        try mount.run()
        try #require(ProcessExit.waitBlocking(mount, timeout: 30) == 0, "mounting a tmpfs needs root (CI runs as root)")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [path]
            try? umount.run()
            ProcessExit.waitBlocking(umount, timeout: 30)
        }
        // No floor: only the failing write can notice the full disk.
        let log = EventLog(.init(directory: path, maxBytes: 1 << 30, freeSpaceFloorBytes: 0, checkEvery: 1 << 20))
        let padding = String(repeating: "x", count: 500)
        for index in 0..<400 { log.append(kind: "token", fields: ["n": String(index), "pad": padding]) }
        let stats = log.stats
        #expect(stats.countingOnly, "ENOSPC switches to counting-only")
        #expect(stats.counted == 400 && stats.written < 400)
        #expect(stats.reason?.contains("ENOSPC") == true)
    }
}

final class LockedStrings: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ value: String) { lock.lock(); stored.append(value); lock.unlock() }
    var values: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
