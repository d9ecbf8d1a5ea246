import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import Storage

/// Per-request token accounting (prompt and completion tokens per project, API key and model) for the
/// reports. Records are buffered and written in one transaction a second, one row per second's group
/// (`UsageBatch`): at router rates, a write or a row per request would make the store the bottleneck.
/// A crash loses at most the last second's records.
public final class UsageLedger: Sendable {
    public struct Record: Sendable, Equatable, Codable {
        public var projectID: String
        public var apiKeyID: String
        public var modelID: String
        public var instanceID: String?
        public var promptTokens: Int
        public var completionTokens: Int
        /// An `Outcome`'s raw value.
        public var outcome: String
        public var at: Int64
        public var durationMillis: Double

        public init(projectID: String, apiKeyID: String, modelID: String, instanceID: String?, promptTokens: Int, completionTokens: Int,
                    outcome: String, at: Int64, durationMillis: Double) {
            self.projectID = projectID
            self.apiKeyID = apiKeyID
            self.modelID = modelID
            self.instanceID = instanceID
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.outcome = outcome
            self.at = at
            self.durationMillis = durationMillis
        }
    }

    /// How a routed request ended, as stored in `usage_records.outcome`.
    public enum Outcome: String, Sendable {
        case ok
        /// The engine or its node was lost, or the engine answered an error.
        case failed
        case rejected
    }

    /// Totals per project, API key and model.
    public struct Total: Sendable, Equatable, Codable, RowDecodable {
        public var projectId: String
        public var apiKeyId: String
        public var modelId: String
        public var requests: Int64
        public var failed: Int64
        public var promptTokens: Int64
        public var completionTokens: Int64

        public init(row: Row) throws {
            projectId = try row.string("project_id")
            apiKeyId = try row.string("api_key_id")
            modelId = try row.string("model_id")
            requests = try row.int64("requests")
            failed = try row.int64("failed")
            promptTokens = try row.int64("prompt_tokens")
            completionTokens = try row.int64("completion_tokens")
        }
    }

    let database: any Database
    let logger: Logger
    private let buffer = NIOLockedValueBox<[Record]>([])

    public init(database: any Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func record(_ record: Record) { buffer.withLockedValue { $0.append(record) } }

    /// Writes what is buffered; returns how many records.
    @discardableResult
    public func flush() async -> Int {
        let records = buffer.withLockedValue { buffered -> [Record] in
            defer { buffered = [] }
            return buffered
        }
        guard !records.isEmpty else { return 0 }
        let batches = UsageBatch.grouping(records)
        do {
            try await database.write { connection in
                for batch in batches {
                    let key = batch.key
                    try connection.execute(
                        "INSERT INTO usage_records (project_id, api_key_id, model_id, instance_id, prompt_tokens, completion_tokens, outcome, at, duration_ms, requests, durations_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [.text(key.projectID), .text(key.apiKeyID), .text(key.modelID), .text(key.instanceID), .int(batch.promptTokens),
                         .int(batch.completionTokens), .text(key.outcome), .integer(key.second), .real(batch.meanMillis), .int(batch.requests),
                         .text(batch.encodedDurations)])
                }
            }
        } catch {
            logger.error("usage records not written; kept for the next flush", metadata: ["count": .stringConvertible(records.count), "error": .string("\(error)")])
            buffer.withLockedValue { $0.insert(contentsOf: records, at: 0) }
            return 0
        }
        return records.count
    }

    /// The router's own timing of an instance's answered requests that ended in `(from, to]` (ms, to the
    /// second: a row holds one second's requests): their durations in seconds, shortest first. Engines that
    /// export no latency histogram (llama-server) get their latency figures from here. Reads the store only:
    /// records still buffered (the last second's) are not seen, so callers look at a window that ended at
    /// least `flushLagMillis` ago.
    public func durations(instanceID: String, from: Int64, to: Int64) async throws -> [Double] {
        try await database.read {
            try $0.query("SELECT duration_ms, durations_us FROM usage_records WHERE instance_id = ? AND outcome = ? AND at > ? AND at <= ?",
                         [.text(instanceID), .text(UsageLedger.Outcome.ok.rawValue), .integer(from), .integer(to)])
                .flatMap { UsageBatch.durationsSeconds(encoded: try $0.optionalString("durations_us"), durationMillis: try $0.double("duration_ms")) }
                .sorted()
        }
    }

    /// The p50 and p95 of `durations` (sorted) by nearest rank: exact, never an average of averages.
    public static func nearestRank(_ durations: [Double]) -> (p50: Double, p95: Double)? {
        guard !durations.isEmpty else { return nil }
        func rank(_ quantile: Double) -> Double {
            durations[min(durations.count - 1, max(0, Int((quantile * Double(durations.count)).rounded(.up)) - 1))]
        }
        return (rank(0.5), rank(0.95))
    }

    /// How far behind the present the store's records may be: the upkeep flushes each second.
    public static let flushLagMillis: Int64 = 2000

    /// Totals of a project since `since` (ms), by API key and model.
    public func totals(projectID: String, since: Int64 = 0) async throws -> [Total] {
        await flush()
        return try await database.read {
            try $0.query(Total.self, """
                SELECT project_id, api_key_id, model_id, SUM(requests) AS requests, SUM(CASE WHEN outcome = ? THEN 0 ELSE requests END) AS failed,
                       SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens
                FROM usage_records WHERE project_id = ? AND at >= ? GROUP BY project_id, api_key_id, model_id ORDER BY model_id, api_key_id
                """, [.text(UsageLedger.Outcome.ok.rawValue), .text(projectID), .integer(since)])
        }
    }
}
