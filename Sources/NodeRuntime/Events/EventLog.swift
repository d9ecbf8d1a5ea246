import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// The node's append-only event log (JSON lines), with the runbook's retention: it ring-compacts
/// past `maxBytes` keeping the newest `keepEvents` events, caps archives at `archiveMaxBytes`,
/// and checks free space every `checkEvery` appends. Below the floor, or when a write fails
/// (ENOSPC), it degrades to counting-only: events are counted, not written, and inference goes on.
/// Writes run on one serial dispatch queue, never on Swift's cooperative threads.
public final class EventLog: Sendable {
    public struct Settings: Sendable {
        public var directory: String
        public var maxBytes: Int64
        public var keepEvents: Int
        public var archiveMaxBytes: Int64
        public var freeSpaceFloorBytes: Int64
        public var checkEvery: Int

        public init(directory: String, maxBytes: Int64 = 256 << 20, keepEvents: Int = 20_000, archiveMaxBytes: Int64 = 1 << 30,
                    freeSpaceFloorBytes: Int64 = 2 << 30, checkEvery: Int = 1024) {
            self.directory = directory
            self.maxBytes = maxBytes
            self.keepEvents = keepEvents
            self.archiveMaxBytes = archiveMaxBytes
            self.freeSpaceFloorBytes = freeSpaceFloorBytes
            self.checkEvery = checkEvery
        }
    }

    /// What `/store/storage` and the logs report.
    public struct Stats: Sendable, Equatable, Codable {
        public var bytes: Int64
        public var written: Int64
        public var counted: Int64
        public var countingOnly: Bool
        public var reason: String?
    }

    private struct State {
        var handle: FileHandle?
        var currentBytes: Int64 = 0
        var appendsSinceCheck = 0
        var written: Int64 = 0
        var counted: Int64 = 0
        var countingOnly = false
        var reason: String?
    }

    let settings: Settings
    private let queue = DispatchQueue(label: "metalplane.event-log")
    private let state = NIOLockedValueBox(State())
    private let onDegrade: @Sendable (String) -> Void

    var currentPath: String { settings.directory + "/events.jsonl" }

    /// Opens (or creates) the log; `onDegrade` is told when it enters or leaves counting-only mode.
    public init(_ settings: Settings, onDegrade: @escaping @Sendable (String) -> Void = { _ in }) {
        self.settings = settings
        self.onDegrade = onDegrade
        queue.sync {
            try? FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: currentPath) { _ = FileManager.default.createFile(atPath: currentPath, contents: nil) }
            let handle = FileHandle(forWritingAtPath: currentPath)
            _ = try? handle?.seekToEnd()
            let size = ((try? FileManager.default.attributesOfItem(atPath: currentPath))?[.size] as? NSNumber)?.int64Value ?? 0
            state.withLockedValue { $0.handle = handle; $0.currentBytes = size }
            checkFreeSpace()
        }
    }

    /// Appends one event (kind, fields and the time); never throws and never blocks the caller.
    public func append(kind: String, fields: [String: String] = [:]) {
        var object = fields
        object["kind"] = kind
        object["at"] = String(Int64(Date().timeIntervalSince1970 * 1000))
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        queue.async { self.write(data + Data([0x0A])) }
    }

    /// Waits until every queued append has been handled (tests, shutdown).
    public func flush() { queue.sync {} }

    public var stats: Stats {
        flush()
        let archives = archiveFiles().map(\.bytes).reduce(0, +)
        return state.withLockedValue { Stats(bytes: $0.currentBytes + archives, written: $0.written, counted: $0.counted,
                                             countingOnly: $0.countingOnly, reason: $0.reason) }
    }

    /// The newest `limit` events of the current file.
    public func recent(limit: Int) -> [[String: String]] {
        flush()
        guard let text = try? String(contentsOfFile: currentPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").suffix(limit).compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }
    }

    // MARK: On the queue

    private func write(_ line: Data) {
        let check = state.withLockedValue { state -> Bool in
            state.appendsSinceCheck += 1
            if state.appendsSinceCheck >= settings.checkEvery {
                state.appendsSinceCheck = 0
                return true
            }
            return false
        }
        if check { checkFreeSpace() }
        let countingOnly = state.withLockedValue { state -> Bool in
            state.counted += 1
            return state.countingOnly
        }
        guard !countingOnly, let handle = state.withLockedValue({ $0.handle }) else { return }
        do {
            try handle.write(contentsOf: line)
            let size = state.withLockedValue { state -> Int64 in
                state.written += 1
                state.currentBytes += Int64(line.count)
                return state.currentBytes
            }
            if size > settings.maxBytes { compact() }
        } catch {
            degrade("a write failed (\(error)); the volume is likely full (ENOSPC)")
        }
    }

    private func checkFreeSpace() {
        let free = Self.freeBytes(settings.directory)
        let degraded = state.withLockedValue { $0.countingOnly }
        if free < settings.freeSpaceFloorBytes, !degraded {
            degrade("free space \(free) bytes is below the floor of \(settings.freeSpaceFloorBytes)")
        } else if free >= settings.freeSpaceFloorBytes, degraded {
            state.withLockedValue { $0.countingOnly = false; $0.reason = nil }
            onDegrade("event log persistence resumed: free space \(free) bytes is above the floor")
        }
    }

    private func degrade(_ reason: String) {
        state.withLockedValue { $0.countingOnly = true; $0.reason = reason }
        onDegrade("event log in counting-only mode: " + reason + "; events are counted, not written; inference continues")
    }

    /// Keeps the newest `keepEvents` lines in a fresh current file; the old file becomes an archive,
    /// and the oldest archives go once they pass `archiveMaxBytes` together.
    private func compact() {
        guard let text = try? String(contentsOfFile: currentPath, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(settings.keepEvents)
        let body = Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8)
        state.withLockedValue { try? $0.handle?.close(); $0.handle = nil }
        let archive = settings.directory + "/events-\(Int64(Date().timeIntervalSince1970 * 1000)).jsonl"
        do {
            try StagingArea.rename(currentPath, to: archive)
            try body.write(to: URL(fileURLWithPath: currentPath))
        } catch {
            degrade("compaction failed (\(error))")
        }
        let handle = FileHandle(forWritingAtPath: currentPath)
        _ = try? handle?.seekToEnd()
        state.withLockedValue { $0.handle = handle; $0.currentBytes = Int64(body.count) }
        var archives = archiveFiles()
        var total = archives.map(\.bytes).reduce(0, +)
        while total > settings.archiveMaxBytes, let oldest = archives.first {
            try? FileManager.default.removeItem(atPath: oldest.path)
            total -= oldest.bytes
            archives.removeFirst()
        }
    }

    private func archiveFiles() -> [(path: String, bytes: Int64)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: settings.directory)) ?? []
        return names.filter { $0.hasPrefix("events-") && $0.hasSuffix(".jsonl") }.sorted().map { name in
            let path = settings.directory + "/" + name
            return (path, ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    static func freeBytes(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfFileSystem(forPath: path))?[.systemFreeSize] as? NSNumber)?.int64Value ?? Int64.max
    }
}
