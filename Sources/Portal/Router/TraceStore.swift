import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Request traces of the router (a debugging aid, off by default): JSON lines in hourly segment
/// files under `<data-dir>/traces`, appended in batches on a serial queue, pruned by the janitor
/// after the retention a segment at a time.
public final class TraceStore: Sendable {
    /// The timing summary of one request, keyed by its task id (not the completion's response id).
    public struct Trace: Sendable, Codable, Equatable {
        public var taskId: String
        public var createdAt: Int64
        public var modelId: String
        public var projectId: String
        public var instanceId: String?
        public var streamed: Bool
        /// Received → a replica chosen (body read, authentication, routing table).
        public var queueMillis: Double
        /// Replica chosen → the engine's answer began.
        public var routingMillis: Double
        /// Received → the first chunk from the engine.
        public var firstTokenMillis: Double?
        /// Mean gap between chunks after the first (streams).
        public var perTokenMillis: Double?
        public var chunks: Int
        public var totalMillis: Double
        public var outcome: String
    }

    public struct Summary: Sendable, Codable, Equatable {
        public var taskId: String
        public var createdAt: Int64
        public var modelId: String
    }

    /// What one list call returns: the newest traces and how many are kept in all.
    public struct Listing: Sendable, Codable, Equatable {
        public var traces: [Summary]
        public var total: Int
    }

    let directory: String
    private let enabled = NIOLockedValueBox(false)
    /// Finished traces not yet appended to their segment file.
    private let pending = NIOLockedValueBox([Trace]())
    private let queue = DispatchQueue(label: "metalplane.traces")

    public init(directory: String) {
        self.directory = directory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Whether new requests are traced (requests in flight keep what they started with).
    public var isEnabled: Bool {
        get { enabled.withLockedValue { $0 } }
        set { enabled.withLockedValue { $0 = newValue } }
    }

    /// Queues a finished trace; the queue appends a batch every 200 ms, so a traced request costs
    /// a lock and an array append, not a file write.
    func save(_ trace: Trace) {
        let first = pending.withLockedValue { queued -> Bool in
            queued.append(trace)
            return queued.count == 1
        }
        if first { queue.asyncAfter(deadline: .now() + .milliseconds(200)) { self.flushNow() } }
    }

    /// Runs file work on the trace queue, off Swift's cooperative pool.
    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in queue.async { continuation.resume(returning: work()) } }
    }

    /// The newest traces on this controller, and how many it keeps.
    public func list(limit: Int = 1000) async -> Listing {
        await onQueue {
            self.flushNow()
            var newest: [Summary] = []
            var total = 0
            let decoder = JSONDecoder()
            for segment in self.segments() {
                // Lines are counted for the total; only the newest `limit` are decoded.
                let lines = ((try? String(contentsOfFile: segment, encoding: .utf8)) ?? "").split(separator: "\n")
                total += lines.count
                for line in lines.reversed() where newest.count < limit {
                    if let trace = try? decoder.decode(Trace.self, from: Data(line.utf8)) {
                        newest.append(Summary(taskId: trace.taskId, createdAt: trace.createdAt, modelId: trace.modelId))
                    }
                }
            }
            return Listing(traces: newest, total: total)
        }
    }

    public func load(_ taskId: String) async -> Trace? {
        guard taskId.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return await onQueue {
            self.flushNow()
            let needle = "\"taskId\":\"\(taskId)\""
            for segment in self.segments() {
                guard let text = try? String(contentsOfFile: segment, encoding: .utf8), text.contains(needle) else { continue }
                for line in text.split(separator: "\n") where line.contains(needle) {
                    return try? JSONDecoder().decode(Trace.self, from: Data(line.utf8))
                }
            }
            return nil
        }
    }

    /// Deletes the hourly segments last written before `retentionSeconds` ago; returns how many traces went.
    @discardableResult
    public func prune(olderThan retentionSeconds: Double) async -> Int {
        await onQueue {
            self.flushNow()
            let cutoff = Date().addingTimeInterval(-retentionSeconds)
            var removed = 0
            for segment in self.segments() {
                if let modified = (try? FileManager.default.attributesOfItem(atPath: segment))?[.modificationDate] as? Date, modified < cutoff {
                    removed += ((try? String(contentsOfFile: segment, encoding: .utf8)) ?? "").split(separator: "\n").count
                    try? FileManager.default.removeItem(atPath: segment)
                }
            }
            return removed
        }
    }

    /// Appends what is pending to this hour's segment (`traces-YYYYMMDDHH.jsonl`). On the queue only.
    private func flushNow() {
        let batch = pending.withLockedValue { queued -> [Trace] in
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
        guard !batch.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var data = Data()
        for trace in batch {
            guard let line = try? encoder.encode(trace) else { continue }
            data.append(line)
            data.append(0x0A)
        }
        let path = directory + "/traces-\(Self.hour(Date())).jsonl"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: data)
    }

    /// Segment paths, newest first.
    private func segments() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("traces-") && $0.hasSuffix(".jsonl") }.sorted(by: >).map { directory + "/" + $0 }
    }

    private static func hour(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour], from: date)
        return String(format: "%04d%02d%02d%02d", parts.year!, parts.month!, parts.day!, parts.hour!)
    }
}

/// The timings of one request being traced; used by one request at a time, step after step.
final class RequestTrace: @unchecked Sendable {
    let store: TraceStore
    let taskID: String
    let model: String
    let project: String
    let streamed: Bool
    let received: ContinuousClock.Instant
    let createdAt = Int64(Date().timeIntervalSince1970 * 1000)
    var routed: ContinuousClock.Instant?
    var answered: ContinuousClock.Instant?
    var firstChunk: ContinuousClock.Instant?
    var lastChunk: ContinuousClock.Instant?
    var chunks = 0
    var instance: String?

    init(store: TraceStore, taskID: String, model: String, project: String, streamed: Bool, received: ContinuousClock.Instant) {
        self.store = store
        self.taskID = taskID
        self.model = model
        self.project = project
        self.streamed = streamed
        self.received = received
    }

    func chunk() {
        let now = ContinuousClock.now
        if firstChunk == nil { firstChunk = now }
        lastChunk = now
        chunks += 1
    }

    func finish(outcome: String) {
        func millis(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant?) -> Double? {
            guard let to else { return nil }
            let elapsed = to - from
            return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        }
        let end = ContinuousClock.now
        let perToken: Double? = {
            guard chunks > 1, let first = firstChunk, let last = lastChunk else { return nil }
            return (millis(first, last) ?? 0) / Double(chunks - 1)
        }()
        store.save(.init(taskId: taskID, createdAt: createdAt, modelId: model, projectId: project, instanceId: instance, streamed: streamed,
                         queueMillis: millis(received, routed) ?? 0, routingMillis: routed.flatMap { millis($0, answered) } ?? 0,
                         firstTokenMillis: millis(received, firstChunk ?? answered), perTokenMillis: perToken, chunks: chunks,
                         totalMillis: millis(received, end) ?? 0, outcome: outcome))
    }
}
