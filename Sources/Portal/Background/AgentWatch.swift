import Gateway
import Provisioner
import Scheduler
import ServiceLifecycle

/// Marks agents lost after their silence allowance (a pulsing agent's is about a second, any
/// other's the heartbeat allowance), fails their instances, and has the router drop them and fail
/// the requests in flight on them at once: a node whose link dies sends no FIN, so nothing else
/// would end those requests. It looks ten times a second; with several replicas, once a second it
/// also adopts the agents of a replica that died (`AgentService.adoptOrphans`).
struct AgentWatch: Service {
    let agents: AgentService
    let instances: InstanceService
    let router: InferenceRouter

    func run() async throws {
        let period = Duration.milliseconds(Int64(min(agents.pulseLostAfterSeconds / 4, agents.lostAfterSeconds / 4, 0.1) * 1000))
        var tick = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            tick += 1
            if tick % 10 == 0 { _ = try? await agents.adoptOrphans() }
            let lost = await agents.markLost()
            if !lost.isEmpty {
                let failed = (try? await instances.failAll(agentIDs: lost, reason: "RunnerFailed: node lost (no heartbeat or pulse within its allowance)")) ?? []
                await router.instancesLost(Set(failed))
            }
            try? await Task.sleep(for: period)
        }
    }
}
