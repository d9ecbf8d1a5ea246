import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NodeContract

/// Copies models from the store into staging: every file to a `.partial` name, resumed from where an
/// interrupted copy stopped (ranged reads), verified against the manifest's SHA-256, then renamed;
/// the manifest copy is written last. Progress (bytes, rate, ETA) is kept for the node's state and logged.
final class Stager: Sendable {
    let area: StagingArea
    let link: ControllerLink
    let workers: BlockingWorkPool
    let logger: Logger
    let events: EventLog
    /// Copies run here, owned by the agent's link service, so a copy several instances wait for
    /// outlives none of them being cancelled, and ends at shutdown.
    let work: OwnedWork

    private let progress = NIOLockedValueBox<[String: StagingStatus]>([:])
    private let inflight = NIOLockedValueBox<[String: SharedResult<String>]>([:])

    init(area: StagingArea, link: ControllerLink, workers: BlockingWorkPool, logger: Logger, events: EventLog, work: OwnedWork) {
        self.area = area
        self.link = link
        self.workers = workers
        self.logger = logger
        self.events = events
        self.work = work
    }

    /// Copies in progress or finished in this session.
    var statuses: [StagingStatus] { progress.withLockedValue { Array($0.values).sorted { $0.modelId < $1.modelId } } }

    /// The staged folder of `modelId`, copying it first if needed; concurrent callers share one copy.
    func stage(_ modelId: String, token: String) async throws -> String {
        let (shared, first) = inflight.withLockedValue { running -> (SharedResult<String>, Bool) in
            if let existing = running[modelId] { return (existing, false) }
            let shared = SharedResult<String>()
            running[modelId] = shared
            return (shared, true)
        }
        if first {
            let finish: @Sendable (Result<String, any Error>) -> Void = { [inflight] result in
                inflight.withLockedValue { $0[modelId] = nil }
                shared.fulfil(result)
            }
            let accepted = work.spawn {
                do { finish(.success(try await self.copy(modelId, token: token))) } catch { finish(.failure(error)) }
            }
            if !accepted { finish(.failure(CancellationError())) }
        }
        return try await shared.value()
    }

    private func copy(_ modelId: String, token: String) async throws -> String {
        let manifest = try await link.manifest(token: token, modelId: modelId)
        let folder = area.directory(of: modelId)
        let area = self.area
        if try await workers.run({ area.completedManifest(of: modelId) }) == manifest { return folder }
        try await workers.run { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let started = Date()
        var done: Int64 = 0
        var fetched: Int64 = 0
        var resumed: Int64 = 0
        var lastLog = Date.distantPast
        func report(final: Bool = false, error: String? = nil) {
            let elapsed = max(Date().timeIntervalSince(started), 0.001)
            let rate = Double(fetched) / elapsed
            let eta = rate > 0 ? Double(manifest.totalBytes - done) / rate : nil
            let status = StagingStatus(modelId: modelId, bytesDone: done, bytesTotal: manifest.totalBytes, resumedBytes: resumed, bytesPerSecond: rate,
                                       etaSeconds: final ? 0 : eta, done: final && error == nil, error: error)
            progress.withLockedValue { $0[modelId] = status }
            if final || Date().timeIntervalSince(lastLog) >= 2 {
                lastLog = Date()
                logger.info("staging", metadata: ["model": .string(modelId), "bytes": .stringConvertible(done), "total": .stringConvertible(manifest.totalBytes),
                                                  "MiBps": .string(String(format: "%.1f", rate / 1_048_576)),
                                                  "eta": .string(eta.map { String(format: "%.0fs", $0) } ?? "?")])
            }
        }
        report()
        do {
            for file in manifest.files {
                guard !file.path.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix(".") }), !file.path.hasPrefix("/") else {
                    throw AgentError.staging(modelId: modelId, reason: "unsafe path \(file.path) in the manifest")
                }
                let target = folder + "/" + file.path
                let sink = try await workers.run { try PartialFile(target: target, expectedBytes: file.bytes) }
                done += sink.offset
                if !sink.alreadyComplete {
                    resumed += sink.offset
                    if sink.offset < file.bytes {
                        try await link.download(token: token, modelId: modelId, path: file.path, from: sink.offset) { chunk in
                            try await self.workers.run { try sink.append(chunk) }
                            done += Int64(chunk.readableBytes)
                            fetched += Int64(chunk.readableBytes)
                            report()
                        }
                    }
                    try await workers.run { try sink.finish(expectedSHA256: file.sha256, modelId: modelId) }
                }
            }
            try await workers.run { try area.markComplete(manifest) }
            report(final: true)
            events.append(kind: "staging.complete", fields: ["model": modelId, "bytes": String(manifest.totalBytes)])
            return folder
        } catch {
            report(final: true, error: "\(error)")
            events.append(kind: "staging.failed", fields: ["model": modelId, "error": "\(error)"])
            throw error
        }
    }
}

/// One file being copied: `target.partial` appended to, hashed as it grows, renamed when it verifies.
/// Touched only from one staging copy at a time, on worker threads, one call after another.
final class PartialFile: @unchecked Sendable {
    let target: String
    let partial: String
    let offset: Int64
    let alreadyComplete: Bool
    private var handle: FileHandle?
    private let hasher = StreamingSHA256()

    init(target: String, expectedBytes: Int64) throws {
        self.target = target
        self.partial = target + ".partial"
        let manager = FileManager.default
        let partial = target + ".partial"
        try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if manager.fileExists(atPath: target), StagingArea.size(ofFile: target) == expectedBytes {
            // A renamed file was verified before its rename; a crash cannot leave a wrong one under the final name.
            offset = expectedBytes
            alreadyComplete = true
            return
        }
        alreadyComplete = false
        var existing = manager.fileExists(atPath: partial) ? StagingArea.size(ofFile: partial) : 0
        if existing > expectedBytes {
            try manager.removeItem(atPath: partial)
            existing = 0
        }
        if !manager.fileExists(atPath: partial) { _ = manager.createFile(atPath: partial, contents: nil) }
        guard let handle = FileHandle(forUpdatingAtPath: partial) else { throw AgentError.io("cannot open \(partial)") }
        // Resuming: hash what is already there, then append after it.
        let hasher = self.hasher
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { chunk.withUnsafeBytes { hasher.update($0) } }
        try handle.seekToEnd()
        self.handle = handle
        offset = existing
    }

    func append(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            hasher.update(bytes)
            try handle?.write(contentsOf: Data(bytes))
        }
    }

    func finish(expectedSHA256: String, modelId: String) throws {
        try handle?.synchronize()
        try handle?.close()
        handle = nil
        let digest = hasher.finalHex()
        guard digest == expectedSHA256.lowercased() else {
            try? FileManager.default.removeItem(atPath: partial)
            throw AgentError.staging(modelId: modelId, reason: "checksum mismatch for \((target as NSString).lastPathComponent): expected \(expectedSHA256), got \(digest)")
        }
        try StagingArea.rename(partial, to: target)
    }
}

extension StagingArea {
    static func size(ofFile path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
