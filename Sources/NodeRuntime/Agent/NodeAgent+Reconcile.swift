import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// Desired state: start the instances wanted, stop the ones no longer wanted.
extension NodeAgent {
    /// Starts instances that are wanted and not running; stops (and evicts after) those no longer wanted.
    func reconcile(_ desired: DesiredState) async {
        if let network = desired.network { await applyTenantNetwork(network) }
        let wanted = Dictionary(desired.instances.map { ($0.instanceId, $0) }, uniquingKeysWith: { $1 })
        let running = supervisors.withLockedValue { $0 }
        for (id, supervisor) in running where wanted[id] != supervisor.spec {
            supervisors.withLockedValue { $0[id] = nil }
            await supervisor.stop()
            logger.info("instance deactivated", metadata: ["instance": .string(id), "model": .string(supervisor.spec.modelId)])
            for model in supervisor.modelsInUse { await touch(model) }
            if configuration.cleanupOnDeactivate { await evict(trigger: "deactivation", keepBytes: configuration.stagingKeepRecentBytes) }
        }
        for (id, spec) in wanted where supervisors.withLockedValue({ $0[id] }) == nil && !wiping.withLockedValue({ $0 }) {
            let supervisor = RunnerSupervisor(spec: spec, context: supervisorContext())
            supervisors.withLockedValue { $0[id] = supervisor }
            supervisor.start()
            logger.info("instance starting", metadata: ["instance": .string(id), "model": .string(spec.modelId), "engine": .string(spec.engine.rawValue)])
        }
    }

    func supervisorContext() -> RunnerSupervisor.Context {
        let area = self.area
        let workers = self.workers
        return RunnerSupervisor.Context(
            configuration: configuration, stager: stager, records: records, events: events, logger: logger,
            selfExecutable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
            token: { [session] in session.withLockedValue { $0?.sessionToken } }, work: work,
            onUse: { model in workers.submit { area.touch(model, at: Int64(Date().timeIntervalSince1970 * 1000)) } })
    }

    func touch(_ model: String) async {
        let area = self.area
        _ = try? await workers.run { area.touch(model, at: Int64(Date().timeIntervalSince1970 * 1000)) }
    }
}
