import Core
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
    /// Finished traces, already encoded as JSON lines, not yet appended to their segment file.
    private let pending = NIOLockedValueBox([UInt8]())
    private let queue = DispatchQueue(label: "metalplane.traces")
    /// This hour's segment, kept open between batches (opening a file per batch cost more than the batch).
    /// Used on the queue only.
    private let segment = NIOLockedValueBox<(path: String, handle: FileHandle)?>(nil)

    public init(directory: String) {
        self.directory = directory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Whether new requests are traced (requests in flight keep what they started with).
    public var isEnabled: Bool {
        get { enabled.withLockedValue { $0 } }
        set { enabled.withLockedValue { $0 = newValue } }
    }

    /// Queues a finished trace, encoded here (the router calls this on its event loop once the answer
    /// is out, while the client reads it) so the queue's batch every 50 ms is a file write only and
    /// needs no second core beside the router's for long. A traced request costs no file write.
    func save(_ trace: Trace) {
        let first = pending.withLockedValue { queued -> Bool in
            let first = queued.isEmpty
            trace.appendJSONLine(to: &queued)
            return first
        }
        if first { queue.asyncAfter(deadline: .now() + .milliseconds(50)) { self.flushNow() } }
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
                guard let data = FileManager.default.contents(atPath: segment) else { continue }
                // Lines are counted as bytes for the total; only the newest `limit` are decoded.
                data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                    var end = bytes.count
                    for index in stride(from: bytes.count - 1, through: 0, by: -1) where bytes[index] == 0x0A {
                        total += 1
                        if newest.count < limit, index + 1 < end,
                           let trace = try? decoder.decode(Trace.self, from: Data(UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end]))) {
                            newest.append(Summary(taskId: trace.taskId, createdAt: trace.createdAt, modelId: trace.modelId))
                        }
                        end = index
                    }
                    if newest.count < limit, end > 0,
                       let trace = try? decoder.decode(Trace.self, from: Data(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))) {
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
            self.closeSegment()
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
        let bytes = pending.withLockedValue { queued -> [UInt8] in
            let batch = queued
            queued = []
            queued.reserveCapacity(batch.count)
            return batch
        }
        guard !bytes.isEmpty else { return }
        let path = directory + "/traces-\(Self.hour(millis: Int64(Date().timeIntervalSince1970 * 1000))).jsonl"
        segment.withLockedValue { open in
            if open?.path != path {
                try? open?.handle.close()
                open = nil
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                guard let handle = FileHandle(forWritingAtPath: path) else { return }
                open = (path, handle)
            }
            guard let handle = open?.handle else { return }
            do {
                _ = try handle.seekToEnd()
                try handle.write(contentsOf: bytes)
            } catch {
                // Removed or unwritable: the next batch opens it afresh.
                try? handle.close()
                open = nil
            }
        }
    }

    /// Closes the open segment (it is about to be removed, or the store is done). On the queue only.
    private func closeSegment() {
        segment.withLockedValue { open in
            try? open?.handle.close()
            open = nil
        }
    }

    /// Segment paths, newest first.
    private func segments() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("traces-") && $0.hasSuffix(".jsonl") }.sorted(by: >).map { directory + "/" + $0 }
    }

    /// `YYYYMMDDHH` in UTC, by arithmetic (no calendar per batch).
    static func hour(millis: Int64) -> String {
        let fields = RFC3339.fields(ofMillis: millis)
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(fields.year, 4) + padded(fields.month, 2) + padded(fields.day, 2) + padded(fields.hour, 2)
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

extension TraceStore.Trace {
    /// The trace as one line of JSON with sorted keys, as `JSONEncoder` with `.sortedKeys` writes it
    /// (absent optionals left out), written by hand: at thousands of requests a second, Foundation's
    /// encoder took CPU the router's requests were waiting for.
    func appendJSONLine(to bytes: inout [UInt8]) {
        var first = true
        func key(_ name: StaticString) {
            bytes.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            bytes.append(contentsOf: #"":"#.utf8)
        }
        func string(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
                case 0..<0x20: bytes.append(contentsOf: String(format: "\\u%04x", byte).utf8)
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        func number(_ value: Double) { bytes.append(contentsOf: (value.isFinite ? value : 0).description.utf8) }
        key("chunks"); bytes.append(contentsOf: String(chunks).utf8)
        key("createdAt"); bytes.append(contentsOf: String(createdAt).utf8)
        if let firstTokenMillis { key("firstTokenMillis"); number(firstTokenMillis) }
        if let instanceId { key("instanceId"); string(instanceId) }
        key("modelId"); string(modelId)
        key("outcome"); string(outcome)
        if let perTokenMillis { key("perTokenMillis"); number(perTokenMillis) }
        key("projectId"); string(projectId)
        key("queueMillis"); number(queueMillis)
        key("routingMillis"); number(routingMillis)
        key("streamed"); bytes.append(contentsOf: (streamed ? "true" : "false").utf8)
        key("taskId"); string(taskId)
        key("totalMillis"); number(totalMillis)
        bytes.append(contentsOf: "}\n".utf8)
    }
}
