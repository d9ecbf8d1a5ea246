import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Request traces of the router (a debugging aid, off by default): one JSON file per traced request
/// under `<data-dir>/traces`, written on a serial queue, pruned by the janitor after the retention.
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

    let directory: String
    private let enabled = NIOLockedValueBox(false)
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

    func save(_ trace: Trace) {
        let path = directory + "/\(trace.taskId).json"
        queue.async { try? JSONEncoder().encode(trace).write(to: URL(fileURLWithPath: path)) }
    }

    /// Runs file work on the trace queue, off Swift's cooperative pool.
    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in queue.async { continuation.resume(returning: work()) } }
    }

    /// Traces on this controller, newest first.
    public func list(limit: Int = 1000) async -> [Summary] {
        await onQueue { self.listNow(limit: limit) }
    }

    public func load(_ taskId: String) async -> Trace? {
        await onQueue { self.loadNow(taskId) }
    }

    /// Deletes traces older than `retentionSeconds`; returns how many.
    @discardableResult
    public func prune(olderThan retentionSeconds: Double) async -> Int {
        await onQueue { self.pruneNow(olderThan: retentionSeconds) }
    }

    private func listNow(limit: Int) -> [Summary] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted(by: >)
        return names.prefix(limit).compactMap { loadNow(String($0.dropLast(5))) }.map { Summary(taskId: $0.taskId, createdAt: $0.createdAt, modelId: $0.modelId) }
    }

    private func loadNow(_ taskId: String) -> Trace? {
        guard taskId.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
              let data = FileManager.default.contents(atPath: directory + "/\(taskId).json") else { return nil }
        return try? JSONDecoder().decode(Trace.self, from: data)
    }

    private func pruneNow(olderThan retentionSeconds: Double) -> Int {
        let cutoff = Date().addingTimeInterval(-retentionSeconds)
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".json") {
            let path = directory + "/" + name
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff {
                try? FileManager.default.removeItem(atPath: path)
                removed += 1
            }
        }
        return removed
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
