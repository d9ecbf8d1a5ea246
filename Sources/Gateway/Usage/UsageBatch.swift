/// The requests of one second that share project, API key, model, instance and outcome: one row of
/// `usage_records`. At thousands of requests a second, a row per request made the ledger's flush
/// the store's busiest write (about 15 ms of one core each second, felt as the router's p99); a row
/// per group is one insert. Each request's duration is kept, so latency quantiles stay exact.
struct UsageBatch: Equatable {
    struct Key: Hashable {
        var projectID: String
        var apiKeyID: String
        var modelID: String
        var instanceID: String?
        var outcome: String
        /// The start of the records' second (ms since 1970).
        var second: Int64
    }

    var key: Key
    var requests = 0
    var promptTokens = 0
    var completionTokens = 0
    /// Each request's duration in whole microseconds, in the order they ended.
    var durationsMicros: [Int64] = []

    /// The records grouped by key, in the order each group first appeared.
    static func grouping(_ records: [UsageLedger.Record]) -> [UsageBatch] {
        var index: [Key: Int] = [:]
        var batches: [UsageBatch] = []
        for record in records {
            let key = Key(projectID: record.projectID, apiKeyID: record.apiKeyID, modelID: record.modelID, instanceID: record.instanceID,
                          outcome: record.outcome, second: record.at - record.at % 1000)
            let position: Int
            if let known = index[key] {
                position = known
            } else {
                position = batches.count
                index[key] = position
                batches.append(UsageBatch(key: key))
            }
            batches[position].requests += 1
            batches[position].promptTokens += record.promptTokens
            batches[position].completionTokens += record.completionTokens
            batches[position].durationsMicros.append(Int64((record.durationMillis * 1000).rounded()))
        }
        return batches
    }

    /// The mean duration (ms), kept in `duration_ms` for readers of the table.
    var meanMillis: Double {
        durationsMicros.isEmpty ? 0 : Double(durationsMicros.reduce(0, +)) / Double(durationsMicros.count) / 1000
    }

    /// `durations_us`: the durations as comma-separated decimal microseconds.
    var encodedDurations: String {
        var text = ""
        text.reserveCapacity(durationsMicros.count * 6)
        for (position, micros) in durationsMicros.enumerated() {
            if position > 0 { text.append(",") }
            text.append(String(micros))
        }
        return text
    }

    /// The durations (seconds) of a stored row: its list when it has one, else its one request's `duration_ms`.
    static func durationsSeconds(encoded: String?, durationMillis: Double) -> [Double] {
        guard let encoded, !encoded.isEmpty else { return [durationMillis / 1000] }
        return encoded.utf8.split(separator: UInt8(ascii: ",")).compactMap { digits -> Double? in
            var value: Int64 = 0
            for digit in digits {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                value = value &* 10 &+ Int64(digit - UInt8(ascii: "0"))
            }
            return Double(value) / 1_000_000
        }
    }
}
