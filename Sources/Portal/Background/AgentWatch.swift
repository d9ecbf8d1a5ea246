import Provisioner
import Scheduler
import ServiceLifecycle

/// Marks agents lost after their silence allowance and fails their instances, once a quarter
/// of the allowance (at most once a second), so a lost node is noticed within 1.25× the allowance.
struct AgentWatch: Service {
    let agents: AgentService
    let instances: InstanceService

    func run() async throws {
        let period = Duration.milliseconds(Int64(min(agents.lostAfterSeconds / 4, 1) * 1000))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let lost = await agents.markLost()
            if !lost.isEmpty {
                try? await instances.failAll(agentIDs: lost, reason: "RunnerFailed: node lost (no heartbeat for \(agents.lostAfterSeconds) s)")
            }
            try? await Task.sleep(for: period)
        }
    }
}
