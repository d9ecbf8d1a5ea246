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
        let victims = (try? await workers.run { () -> [String] in
            let victims = EvictionPlan.victims(area.entries(), inUse: inUse, keepBytes: keepBytes, only: modelId)
            for victim in victims { try? area.remove(victim) }
            return victims
        }) ?? []
        lastEviction.withLockedValue { $0 = victims }
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
