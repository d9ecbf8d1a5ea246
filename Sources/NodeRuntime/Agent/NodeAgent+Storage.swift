import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// Staged models: what is in use, eviction, the storage picture.
extension NodeAgent {
    /// Models in use now: every instance's model and its companions (never evicted from under a runner).
    var modelsInUse: Set<String> {
        Set(supervisors.withLockedValue { Array($0.values) }.flatMap(\.modelsInUse))
    }

    /// The one eviction mechanism: `trigger` is deactivation, startup or purge.
    @discardableResult
    func evict(trigger: String, keepBytes: Int64, only modelId: String? = nil) async -> [String] {
        let inUse = modelsInUse
        let area = self.area
        let removed = (try? await workers.run { () -> [(String, Int64)] in
            let entries = area.entries()
            let victims = EvictionPlan.victims(entries, inUse: inUse, keepBytes: keepBytes, only: modelId)
            for victim in victims { try? area.remove(victim) }
            return victims.map { victim in (victim, entries.first { $0.modelId == victim }?.bytes ?? 0) }
        }) ?? []
        let victims = removed.map(\.0)
        lastEviction.withLockedValue { $0 = victims }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // Bounded: a controller out of reach for long does not grow the agent's memory without limit.
        pendingEvictions.withLockedValue { pending in
            pending += removed.map { StagingEviction(modelId: $0.0, trigger: trigger, bytes: $0.1, at: now) }
            if pending.count > 1000 { pending.removeFirst(pending.count - 1000) }
        }
        for victim in victims {
            events.append(kind: "staging.evicted", fields: ["model": victim, "trigger": trigger])
            logger.info("staged copy evicted", metadata: ["model": .string(victim), "trigger": .string(trigger)])
        }
        return victims
    }

    /// The node's storage picture for `GET /store/storage`.
    func storage() async throws -> StorageSummary {
        let inUse = modelsInUse
        let area = self.area
        let eventStats = events.stats
        return try await workers.run {
            StorageSummary(models: area.entries().map { .init(modelId: $0.modelId, bytes: $0.bytes, lastUsedAt: $0.lastUsedAt, inUse: inUse.contains($0.modelId)) },
                           eventLogBytes: eventStats.bytes, eventLogCountingOnly: eventStats.countingOnly, freeBytes: area.freeBytes())
        }
    }
}
